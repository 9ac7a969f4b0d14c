//! `spec.crdProviders` of the policy: which Helm chart, Flux Kustomization or Argo CD
//! Application installs the CRDs of which API groups, beyond what eksgate knows (the Karpenter
//! charts, EKS Auto Mode's built-in kinds, and CRD files in the run).
//!
//! ```yaml
//! spec:
//!   crdProviders:
//!     - name: cert-manager           # a chart, Kustomization or Application name
//!       groups: [cert-manager.io, acme.cert-manager.io]
//! ```

/// One entry of `spec.crdProviders`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrdProvider {
    /// A Helm chart name (a Flux HelmRelease's chart, an Argo CD Application's `source.chart`),
    /// or the name of a Flux Kustomization or Argo CD Application.
    pub name: String,
    /// The API groups whose CRDs it installs.
    pub groups: Vec<String>,
}

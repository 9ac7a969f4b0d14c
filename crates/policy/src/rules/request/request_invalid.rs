use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A ClusterRequest cannot be rendered: a field is missing, mistyped or malformed.
    ///
    /// ## Why
    /// A `ClusterRequest` (`eksgate.dev/v1alpha1`) is what the self-service form produces and
    /// `eksgate render` turns into node classes, NodePools, `terraform.tfvars.json` and a
    /// DeployPlan. Names become Kubernetes names and label values (`clientName`, pool names:
    /// DNS labels, short enough for `<clientName>-<pool>` to stay within 63 characters), the
    /// region and Kubernetes version go to Terraform, and limits become NodePool `limits`; a
    /// request where one of them is wrong cannot be rendered at all. Each problem is reported
    /// at its field, all of them at once after the document could be read (a missing or
    /// mistyped field stops the reading, so it comes alone).
    ///
    /// What the policy decides is not this rule's: a Spot-only infrastructure pool is SEP003,
    /// a billing tag value the policy refuses is TAG002, a hop limit above the policy's is
    /// IMDS002, each reported on the request's field by the policy's own rule. On a request,
    /// SEP003 is an error (the request names the capacity types, so one the policy forbids
    /// refuses the render) unless the policy sets its severity in `spec.overrides`.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: ClusterRequest
    /// metadata: {name: acme-prod}
    /// spec:
    ///   clientName: Acme_Corp
    ///   environment: prod
    ///   region: us-east-1
    ///   kubernetesVersion: "1.33"
    ///   infraPool:
    ///     limits: {cpu: 32, memory: 128Gi}
    ///   clientPools:
    ///     - name: web
    ///       limits: {cpu: 64, memory: 256Gi}
    ///   billing: {costCentre: client-projects, team: development, clientId: acme}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: ClusterRequest
    /// metadata: {name: acme-prod}
    /// spec:
    ///   clientName: acme
    ///   environment: prod
    ///   region: us-east-1
    ///   kubernetesVersion: "1.33"
    ///   infraPool:
    ///     limits: {cpu: 32, memory: 128Gi}
    ///   clientPools:
    ///     - name: web
    ///       limits: {cpu: 64, memory: 256Gi}
    ///   billing: {costCentre: client-projects, team: development, clientId: acme}
    /// ```
    pub RequestInvalid { id: "REQ001", name: "cluster-request-invalid", severity: Error }
}

/// Reported by the engine, which reads every `ClusterRequest` of a run (`crate::generate`).
impl Rule for RequestInvalid {}

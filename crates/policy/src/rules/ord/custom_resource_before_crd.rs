use crate::model::repo::ProviderSource;
use crate::model::repo::ordering::{self, FluxOrder};
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A Flux Kustomization applies a custom resource without waiting for the Kustomization that installs its CRD.
    ///
    /// ## Why
    /// kustomize-controller dry-runs every object of a Kustomization before applying it. An
    /// object whose CRD does not exist yet fails that dry run, and with it the whole
    /// Kustomization:
    ///
    /// ```text
    /// EC2NodeClass/default dry-run failed: no matches for kind "EC2NodeClass" in version "karpenter.k8s.aws/v1"
    /// ```
    ///
    /// A HelmRelease next to the object does not help: the Kustomization applies the
    /// HelmRelease *object*, and helm-controller installs the chart (and its CRDs) later, so the
    /// first reconciliation of a new cluster fails (fluxcd/flux2#562, discussion #1622). CRDs
    /// in the same Kustomization are fine: they are applied first and waited for (fluxcd/pkg
    /// `ssa` `ApplyAllStaged`). The fix is the layout of
    /// [fluxcd/flux2-kustomize-helm-example](https://github.com/fluxcd/flux2-kustomize-helm-example):
    /// controllers (the HelmReleases) in one Kustomization with `wait: true`, the custom
    /// resources in another that `dependsOn` it, the apps after both.
    ///
    /// eksgate knows who installs which CRDs: the Karpenter charts `karpenter` (its `crds/`,
    /// unless `install.crds: Skip`) and `karpenter-crd` (`karpenter.sh`, `karpenter.k8s.aws`);
    /// `CustomResourceDefinition` files in the checked set; and `spec.crdProviders` of the
    /// policy (chart, Kustomization or Application name -> API groups) for cert-manager, Istio,
    /// the Prometheus Operator and the rest. EKS Auto Mode's kinds (`eks.amazonaws.com`, and
    /// NodePools of an Auto Mode NodeClass) exist with the cluster. An object whose CRD comes
    /// from none of these is not judged. Which Kustomization applies which file follows Flux:
    /// `spec.path` of the source, the `kustomization.yaml` there or the one Flux generates for
    /// a directory without one, `dependsOn` in the Kustomization's namespace by default
    /// ([kustomizations.md](https://fluxcd.io/flux/components/kustomize/kustomizations/):
    /// Path, Dependencies, Generating a kustomization.yaml file).
    ///
    /// The finding points at the object's `kind` and names the Kustomization that installs the
    /// CRD. When that Kustomization does depend on it but does not wait, see `ORD002`.
    ///
    /// ## Example
    /// The seed layout: the root `flux-system` Kustomization applies everything under
    /// `clusters/prod`, the Karpenter HelmRelease and an EC2NodeClass alike.
    /// ```yaml,fail
    /// # file: clusters/prod/flux-system/gotk-sync.yaml
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: flux-system, namespace: flux-system}
    /// spec:
    ///   interval: 10m
    ///   path: ./clusters/prod
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    /// # file: clusters/prod/karpenter.yaml
    /// apiVersion: helm.toolkit.fluxcd.io/v2
    /// kind: HelmRelease
    /// metadata: {name: karpenter, namespace: kube-system}
    /// spec:
    ///   interval: 1h
    ///   chart:
    ///     spec:
    ///       chart: karpenter
    ///       sourceRef: {kind: HelmRepository, name: karpenter}
    /// # file: clusters/prod/nodeclass.yaml
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata: {name: default}
    /// spec:
    ///   role: KarpenterNodeRole-prod
    /// ```
    /// Use instead: the HelmRelease in `infrastructure/controllers`, applied by a Kustomization
    /// with `wait: true`; the EC2NodeClass in `infrastructure/configs`, applied by one that
    /// `dependsOn` it.
    /// ```yaml,pass
    /// # file: clusters/prod/infrastructure.yaml
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-controllers, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./infrastructure/controllers
    ///   prune: true
    ///   wait: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    /// ---
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-configs, namespace: flux-system}
    /// spec:
    ///   dependsOn:
    ///     - name: infra-controllers
    ///   interval: 1h
    ///   path: ./infrastructure/configs
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    /// # file: infrastructure/controllers/karpenter.yaml
    /// apiVersion: helm.toolkit.fluxcd.io/v2
    /// kind: HelmRelease
    /// metadata: {name: karpenter, namespace: kube-system}
    /// spec:
    ///   interval: 1h
    ///   chart:
    ///     spec:
    ///       chart: karpenter
    ///       sourceRef: {kind: HelmRepository, name: karpenter}
    /// # file: infrastructure/configs/nodeclass.yaml
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata: {name: default}
    /// spec:
    ///   role: KarpenterNodeRole-prod
    /// ```
    pub CustomResourceBeforeCrd { id: "ORD001", name: "custom-resource-before-crd", severity: Error }
}

impl Rule for CustomResourceBeforeCrd {
    // Apply order is a property of the repository.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let Some(repo) = cx.repository() else { return };
        for order in ordering::flux(repo) {
            let FluxOrder::Unordered {
                object,
                applier,
                providers,
            } = order
            else {
                continue;
            };
            let (Some(o), Some(a), Some(subject)) = (
                repo.object(object),
                repo.appliers.get(applier),
                repo.subject(object),
            ) else {
                continue;
            };
            let Some(provider) = providers.iter().find_map(|&p| repo.providers.get(p)) else {
                continue;
            };
            let what = repo.provider_display(provider);
            let this = format!("`{}` `{}`", o.kind, o.name.as_deref().unwrap_or("?"));
            // The Kustomization that applies the provider, in this cluster.
            let via = provider
                .appliers
                .iter()
                .filter_map(|&x| Some((x, repo.appliers.get(x)?)))
                .find(|(_, x)| x.scope == a.scope);
            let (message, help) = match via {
                Some((x, _)) if x == applier => (
                    format!(
                        "{this} is applied by Kustomization `{}` together with {what}, which installs its CRD only later",
                        repo.label(applier)
                    ),
                    format!(
                        "apply {what} from a Kustomization of its own with `wait: true`, and {this} from one that `dependsOn` it (controllers, then configs, as in fluxcd/flux2-kustomize-helm-example)"
                    ),
                ),
                Some((via_index, via)) => {
                    // CRD files are established before their Kustomization is Ready.
                    let wait = if matches!(provider.source, ProviderSource::Crd(_)) {
                        String::new()
                    } else {
                        format!(", and `wait: true` to `{}`", via.name)
                    };
                    (
                        format!(
                            "{this} is applied by Kustomization `{}`, which does not depend on Kustomization `{}` that installs its CRD ({what})",
                            repo.label(applier),
                            repo.label(via_index)
                        ),
                        format!(
                            "add `dependsOn: [{{name: {}{}}}]` to Kustomization `{}` (or depend on a Kustomization that depends on it){wait}",
                            via.name,
                            namespace_part(a.namespace.as_deref(), via.namespace.as_deref()),
                            a.name,
                        ),
                    )
                }
                None => continue,
            };
            out.report_at(subject, o.anchor, o.anchor_pointer.clone(), message)
                .help(help);
        }
    }
}

/// `, namespace: X` when the dependency lives in another namespace than the dependent.
fn namespace_part(dependent: Option<&str>, dependency: Option<&str>) -> String {
    match (dependent, dependency) {
        (Some(a), Some(b)) if a != b => format!(", namespace: {b}"),
        (None, Some(b)) => format!(", namespace: {b}"),
        _ => String::new(),
    }
}

use std::collections::BTreeMap;

use crate::model::repo::ProviderSource;
use crate::model::repo::ordering::{self, FluxOrder};
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A Flux Kustomization depends on the one that installs a CRD it needs, but that one does not wait for the CRD.
    ///
    /// ## Why
    /// `dependsOn` holds a Kustomization back until its dependencies are `Ready`. Without
    /// `wait: true` or `healthChecks`, a Kustomization is `Ready` as soon as its objects are
    /// applied: for a HelmRelease that means the HelmRelease object exists, not that
    /// helm-controller has installed the chart and its CRDs. The dependent then applies its
    /// custom resources into a cluster that does not know their kind yet, and fails its dry run
    /// just as without the dependency (`ORD001`). "If `.spec.healthChecks` is non-empty or
    /// `.spec.wait` is set to `true`, a Kustomization will be applied after all its
    /// dependencies' health checks have passed"
    /// ([kustomizations.md](https://fluxcd.io/flux/components/kustomize/kustomizations/#dependencies));
    /// `wait: true` checks the health of every object it applies, a HelmRelease included, and
    /// makes `healthChecks` redundant (`#wait`).
    ///
    /// The provider's Kustomization waits when it has `wait: true`, or a health check of the
    /// HelmRelease (or of the CustomResourceDefinition). Kustomizations that apply CRD files
    /// need neither: kustomize-controller applies CRDs first and waits until they are
    /// established. The finding points at the `dependsOn` entry through which the dependency
    /// is reached.
    ///
    /// ## Example
    /// ```yaml,fail
    /// # file: clusters/prod/infrastructure.yaml
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-controllers, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./infrastructure/controllers
    ///   prune: true
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
    /// Use instead (on `infra-controllers`; `healthChecks` of the HelmRelease work too):
    /// ```yaml,pass
    /// # file: clusters/prod/infrastructure.yaml
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-controllers, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./infrastructure/controllers
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    ///   healthChecks:
    ///     - apiVersion: helm.toolkit.fluxcd.io/v2
    ///       kind: HelmRelease
    ///       name: karpenter
    ///       namespace: kube-system
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
    pub CrdDependencyNotAwaited { id: "ORD002", name: "crd-dependency-not-awaited", severity: Error }
}

impl Rule for CrdDependencyNotAwaited {
    // Apply order is a property of the repository.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let Some(repo) = cx.repository() else { return };
        // One finding per dependsOn entry and provider, naming the first object and a count.
        let mut grouped: BTreeMap<(usize, usize, usize, usize), Vec<_>> = BTreeMap::new();
        for order in ordering::flux(repo) {
            if let FluxOrder::NotAwaited {
                object,
                applier,
                entry,
                via,
                provider,
            } = order
            {
                grouped
                    .entry((applier, entry, via, provider))
                    .or_default()
                    .push(object);
            }
        }
        for ((applier, entry, via, provider), objects) in grouped {
            let (Some(a), Some(k), Some(v), Some(p)) = (
                repo.appliers.get(applier),
                repo.flux(applier),
                repo.appliers.get(via),
                repo.providers.get(provider),
            ) else {
                continue;
            };
            let (Some(dep), Some(subject), Some(first)) = (
                k.depends_on.get(entry),
                repo.subject(a.id),
                objects.first().and_then(|&o| repo.object(o)),
            ) else {
                continue;
            };
            let what = repo.provider_display(p);
            let more = match objects.len() {
                1 => String::new(),
                2 => " (and 1 more object)".to_string(),
                n => format!(" (and {} more objects)", n - 1),
            };
            let through = if dep.name == v.name {
                String::new()
            } else {
                format!(" (through `{}`)", dep.name)
            };
            let message = format!(
                "Kustomization `{}` depends on `{}`{through}, which is `Ready` before {what} has installed the CRD of `{}` `{}`{more}",
                repo.label(applier),
                repo.label(via),
                first.kind,
                first.name.as_deref().unwrap_or("?"),
            );
            let hr_name = match &p.source {
                ProviderSource::HelmRelease { id, .. } => repo
                    .object(*id)
                    .and_then(|o| o.name.clone())
                    .unwrap_or_default(),
                ProviderSource::Crd(_) | ProviderSource::Applier(_) => String::new(),
            };
            out.report_at(subject, dep.span, dep.pointer.clone(), message)
                .help(format!(
                    "set `wait: true` on Kustomization `{}` (or add a `healthChecks` entry for HelmRelease `{hr_name}`): without it, `Ready` means the HelmRelease object was applied, not that its chart is installed",
                    v.name
                ));
        }
    }
}

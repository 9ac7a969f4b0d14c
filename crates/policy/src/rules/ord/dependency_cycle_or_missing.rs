use crate::diagnostic::Severity;
use crate::model::repo::{ApplierKind, Repository};
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A Flux Kustomization's `dependsOn` forms a cycle, or names a Kustomization that is not in the checked files.
    ///
    /// ## Why
    /// A Kustomization is applied only after every Kustomization in its `dependsOn` is `Ready`
    /// (kustomize-controller `checkDependencies`). In a cycle none of them ever is: "Circular
    /// dependencies between Kustomizations must be avoided, otherwise the interdependent
    /// Kustomizations will never be applied on the cluster"
    /// ([kustomizations.md](https://fluxcd.io/flux/components/kustomize/kustomizations/#dependencies)).
    /// A cycle is an error.
    ///
    /// A dependency that does not exist stops the dependent the same way
    /// (`dependency 'flux-system/infra' not found`). `dependsOn` entries name a Kustomization
    /// in the dependent's own namespace unless they give `namespace`, which is the usual slip
    /// when Kustomizations move between namespaces. Since the dependency may be defined in
    /// files that were not checked, a missing one is a warning.
    ///
    /// In a repository with several clusters (`clusters/staging`, `clusters/production`), a
    /// dependency is looked up first among the Kustomizations of the same cluster.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-configs, namespace: flux-system}
    /// spec:
    ///   dependsOn:
    ///     - name: apps
    ///   interval: 1h
    ///   path: ./infrastructure/configs
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    /// ---
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: apps, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./apps/production
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    ///   dependsOn:
    ///     - name: infra-configs
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: infra-configs, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./infrastructure/configs
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    /// ---
    /// apiVersion: kustomize.toolkit.fluxcd.io/v1
    /// kind: Kustomization
    /// metadata: {name: apps, namespace: flux-system}
    /// spec:
    ///   interval: 1h
    ///   path: ./apps/production
    ///   prune: true
    ///   sourceRef: {kind: GitRepository, name: flux-system}
    ///   dependsOn:
    ///     - name: infra-configs
    /// ```
    pub DependencyCycleOrMissing { id: "ORD003", name: "dependency-cycle-or-missing", severity: Error }
}

impl Rule for DependencyCycleOrMissing {
    // Apply order is a property of the repository.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let Some(repo) = cx.repository() else { return };
        for (a, applier) in repo.appliers.iter().enumerate() {
            if applier.kind != ApplierKind::Flux {
                continue;
            }
            let (Some(k), Some(subject)) = (repo.flux(a), repo.subject(applier.id)) else {
                continue;
            };
            // A cycle is reported at most once per Kustomization, at its first entry.
            let mut cycle_reported = false;
            for (entry, targets) in applier.depends_on.iter().enumerate() {
                let Some(dep) = k.depends_on.get(entry) else {
                    continue;
                };
                let wanted = match dep.namespace.as_deref().or(applier.namespace.as_deref()) {
                    Some(ns) => format!("{ns}/{}", dep.name),
                    None => dep.name.clone(),
                };
                if targets.is_empty() {
                    out.report_at(
                        subject,
                        dep.span,
                        dep.pointer.clone(),
                        format!(
                            "Kustomization `{}` depends on `{wanted}`, which is not in the checked files",
                            repo.label(a)
                        ),
                    )
                    .severity(Severity::Warning)
                    .help(
                        "check the name and the namespace (it defaults to the dependent's own); if the Kustomization is defined elsewhere, check those files too",
                    );
                    continue;
                }
                if cycle_reported {
                    continue;
                }
                if let Some(path) = targets.iter().find_map(|&t| path_back(repo, t, a)) {
                    cycle_reported = true;
                    // One finding per cycle: at the member that comes first in the run.
                    if path.iter().any(|&x| x < a) {
                        continue;
                    }
                    let mut names = vec![format!("`{}`", applier.name)];
                    names
                        .extend(path.iter().filter_map(|&x| {
                            repo.appliers.get(x).map(|x| format!("`{}`", x.name))
                        }));
                    out.report_at(
                        subject,
                        dep.span,
                        dep.pointer.clone(),
                        format!(
                            "Kustomization `{}` is in a `dependsOn` cycle: {}; none of them is ever applied",
                            repo.label(a),
                            names.join(" -> ")
                        ),
                    )
                    .help("remove one of the dependencies of the cycle");
                }
            }
        }
    }
}

/// A `dependsOn` path from `from` to `to` (ending with `to`), if there is one.
fn path_back(repo: &Repository, from: usize, to: usize) -> Option<Vec<usize>> {
    let n = repo.appliers.len();
    let mut previous: Vec<Option<usize>> = vec![None; n];
    let mut seen = vec![false; n];
    let mut queue = vec![from];
    if let Some(s) = seen.get_mut(from) {
        *s = true;
    }
    let mut head = 0;
    while let Some(&x) = queue.get(head) {
        head += 1;
        if x == to {
            let mut path = vec![x];
            let mut at = x;
            while let Some(p) = previous.get(at).copied().flatten() {
                path.push(p);
                at = p;
            }
            path.reverse();
            return Some(path);
        }
        for targets in repo
            .appliers
            .get(x)
            .map(|a| a.depends_on.as_slice())
            .unwrap_or(&[])
        {
            for &t in targets {
                if let Some(s) = seen.get_mut(t)
                    && !*s
                {
                    *s = true;
                    if let Some(p) = previous.get_mut(t) {
                        *p = Some(x);
                    }
                    queue.push(t);
                }
            }
        }
    }
    None
}

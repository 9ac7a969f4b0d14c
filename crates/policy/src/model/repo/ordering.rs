//! Whether each custom resource is applied after its CRD exists: the judgement the ordering
//! rules word (`ORD001`/`ORD002` for Flux, `ORD004` for Argo CD).
//!
//! An object needs nothing when its kind exists with the cluster (EKS Auto Mode), when nothing
//! in its applier's scope installs its CRD (the CRD comes from elsewhere: eksgate cannot tell),
//! or when its applier holds the CRD itself. Otherwise one provider must come first:
//! - Flux: the applier depends (transitively) on a Kustomization that applies the provider and
//!   whose `Ready` means installed: CRD files always (applied and established first), a
//!   HelmRelease only with `wait: true` or a health check of it. A provider applied by the
//!   Kustomization that applies this one (its owner chain) came first too, when it is a CRD.
//! - Argo CD: the Application that brings the CRD is synced in an earlier wave (under the
//!   nearest common app-of-apps parent), or is a parent; `SkipDryRunOnMissingResource=true`
//!   on the object or its Application lets the sync wait for the CRD instead.

use std::collections::BTreeSet;

use super::{ApplierKind, ObjectId, ProviderSource, Repository};

/// A Flux ordering problem of one object in one Kustomization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FluxOrder {
    /// `ORD001`: no provider comes first. `providers` are the providers in scope.
    Unordered {
        object: ObjectId,
        applier: usize,
        providers: Vec<usize>,
    },
    /// `ORD002`: a provider's Kustomization comes first but is `Ready` before the CRD exists.
    NotAwaited {
        object: ObjectId,
        applier: usize,
        /// The `dependsOn` entry of `applier` through which `via` is reached.
        entry: usize,
        /// The Kustomization that applies the provider.
        via: usize,
        provider: usize,
    },
}

/// An Argo CD ordering problem (`ORD004`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgoOrder {
    pub object: ObjectId,
    pub applier: usize,
    /// The providers in scope, each with the Application that brings it.
    pub providers: Vec<(usize, usize)>,
}

/// The objects of a kind with a CRD that `applier` applies, each with the providers of that
/// CRD in the applier's scope; none when the applier holds the CRD or an owner applied it.
fn needs(repo: &Repository, applier: usize) -> Vec<(ObjectId, Vec<usize>)> {
    let Some(a) = repo.appliers.get(applier) else {
        return Vec::new();
    };
    let ancestors = owner_chain(repo, applier);
    let mut out = Vec::new();
    for &(pos, _) in &a.files {
        let Some(file) = repo.files.get(pos) else {
            continue;
        };
        for (i, object) in file.objects.iter().enumerate() {
            if object.is_kustomize_config()
                || matches!(object.role, super::Role::Crd { .. })
                || Repository::is_builtin(object)
            {
                continue;
            }
            let in_scope: Vec<usize> = repo
                .providers_for(object)
                .into_iter()
                .filter(|&p| {
                    repo.providers.get(p).is_some_and(|p| {
                        p.appliers.iter().any(|&x| {
                            repo.appliers
                                .get(x)
                                .is_some_and(|x| x.scope == a.scope && x.kind == a.kind)
                        })
                    })
                })
                .collect();
            if in_scope.is_empty() {
                continue;
            }
            let held = in_scope.iter().any(|&p| {
                repo.providers.get(p).is_some_and(|p| {
                    let crd = matches!(p.source, ProviderSource::Crd(_));
                    let named_self = p.source == ProviderSource::Applier(applier);
                    let from_owner = p.appliers.iter().any(|x| ancestors.contains(x))
                        && (crd || matches!(p.source, ProviderSource::Applier(_)));
                    (crd && p.appliers.contains(&applier)) || named_self || from_owner
                })
            });
            if !held {
                out.push((
                    ObjectId {
                        file: pos,
                        object: i,
                    },
                    in_scope,
                ));
            }
        }
    }
    out
}

/// The appliers that apply `applier` itself, and theirs, up to the root.
fn owner_chain(repo: &Repository, applier: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut queue = vec![applier];
    while let Some(x) = queue.pop() {
        for &o in repo
            .appliers
            .get(x)
            .map(|a| a.owners.as_slice())
            .unwrap_or(&[])
        {
            if o != applier && out.insert(o) {
                queue.push(o);
            }
        }
    }
    out
}

/// Every Flux ordering problem of the run.
#[must_use]
pub fn flux(repo: &Repository) -> Vec<FluxOrder> {
    let mut out = Vec::new();
    for (applier, a) in repo.appliers.iter().enumerate() {
        if a.kind != ApplierKind::Flux || repo.flux(applier).is_none_or(|k| k.remote) {
            continue;
        }
        let needed = needs(repo, applier);
        if needed.is_empty() {
            continue;
        }
        let deps = repo.dependencies(applier);
        for (object, providers) in needed {
            let mut not_awaited = None;
            let mut satisfied = false;
            for &p in &providers {
                let Some(provider) = repo.providers.get(p) else {
                    continue;
                };
                for (&via, &entry) in &deps {
                    if !provider.appliers.contains(&via) {
                        continue;
                    }
                    if repo.waits_for(via, provider) {
                        satisfied = true;
                    } else if not_awaited.is_none() {
                        not_awaited = Some((entry, via, p));
                    }
                }
            }
            if satisfied {
                continue;
            }
            out.push(match not_awaited {
                Some((entry, via, provider)) => FluxOrder::NotAwaited {
                    object,
                    applier,
                    entry,
                    via,
                    provider,
                },
                None => FluxOrder::Unordered {
                    object,
                    applier,
                    providers,
                },
            });
        }
    }
    out
}

/// Every Argo CD ordering problem of the run.
#[must_use]
pub fn argo(repo: &Repository) -> Vec<ArgoOrder> {
    let mut out = Vec::new();
    for (applier, a) in repo.appliers.iter().enumerate() {
        let Some(app) = repo.application(applier) else {
            continue;
        };
        if a.kind != ApplierKind::Argo || app.generated || app.skip_dry_run {
            continue;
        }
        for (object, providers) in needs(repo, applier) {
            if repo.object(object).is_some_and(|o| o.skip_dry_run) {
                continue;
            }
            let mut pairs = Vec::new();
            let mut satisfied = false;
            for &p in &providers {
                let Some(provider) = repo.providers.get(p) else {
                    continue;
                };
                for &via in &provider.appliers {
                    let Some(v) = repo.appliers.get(via) else {
                        continue;
                    };
                    if v.kind != ApplierKind::Argo || v.scope != a.scope {
                        continue;
                    }
                    let same_cluster = match (
                        app.destination.as_deref(),
                        repo.application(via).and_then(|x| x.destination.as_deref()),
                    ) {
                        (Some(x), Some(y)) => x == y,
                        _ => true,
                    };
                    if !same_cluster {
                        continue;
                    }
                    if via == applier || repo.synced_before(via, applier) {
                        satisfied = true;
                    }
                    pairs.push((p, via));
                }
            }
            if !satisfied && !pairs.is_empty() {
                out.push(ArgoOrder {
                    object,
                    applier,
                    providers: pairs,
                });
            }
        }
    }
    out
}

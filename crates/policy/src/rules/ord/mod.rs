//! Deploy ordering in GitOps: custom resources applied before their CRDs exist, and
//! `dependsOn` graphs that never converge. The judgement is the repository model's
//! (`model/repo/ordering.rs`); these rules word it.

pub mod argo_wave_before_crd;
pub mod crd_dependency_not_awaited;
pub mod custom_resource_before_crd;
pub mod dependency_cycle_or_missing;

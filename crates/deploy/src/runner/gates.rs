//! A stage's gates: each one's condition (pure, in [`crate::conditions`]) polled by the one
//! wait loop ([`crate::wait::wait_until`]) with the gate's timeout, cut to what is left of the
//! run's.

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Deploy;
use super::apply::Applied;
use super::summary::Status;
use crate::aws;
use crate::conditions::{self, Check, combine};
use crate::duration;
use crate::kube;
use crate::plan::{GateKind, GateRef};
use crate::wait;

impl Deploy<'_> {
    pub(super) fn gate_timeout(&self, gate: &GateRef) -> Duration {
        gate.timeout.min(self.remaining())
    }

    pub(super) async fn gate(&mut self, gate: &GateRef) -> Result<String, (Status, String)> {
        let timeout = self.gate_timeout(gate);
        let name = gate.kind.name();
        let cluster = self.plan.cluster.name.clone();
        let region = self.plan.cluster.region.clone();
        self.log.line(&format!(
            "gate `{name}` (timeout {})",
            duration::format(timeout)
        ));
        let backoff = wait::gate_backoff();
        let result = match gate.kind {
            GateKind::EksClusterActive | GateKind::NodegroupsActive | GateKind::AddonsActive => {
                let eks = self.ensure_eks().await.map_err(|m| (Status::Failed, m))?;
                let kind = gate.kind;
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (eks, cluster) = (&eks, &cluster);
                    async move {
                        match kind {
                            GateKind::EksClusterActive => aws::poll_cluster(eks, cluster).await,
                            GateKind::NodegroupsActive => aws::poll_nodegroups(eks, cluster).await,
                            _ => aws::poll_addons(eks, cluster).await,
                        }
                    }
                })
                .await
            }
            GateKind::KubernetesApi => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let principal = self
                    .resolved
                    .as_ref()
                    .map_or_else(String::new, |r| r.principal.clone());
                let denied_since: Cell<Option<Instant>> = Cell::new(None);
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, principal, cluster, region, denied_since) =
                        (&kube, &principal, &cluster, &region, &denied_since);
                    async move {
                        match kube.readyz().await {
                            Ok((status, body)) => {
                                let denied_for = if matches!(status, 401 | 403) {
                                    let since = denied_since.get().unwrap_or_else(Instant::now);
                                    denied_since.set(Some(since));
                                    since.elapsed()
                                } else {
                                    denied_since.set(None);
                                    Duration::ZERO
                                };
                                conditions::api_readyz(
                                    status, &body, denied_for, principal, cluster, region,
                                )
                            }
                            Err(e) => kube_check(&e),
                        }
                    }
                })
                .await
            }
            GateKind::CrdsEstablished => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let mut names = gate.names.clone();
                if names.is_empty() {
                    names = self
                        .applied
                        .iter()
                        .filter(|a| a.kind == "CustomResourceDefinition")
                        .map(|a| a.name.clone())
                        .collect();
                }
                if names.is_empty() {
                    return Err((Status::Failed, "no CustomResourceDefinitions to wait for: none was applied by this run; list them with `{name: crds-established, names: [nodepools.karpenter.sh, ...]}`".to_string()));
                }
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, names) = (&kube, &names);
                    async move { poll_crds(kube, names).await }
                })
                .await
            }
            GateKind::NodeclassesReady | GateKind::NodepoolsReady => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let kinds: &[(&str, &str)] = if gate.kind == GateKind::NodepoolsReady {
                    &[("karpenter.sh/v1", "NodePool")]
                } else {
                    &[
                        ("karpenter.k8s.aws/v1", "EC2NodeClass"),
                        ("eks.amazonaws.com/v1", "NodeClass"),
                    ]
                };
                let targets: Vec<String> = self
                    .applied
                    .iter()
                    .filter(|a| kinds.iter().any(|(_, k)| *k == a.kind))
                    .map(Applied::path)
                    .collect();
                let what = if gate.kind == GateKind::NodepoolsReady {
                    "NodePool"
                } else {
                    "node class"
                };
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, targets) = (&kube, &targets);
                    async move {
                        let paths = match targets_or_list(kube, targets, kinds).await {
                            Ok(p) => p,
                            Err(check) => return check,
                        };
                        if paths.is_empty() {
                            return Check::Failed(format!("no {what} exists in the cluster: nothing can become ready (apply them in this or an earlier stage)"));
                        }
                        let mut checks = Vec::new();
                        for path in &paths {
                            checks.push(match kube.get(path).await {
                                Ok(obj) => conditions::ready_condition(what, obj.as_ref()),
                                Err(e) => kube_check(&e),
                            });
                        }
                        combine(checks)
                    }
                })
                .await
            }
            GateKind::WorkloadsAvailable => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let kinds: &[(&str, &str)] = &[
                    ("apps/v1", "Deployment"),
                    ("apps/v1", "StatefulSet"),
                    ("apps/v1", "DaemonSet"),
                ];
                let targets: Vec<String> = self
                    .applied
                    .iter()
                    .filter(|a| {
                        a.api_version == "apps/v1" && kinds.iter().any(|(_, k)| *k == a.kind)
                    })
                    .map(Applied::path)
                    .collect();
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, targets) = (&kube, &targets);
                    async move {
                        let paths = match targets_or_list(kube, targets, kinds).await {
                            Ok(p) => p,
                            Err(check) => return check,
                        };
                        if paths.is_empty() {
                            return Check::Ready(
                                "no Deployments, StatefulSets or DaemonSets to wait for"
                                    .to_string(),
                            );
                        }
                        let mut checks = Vec::new();
                        for path in &paths {
                            checks.push(match kube.get(path).await {
                                Ok(obj) => conditions::workload_available(obj.as_ref()),
                                Err(e) => kube_check(&e),
                            });
                        }
                        combine(checks)
                    }
                })
                .await
            }
        };
        if result.is_ok() && matches!(gate.kind, GateKind::EksClusterActive) {
            self.note_endpoint(&cluster).await;
        }
        result.map_err(|e| self.wait_failure(e))
    }

    /// An ACTIVE cluster has its API endpoint: keep it for the `cluster-endpoint` output (the
    /// Action's deployment record uses it as the environment URL) even when no later gate
    /// talks to the Kubernetes API. Best effort: a failed DescribeCluster leaves it unknown.
    async fn note_endpoint(&mut self, cluster: &str) {
        if self.endpoint.is_some() || self.options.kube_api_url.is_some() {
            return;
        }
        let Ok(eks) = self.eks() else { return };
        if let Ok(info) = aws::describe_cluster(&eks, cluster).await {
            self.endpoint = info.endpoint.filter(|e| !e.is_empty());
        }
    }
}

/// Paths of the objects to check: those this run applied, or every object of `kinds` in the
/// cluster. `Err` is the check to report when listing fails.
async fn targets_or_list(
    kube: &kube::Client,
    targets: &[String],
    kinds: &[(&str, &str)],
) -> Result<Vec<String>, Check> {
    if !targets.is_empty() {
        return Ok(targets.to_vec());
    }
    let mut paths = Vec::new();
    let mut served = false;
    for (api_version, kind) in kinds {
        let resource = match kube.resolve(api_version, kind).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return Err(kube_check(&e)),
        };
        served = true;
        let list = match kube.get(&resource.collection(None)).await {
            Ok(l) => l.unwrap_or(Value::Null),
            Err(e) => return Err(kube_check(&e)),
        };
        for item in list
            .get("items")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let name = item
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
            paths.push(resource.object(ns, name));
        }
    }
    if !served {
        let list: Vec<String> = kinds.iter().map(|(v, k)| format!("{k} ({v})")).collect();
        return Err(Check::Pending(format!(
            "{} not served yet (CRDs missing?)",
            list.join(", ")
        )));
    }
    Ok(paths)
}

/// A Kubernetes error seen while a gate waits: worth another try, unless it cannot change
/// (an untrusted certificate).
pub(super) fn kube_check(e: &kube::KubeError) -> Check {
    if e.is_permanent() {
        Check::Failed(e.to_string())
    } else {
        Check::Pending(e.to_string())
    }
}

async fn poll_crds(kube: &kube::Client, names: &[String]) -> Check {
    let mut checks = Vec::new();
    let mut crds = Vec::new();
    for name in names {
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        match kube.get(&path).await {
            Ok(crd) => {
                checks.push(conditions::crd_established(name, crd.as_ref()));
                crds.extend(crd);
            }
            Err(e) => checks.push(kube_check(&e)),
        }
    }
    let established = combine(checks);
    if !matches!(established, Check::Ready(_)) {
        return established;
    }
    // Established is not discovery: ask discovery again until it lists every served version.
    kube.refresh_discovery();
    for crd in &crds {
        for (api_version, kind) in conditions::crd_served_kinds(crd) {
            match kube.resolve(&api_version, &kind).await {
                Ok(Some(_)) => {}
                Ok(None) => return conditions::crd_not_discovered(&kind, &api_version),
                Err(e) => return kube_check(&e),
            }
        }
    }
    Check::Ready(format!(
        "{} CRD(s) Established and served by discovery",
        crds.len()
    ))
}

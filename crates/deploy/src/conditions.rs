//! Pure readiness conditions: what was read in, a [`Check`] out. No clock, no network, so each is
//! unit-tested on inline YAML (the kube-rs `conditions` idea, with our own rules where kstatus
//! is too lenient).

use serde_json::Value;

/// What one poll saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Done; the text says what was seen.
    Ready(String),
    /// Not yet; the text says what was seen (it becomes the timeout message).
    Pending(String),
    /// Will not get better by waiting (FAILED cluster, NamesAccepted=False, no access entry).
    Failed(String),
}

/// Many objects' checks as one: any failure fails, all ready is ready, else pending.
#[must_use]
pub fn combine(checks: Vec<Check>) -> Check {
    let total = checks.len();
    let mut pending = Vec::new();
    let mut ready = Vec::new();
    for c in checks {
        match c {
            Check::Failed(m) => return Check::Failed(m),
            Check::Pending(m) => pending.push(m),
            Check::Ready(m) => ready.push(m),
        }
    }
    if pending.is_empty() {
        if total == 1 {
            Check::Ready(ready.pop().unwrap_or_default())
        } else {
            Check::Ready(format!("all {total} ready"))
        }
    } else if total == 1 {
        Check::Pending(pending.join("; "))
    } else {
        Check::Pending(format!(
            "{}/{total} not ready: {}",
            pending.len(),
            pending.join("; ")
        ))
    }
}

/// EKS `DescribeCluster` status. FAILED and DELETING never become ACTIVE: fail at once.
#[must_use]
pub fn eks_cluster(name: &str, status: Option<&str>, issues: &[String]) -> Check {
    let issues_text = if issues.is_empty() {
        String::new()
    } else {
        format!(" (health issues: {})", issues.join("; "))
    };
    match status {
        Some("ACTIVE") => Check::Ready(format!("cluster `{name}` is ACTIVE")),
        Some(s @ ("FAILED" | "DELETING")) => Check::Failed(format!(
            "cluster `{name}` is {s}{issues_text}; it will not become ACTIVE, fix the cause and recreate it"
        )),
        Some(s) => Check::Pending(format!("cluster `{name}` is {s}{issues_text}")),
        None => Check::Pending(format!("cluster `{name}` has no status yet")),
    }
}

/// A nodegroup or add-on as DescribeNodegroup / DescribeAddon report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub status: String,
    pub issues: Vec<String>,
}

/// All nodegroups ACTIVE. DEGRADED and the *_FAILED states fail (the AWS waiter spins on
/// DEGRADED until it times out; we say what is wrong instead).
#[must_use]
pub fn nodegroups(cluster: &str, groups: &[Member]) -> Check {
    members(
        "nodegroup",
        cluster,
        groups,
        &["DEGRADED", "CREATE_FAILED", "DELETE_FAILED", "DELETING"],
    )
}

/// All add-ons ACTIVE; DEGRADED and the *_FAILED states fail.
#[must_use]
pub fn addons(cluster: &str, addons: &[Member]) -> Check {
    members(
        "add-on",
        cluster,
        addons,
        &[
            "DEGRADED",
            "CREATE_FAILED",
            "UPDATE_FAILED",
            "DELETE_FAILED",
            "DELETING",
        ],
    )
}

fn members(what: &str, cluster: &str, list: &[Member], failing: &[&str]) -> Check {
    if list.is_empty() {
        return Check::Ready(format!("cluster `{cluster}` has no {what}s"));
    }
    let describe = |m: &Member| {
        if m.issues.is_empty() {
            format!("`{}` {}", m.name, m.status)
        } else {
            format!("`{}` {} ({})", m.name, m.status, m.issues.join("; "))
        }
    };
    let failed: Vec<String> = list
        .iter()
        .filter(|m| failing.contains(&m.status.as_str()))
        .map(describe)
        .collect();
    if !failed.is_empty() {
        return Check::Failed(format!("{what} {}", failed.join(", ")));
    }
    let waiting: Vec<String> = list
        .iter()
        .filter(|m| m.status != "ACTIVE")
        .map(describe)
        .collect();
    if waiting.is_empty() {
        Check::Ready(format!("{} {what}(s) ACTIVE", list.len()))
    } else {
        Check::Pending(format!("{what} {}", waiting.join(", ")))
    }
}

fn conditions(obj: &Value) -> &[Value] {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    conditions(obj)
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn status_of(cond: &Value) -> &str {
    cond.get("status")
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
}

fn reason_of(cond: &Value) -> String {
    let reason = cond.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = cond.get("message").and_then(Value::as_str).unwrap_or("");
    match (reason.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({reason})"),
        (true, false) => format!(" ({message})"),
        (false, false) => format!(" ({reason}: {message})"),
    }
}

fn object_name(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("object");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind} `{ns}/{name}`"),
        None => format!("{kind} `{name}`"),
    }
}

/// `(apiVersion, kind)` of every version a CRD serves: what discovery must list before objects
/// of the CRD can be applied (Established is not discovery).
#[must_use]
pub fn crd_served_kinds(crd: &Value) -> Vec<(String, String)> {
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let (group, kind) = (text("/spec/group"), text("/spec/names/kind"));
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .map(|v| {
            let version = v.get("name").and_then(Value::as_str).unwrap_or_default();
            (format!("{group}/{version}"), kind.to_string())
        })
        .collect()
}

/// A CRD that is Established while discovery does not list its kind yet: wait.
#[must_use]
pub fn crd_not_discovered(kind: &str, api_version: &str) -> Check {
    Check::Pending(format!(
        "`{kind}` is Established but discovery does not list it in `{api_version}` yet"
    ))
}

/// A CustomResourceDefinition: `Established=True` and `NamesAccepted` not `False`.
#[must_use]
pub fn crd_established(name: &str, crd: Option<&Value>) -> Check {
    let Some(crd) = crd else {
        return Check::Pending(format!("CustomResourceDefinition `{name}` not found yet"));
    };
    if let Some(names) = condition(crd, "NamesAccepted")
        && status_of(names) == "False"
    {
        return Check::Failed(format!(
            "CustomResourceDefinition `{name}` has NamesAccepted=False{}; its names clash with another CRD",
            reason_of(names)
        ));
    }
    match condition(crd, "Established") {
        Some(c) if status_of(c) == "True" => {
            Check::Ready(format!("CustomResourceDefinition `{name}` is Established"))
        }
        Some(c) => Check::Pending(format!(
            "CustomResourceDefinition `{name}` Established={}{}",
            status_of(c),
            reason_of(c)
        )),
        None => Check::Pending(format!(
            "CustomResourceDefinition `{name}` has no Established condition yet"
        )),
    }
}

/// `metadata.generation` if present, and whether the controller has observed it: the object's
/// `status.observedGeneration` (where the kind sets it) and the Ready condition's own
/// `observedGeneration` (operatorpkg conditions carry one) must not be older.
fn generation_observed(obj: &Value, ready: &Value) -> Result<(), String> {
    let Some(generation) = obj.pointer("/metadata/generation").and_then(Value::as_i64) else {
        return Ok(());
    };
    let observed = [
        obj.pointer("/status/observedGeneration")
            .and_then(Value::as_i64),
        ready.get("observedGeneration").and_then(Value::as_i64),
    ];
    match observed.into_iter().flatten().find(|o| *o < generation) {
        Some(old) => Err(format!(
            "status is for generation {old}, the object is at generation {generation} (the controller has not caught up)"
        )),
        None => Ok(()),
    }
}

/// Karpenter NodePools and node classes: `Ready=True` for the current generation. Unlike
/// kstatus, an object without conditions is *not* ready: right after apply nothing has
/// reconciled it yet.
#[must_use]
pub fn ready_condition(what: &str, obj: Option<&Value>) -> Check {
    let Some(obj) = obj else {
        return Check::Pending(format!("{what} not found yet"));
    };
    let name = object_name(obj);
    let Some(ready) = condition(obj, "Ready") else {
        return Check::Pending(format!(
            "{name} has no Ready condition yet (is its controller running?)"
        ));
    };
    if let Err(message) = generation_observed(obj, ready) {
        return Check::Pending(format!("{name}: {message}"));
    }
    match status_of(ready) {
        "True" => Check::Ready(format!("{name} is Ready")),
        other => {
            // Name the sub-conditions that hold Ready back (NodeClassReady, SubnetsReady, ...).
            let blocking: Vec<String> = conditions(obj)
                .iter()
                .filter(|c| {
                    c.get("type").and_then(Value::as_str) != Some("Ready") && status_of(c) != "True"
                })
                .map(|c| {
                    format!(
                        "{}={}{}",
                        c.get("type").and_then(Value::as_str).unwrap_or("?"),
                        status_of(c),
                        reason_of(c)
                    )
                })
                .collect();
            let detail = if blocking.is_empty() {
                reason_of(ready)
            } else {
                format!("{}; {}", reason_of(ready), blocking.join(", "))
            };
            Check::Pending(format!("{name} Ready={other}{detail}"))
        }
    }
}

fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

/// Deployments, StatefulSets and DaemonSets by the kstatus rules (cli-utils
/// `pkg/kstatus/status/core.go`): generation observed, replicas updated, ready and available.
#[must_use]
pub fn workload_available(obj: Option<&Value>) -> Check {
    let Some(obj) = obj else {
        return Check::Pending("workload not found yet".to_string());
    };
    let name = object_name(obj);
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return Check::Failed(format!("{name} is being deleted"));
    }
    let generation = int_at(obj, "/metadata/generation");
    let observed = int_at(obj, "/status/observedGeneration");
    if let (Some(g), Some(o)) = (generation, observed)
        && o < g
    {
        return Check::Pending(format!(
            "{name}: generation {g} not observed yet (observed {o})"
        ));
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let pending = |what: String| Check::Pending(format!("{name}: {what}"));
    match kind {
        "Deployment" => {
            if let Some(p) = condition(obj, "Progressing")
                && p.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
            {
                return Check::Failed(format!(
                    "{name} exceeded its progress deadline{}",
                    reason_of(p)
                ));
            }
            let want = int_at(obj, "/spec/replicas").unwrap_or(1);
            let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
            let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
            let available = int_at(obj, "/status/availableReplicas").unwrap_or(0);
            let total = int_at(obj, "/status/replicas").unwrap_or(0);
            if observed.is_none() {
                return pending("no status yet".to_string());
            }
            if updated < want {
                return pending(format!("{updated}/{want} replicas updated"));
            }
            if total > updated {
                return pending(format!(
                    "{} old replicas still terminating",
                    total - updated
                ));
            }
            if ready < want {
                return pending(format!("{ready}/{want} replicas ready"));
            }
            if available < want {
                return pending(format!("{available}/{want} replicas available"));
            }
            match condition(obj, "Available") {
                Some(c) if status_of(c) != "True" => {
                    pending(format!("Available={}{}", status_of(c), reason_of(c)))
                }
                _ => Check::Ready(format!("{name} has {available}/{want} replicas available")),
            }
        }
        "StatefulSet" => {
            if obj
                .pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("OnDelete")
            {
                return Check::Ready(format!("{name} uses OnDelete updates"));
            }
            let want = int_at(obj, "/spec/replicas").unwrap_or(1);
            let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
            let current = int_at(obj, "/status/currentReplicas").unwrap_or(0);
            if observed.is_none() {
                return pending("no status yet".to_string());
            }
            if ready < want {
                return pending(format!("{ready}/{want} replicas ready"));
            }
            let current_rev = obj
                .pointer("/status/currentRevision")
                .and_then(Value::as_str);
            let update_rev = obj
                .pointer("/status/updateRevision")
                .and_then(Value::as_str);
            if current_rev != update_rev {
                return pending("rolling out a new revision".to_string());
            }
            if current < want {
                return pending(format!("{current}/{want} replicas at the current revision"));
            }
            Check::Ready(format!("{name} has {ready}/{want} replicas ready"))
        }
        "DaemonSet" => {
            if generation.is_none() || observed.is_none() {
                return pending("no observed generation yet".to_string());
            }
            let Some(desired) = int_at(obj, "/status/desiredNumberScheduled") else {
                return pending("desiredNumberScheduled not reported yet".to_string());
            };
            let checks = [
                ("scheduled", int_at(obj, "/status/currentNumberScheduled")),
                ("updated", int_at(obj, "/status/updatedNumberScheduled")),
                ("available", int_at(obj, "/status/numberAvailable")),
                ("ready", int_at(obj, "/status/numberReady")),
            ];
            for (what, value) in checks {
                let value = value.unwrap_or(0);
                if value < desired {
                    return pending(format!("{value}/{desired} pods {what}"));
                }
            }
            Check::Ready(format!("{name} has {desired}/{desired} pods ready"))
        }
        other => Check::Failed(format!(
            "`{other}` is not a workload kind this gate understands (Deployment, StatefulSet, DaemonSet)"
        )),
    }
}

/// How long a 401/403 from the API may last before it is treated as permanent: access entries
/// are eventually consistent for a few seconds after they are created.
pub const AUTH_GRACE: std::time::Duration = std::time::Duration::from_secs(45);

/// The `kubernetes-api` gate on one `/readyz` answer. `denied_for` is how long 401/403 answers
/// have persisted (the caller's clock).
#[must_use]
pub fn api_readyz(
    status: u16,
    body: &str,
    denied_for: std::time::Duration,
    role: &str,
    cluster: &str,
    region: &str,
) -> Check {
    let body = body.trim();
    let short: String = body.chars().take(200).collect();
    match status {
        200 => Check::Ready(format!("/readyz answered `{short}`")),
        401 => {
            let message = format!(
                "the API server answered 401 Unauthorized: it does not know `{role}`. The role has no EKS access entry (or aws-auth mapping) on cluster `{cluster}`. Fix: aws eks create-access-entry --cluster-name {cluster} --region {region} --principal-arn {role} && aws eks associate-access-policy --cluster-name {cluster} --region {region} --principal-arn {role} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster (or an aws_eks_access_entry + aws_eks_access_policy_association in Terraform)"
            );
            if denied_for >= AUTH_GRACE {
                Check::Failed(message)
            } else {
                Check::Pending(format!(
                    "{message} (retrying for up to {}s: new access entries take a few seconds to apply)",
                    AUTH_GRACE.as_secs()
                ))
            }
        }
        403 => {
            let message = format!(
                "the API server answered 403 Forbidden: `{role}` authenticates but may not read `/readyz` ({short}). Its access entry has no access policy. Fix: aws eks associate-access-policy --cluster-name {cluster} --region {region} --principal-arn {role} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster"
            );
            if denied_for >= AUTH_GRACE {
                Check::Failed(message)
            } else {
                Check::Pending(format!(
                    "{message} (retrying for up to {}s: new access policies take a few seconds to apply)",
                    AUTH_GRACE.as_secs()
                ))
            }
        }
        _ => Check::Pending(format!("/readyz answered {status}: {short}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eksgate_policy::source::{Limits, SourceFile, load};

    fn yaml(text: &str) -> Value {
        let loaded = load(0, &SourceFile::new("t.yaml", text), &Limits::default());
        loaded
            .documents
            .first()
            .map(|d| d.root.to_json())
            .unwrap_or(Value::Null)
    }

    fn is_ready(c: &Check) -> bool {
        matches!(c, Check::Ready(_))
    }
    fn is_pending(c: &Check) -> bool {
        matches!(c, Check::Pending(_))
    }
    fn is_failed(c: &Check) -> bool {
        matches!(c, Check::Failed(_))
    }

    #[test]
    fn combine_reports_the_worst() {
        assert!(
            matches!(combine(vec![Check::Ready("a".into()), Check::Pending("b".into())]), Check::Pending(m) if m.starts_with("1/2 not ready: b"))
        );
        assert!(
            matches!(combine(vec![Check::Pending("a".into()), Check::Failed("b".into())]), Check::Failed(m) if m == "b")
        );
        assert!(matches!(combine(vec![Check::Ready("a".into())]), Check::Ready(m) if m == "a"));
    }

    #[test]
    fn cluster_states() {
        assert!(is_ready(&eks_cluster("a", Some("ACTIVE"), &[])));
        assert!(is_pending(&eks_cluster("a", Some("CREATING"), &[])));
        assert!(is_pending(&eks_cluster("a", Some("UPDATING"), &[])));
        assert!(is_failed(&eks_cluster(
            "a",
            Some("FAILED"),
            &["Ec2SubnetNotFound".into()]
        )));
        assert!(is_failed(&eks_cluster("a", Some("DELETING"), &[])));
    }

    #[test]
    fn nodegroup_degraded_fails_instead_of_spinning() {
        let m = |s: &str| Member {
            name: "ng".into(),
            status: s.into(),
            issues: vec!["AsgInstanceLaunchFailures".into()],
        };
        assert!(is_failed(&nodegroups("a", &[m("DEGRADED")])));
        assert!(is_pending(&nodegroups("a", &[m("CREATING")])));
        assert!(is_ready(&nodegroups("a", &[m("ACTIVE")])));
        assert!(is_ready(&nodegroups("a", &[])));
        assert!(is_failed(&addons("a", &[m("CREATE_FAILED")])));
    }

    #[test]
    fn a_crd_must_be_discovered_in_every_version_it_serves() {
        let crd = yaml(
            "kind: CustomResourceDefinition\nspec:\n  group: karpenter.sh\n  names: {kind: NodePool, plural: nodepools}\n  versions:\n  - {name: v1, served: true}\n  - {name: v1beta1, served: false}\n  - {name: v1alpha5}\n",
        );
        assert_eq!(
            crd_served_kinds(&crd),
            [
                ("karpenter.sh/v1".to_string(), "NodePool".to_string()),
                ("karpenter.sh/v1alpha5".to_string(), "NodePool".to_string()),
            ]
        );
        assert!(is_pending(&crd_not_discovered(
            "NodePool",
            "karpenter.sh/v1"
        )));
    }

    #[test]
    fn crd_needs_established_and_accepted_names() {
        let est = yaml(
            "kind: CustomResourceDefinition\nstatus:\n  conditions:\n  - {type: NamesAccepted, status: 'True'}\n  - {type: Established, status: 'True'}\n",
        );
        assert!(is_ready(&crd_established("x", Some(&est))));
        let installing = yaml(
            "status:\n  conditions:\n  - {type: Established, status: 'False', reason: Installing}\n",
        );
        assert!(is_pending(&crd_established("x", Some(&installing))));
        let clash = yaml(
            "status:\n  conditions:\n  - {type: NamesAccepted, status: 'False', reason: ListKindConflict}\n  - {type: Established, status: 'False'}\n",
        );
        assert!(is_failed(&crd_established("x", Some(&clash))));
        assert!(is_pending(&crd_established("x", None)));
        assert!(is_pending(&crd_established(
            "x",
            Some(&yaml("kind: CustomResourceDefinition\n"))
        )));
    }

    #[test]
    fn nodepool_without_conditions_is_not_ready() {
        // kstatus would call this Current; it was just applied and nothing reconciled it.
        let fresh = yaml(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: apps, generation: 1}\nspec: {}\n",
        );
        assert!(is_pending(&ready_condition("NodePool", Some(&fresh))));
        let ready = yaml(
            "kind: NodePool\nmetadata: {name: apps, generation: 2}\nstatus:\n  conditions:\n  - {type: Ready, status: 'True', observedGeneration: 2}\n",
        );
        assert!(is_ready(&ready_condition("NodePool", Some(&ready))));
        let stale = yaml(
            "kind: NodePool\nmetadata: {name: apps, generation: 3}\nstatus:\n  conditions:\n  - {type: Ready, status: 'True', observedGeneration: 2}\n",
        );
        let check = ready_condition("NodePool", Some(&stale));
        assert!(is_pending(&check), "{check:?}");
        let blocked = yaml(
            "kind: EC2NodeClass\nmetadata: {name: default, generation: 1}\nstatus:\n  conditions:\n  - {type: Ready, status: 'False', observedGeneration: 1, reason: NotReady}\n  - {type: SubnetsReady, status: 'False', reason: SubnetsNotFound, message: no subnets matched}\n",
        );
        match ready_condition("EC2NodeClass", Some(&blocked)) {
            Check::Pending(m) => assert!(
                m.contains("SubnetsReady=False (SubnetsNotFound: no subnets matched)"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deployments_follow_kstatus() {
        let done = yaml(
            "kind: Deployment\nmetadata: {name: web, namespace: apps, generation: 2}\nspec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{type: Available, status: 'True'}]}\n",
        );
        assert!(is_ready(&workload_available(Some(&done))));
        let rolling = yaml(
            "kind: Deployment\nmetadata: {name: web, generation: 2}\nspec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}\n",
        );
        assert!(is_pending(&workload_available(Some(&rolling))));
        let old = yaml(
            "kind: Deployment\nmetadata: {name: web, generation: 3}\nspec: {replicas: 1}\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}\n",
        );
        assert!(is_pending(&workload_available(Some(&old))));
        let stuck = yaml(
            "kind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]}\n",
        );
        assert!(is_failed(&workload_available(Some(&stuck))));
        let fresh =
            yaml("kind: Deployment\nmetadata: {name: web, generation: 1}\nspec: {replicas: 1}\n");
        assert!(is_pending(&workload_available(Some(&fresh))));
    }

    #[test]
    fn statefulsets_and_daemonsets() {
        let sts = yaml(
            "kind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, readyReplicas: 2, currentReplicas: 2, currentRevision: r1, updateRevision: r1}\n",
        );
        assert!(is_ready(&workload_available(Some(&sts))));
        let rolling = yaml(
            "kind: StatefulSet\nmetadata: {name: db, generation: 1}\nspec: {replicas: 2}\nstatus: {observedGeneration: 1, readyReplicas: 2, currentReplicas: 1, currentRevision: r1, updateRevision: r2}\n",
        );
        assert!(is_pending(&workload_available(Some(&rolling))));
        let ds = yaml(
            "kind: DaemonSet\nmetadata: {name: agent, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 2}\n",
        );
        assert!(is_pending(&workload_available(Some(&ds))));
        let ds_new = yaml("kind: DaemonSet\nmetadata: {name: agent, generation: 1}\nstatus: {}\n");
        assert!(is_pending(&workload_available(Some(&ds_new))));
    }

    #[test]
    fn readyz_explains_a_missing_access_entry_once_it_persists() {
        use std::time::Duration;
        let role = "arn:aws:iam::123456789012:role/ci";
        assert!(is_ready(&api_readyz(
            200,
            "ok",
            Duration::ZERO,
            role,
            "c",
            "us-east-1"
        )));
        assert!(is_pending(&api_readyz(
            503,
            "[-]etcd failed",
            Duration::ZERO,
            role,
            "c",
            "us-east-1"
        )));
        assert!(is_pending(&api_readyz(
            401,
            "",
            Duration::from_secs(5),
            role,
            "c",
            "us-east-1"
        )));
        match api_readyz(401, "", AUTH_GRACE, role, "c", "us-east-1") {
            Check::Failed(m) => {
                assert!(m.contains("no EKS access entry"), "{m}");
                assert!(m.contains("aws eks create-access-entry --cluster-name c --region us-east-1 --principal-arn arn:aws:iam::123456789012:role/ci"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(is_failed(&api_readyz(
            403,
            "forbidden",
            AUTH_GRACE,
            role,
            "c",
            "us-east-1"
        )));
    }
}

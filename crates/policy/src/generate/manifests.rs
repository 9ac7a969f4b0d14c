//! The Kubernetes side of a render: node classes, NodePools and example workloads, shaped by
//! the policy's pool classes (labels, taints, billing tags) so that they pass it.

use super::tree::Y;
use crate::Policy;
use crate::model::policy::{PoolClass, TaintEffect};
use crate::model::request::{ClientPool, ClusterRequest, Mode};
use crate::model::{AUTO_MODE_GROUP, KARPENTER_GROUP};
use crate::node::Span;

/// What the policy says the pools must look like, with defaults where it says nothing.
pub(super) struct Shape<'p> {
    pub infra_labels: Vec<(String, String)>,
    /// The infrastructure taint: key, value, effect.
    pub infra_taint: (String, String, &'static str),
    pub app_labels: Vec<(String, String)>,
    pub infra_class: Option<&'p PoolClass>,
    pub app_class: Option<&'p PoolClass>,
}

impl<'p> Shape<'p> {
    pub fn of(policy: &'p Policy) -> Self {
        let infra_class = policy.infrastructure_class();
        let app_class = policy.pool_classes.iter().find(|c| !c.infrastructure);
        let labels = |class: Option<&PoolClass>, default: (&str, &str)| {
            let mut out: Vec<(String, String)> = Vec::new();
            if let Some(class) = class {
                for (k, v) in class.labels.iter().chain(class.matcher.labels.iter()) {
                    if !out.iter().any(|(x, _)| x == k) {
                        out.push((k.clone(), v.clone()));
                    }
                }
            }
            if out.is_empty() {
                out.push((default.0.to_string(), default.1.to_string()));
            }
            out
        };
        let infra_taint = infra_class
            .and_then(|c| c.taints.first())
            .map(|t| {
                let effect = t
                    .effects
                    .first()
                    .copied()
                    .unwrap_or(TaintEffect::NoSchedule);
                (t.key.clone(), t.value.clone(), effect.as_str())
            })
            .unwrap_or_else(|| {
                (
                    "workload-type".to_string(),
                    "infrastructure".to_string(),
                    "NoSchedule",
                )
            });
        Self {
            infra_labels: labels(infra_class, ("node-type", "infrastructure")),
            infra_taint,
            app_labels: labels(app_class, ("node-type", "applications")),
            infra_class,
            app_class,
        }
    }
}

fn meta(name: &str, span: Span) -> Y {
    Y::map([("name", Y::str(name).from(span))])
}

fn strings<'s>(items: impl IntoIterator<Item = (&'s str, Span)>) -> Y {
    Y::seq(items.into_iter().map(|(s, span)| Y::str(s).from(span)))
}

/// The single value a billing tag of the class allows, if it allows exactly one.
fn only_allowed(class: Option<&PoolClass>, key: &str) -> Option<String> {
    class
        .and_then(|c| c.billing_tags.iter().find(|t| t.key == key))
        .and_then(|t| match t.allowed.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
}

/// The billing tags of a node class: the standard keys, then what the policy's class requires
/// beyond them (from `billing.tags`, or the one value the class allows), then the rest of
/// `billing.tags`.
fn tags(request: &ClusterRequest, shape: &Shape<'_>, infra: bool) -> Y {
    let billing = &request.billing.value;
    let class = if infra {
        shape.infra_class
    } else {
        shape.app_class
    };
    let infra_billing = request.infra_pool.billing.as_ref();
    let mut out: Vec<(String, Y)> = Vec::new();
    let cost = if infra {
        infra_billing
            .and_then(|b| b.cost_centre.as_ref())
            .map(|v| Y::str(&v.value).from(v.span))
            .or_else(|| only_allowed(class, "cost-center").map(Y::str))
            .unwrap_or_else(|| Y::str(&billing.cost_centre.value).from(billing.cost_centre.span))
    } else {
        Y::str(&billing.cost_centre.value).from(billing.cost_centre.span)
    };
    out.push(("cost-center".to_string(), cost));
    let team = if infra {
        infra_billing
            .and_then(|b| b.team.as_ref())
            .map(|v| Y::str(&v.value).from(v.span))
            .or_else(|| only_allowed(class, "billing-team").map(Y::str))
            .unwrap_or_else(|| Y::str(&billing.team.value).from(billing.team.span))
    } else {
        Y::str(&billing.team.value).from(billing.team.span)
    };
    out.push(("billing-team".to_string(), team));
    let workload = only_allowed(class, "workload-type").unwrap_or_else(|| {
        if infra {
            "infrastructure".to_string()
        } else {
            "applications".to_string()
        }
    });
    out.push(("workload-type".to_string(), Y::str(workload)));
    if !infra {
        out.push((
            "client-id".to_string(),
            Y::str(&billing.client_id.value).from(billing.client_id.span),
        ));
    }
    let extra = |key: &str| {
        billing
            .tags
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| Y::str(&v.value).from(v.span))
    };
    if let Some(class) = class {
        for tag in &class.billing_tags {
            if out.iter().any(|(k, _)| *k == tag.key) {
                continue;
            }
            let value = extra(&tag.key).or_else(|| only_allowed(Some(class), &tag.key).map(Y::str));
            if let Some(value) = value {
                out.push((tag.key.clone(), value));
            }
        }
    }
    for (key, value) in &billing.tags {
        if !out.iter().any(|(k, _)| *k == key.value) {
            out.push((key.value.clone(), Y::str(&value.value).from(value.span)));
        }
    }
    Y::Map(out).from(if infra {
        infra_billing.map_or(request.infra_pool.span, |b| b.span)
    } else {
        request.billing.span
    })
}

/// The node class of a pool (`infra`, or `<client>-<pool>`).
pub(super) fn node_class(
    request: &ClusterRequest,
    shape: &Shape<'_>,
    name: &str,
    name_span: Span,
    infra: bool,
) -> Y {
    let cluster = request.cluster_name();
    let discovery = || {
        Y::seq([Y::map([(
            "tags",
            Y::map([("karpenter.sh/discovery", Y::str(&cluster))]),
        )])])
    };
    let compliance = &request.compliance;
    let kms = compliance
        .kms_key_arn
        .as_ref()
        .map(|k| ("kmsKeyID", Y::str(&k.value).from(k.span)));
    let role = format!("{cluster}-node");
    match request.mode.value {
        Mode::Karpenter => {
            let mut ebs = vec![
                ("volumeSize", Y::str(if infra { "100Gi" } else { "80Gi" })),
                ("volumeType", Y::str("gp3")),
                ("encrypted", Y::Bool(true)),
            ];
            ebs.extend(kms);
            ebs.push(("deleteOnTermination", Y::Bool(true)));
            Y::map([
                ("apiVersion", Y::str("karpenter.k8s.aws/v1")),
                ("kind", Y::str("EC2NodeClass")),
                ("metadata", meta(name, name_span)),
                (
                    "spec",
                    Y::map([
                        ("role", Y::str(role)),
                        (
                            "amiSelectorTerms",
                            Y::seq([Y::map([("alias", Y::str("al2023@latest"))])]),
                        ),
                        ("subnetSelectorTerms", discovery()),
                        ("securityGroupSelectorTerms", discovery()),
                        (
                            "metadataOptions",
                            Y::map([
                                ("httpEndpoint", Y::str("enabled")),
                                ("httpProtocolIPv6", Y::str("disabled")),
                                (
                                    "httpPutResponseHopLimit",
                                    Y::Int(compliance.imds_hop_limit.value)
                                        .from(compliance.imds_hop_limit.span),
                                ),
                                ("httpTokens", Y::str("required")),
                            ]),
                        ),
                        (
                            "blockDeviceMappings",
                            Y::seq([Y::map([
                                ("deviceName", Y::str("/dev/xvda")),
                                ("rootVolume", Y::Bool(true)),
                                ("ebs", Y::map(ebs).from(compliance.span)),
                            ])]),
                        ),
                        ("tags", tags(request, shape, infra)),
                    ]),
                ),
            ])
        }
        Mode::AutoMode => {
            let mut storage = vec![
                ("size", Y::str(if infra { "100Gi" } else { "80Gi" })),
                ("iops", Y::Int(3000)),
                ("throughput", Y::Int(125)),
            ];
            storage.extend(kms);
            Y::map([
                ("apiVersion", Y::str("eks.amazonaws.com/v1")),
                ("kind", Y::str("NodeClass")),
                ("metadata", meta(name, name_span)),
                (
                    "spec",
                    Y::map([
                        ("role", Y::str(role)),
                        ("subnetSelectorTerms", discovery()),
                        ("securityGroupSelectorTerms", discovery()),
                        ("ephemeralStorage", Y::map(storage).from(compliance.span)),
                        ("networkPolicy", Y::str("DefaultAllow")),
                        ("tags", tags(request, shape, infra)),
                    ]),
                ),
            ])
        }
    }
}

fn requirement(key: &str, values: Y) -> Y {
    Y::map([
        ("key", Y::str(key)),
        ("operator", Y::str("In")),
        ("values", values),
    ])
}

fn labels(pairs: &[(String, String)]) -> Vec<(String, Y)> {
    pairs.iter().map(|(k, v)| (k.clone(), Y::str(v))).collect()
}

/// The infrastructure NodePool: the policy's label and taint, a disruption budget.
pub(super) fn infra_pool(request: &ClusterRequest, shape: &Shape<'_>) -> Y {
    let pool = &request.infra_pool;
    let (group, kind, prefix) = flavor(request.mode.value);
    let mut requirements = vec![
        requirement(
            "karpenter.sh/capacity-type",
            strings(pool.capacity_types.iter().map(|c| (c.as_str(), c.span)))
                .from(pool.capacity_types.span),
        ),
        requirement(
            "kubernetes.io/arch",
            strings(pool.architectures.iter().map(|a| (a.as_str(), a.span)))
                .from(pool.architectures.span),
        ),
        requirement(
            &format!("{prefix}/instance-category"),
            strings(
                pool.instance_categories
                    .iter()
                    .map(|c| (c.as_str(), c.span)),
            )
            .from(pool.instance_categories.span),
        ),
    ];
    if !pool.instance_sizes.is_empty() {
        requirements.push(requirement(
            &format!("{prefix}/instance-size"),
            strings(pool.instance_sizes.iter().map(|s| (s.as_str(), s.span)))
                .from(pool.instance_sizes.span),
        ));
    }
    let (key, value, effect) = &shape.infra_taint;
    Y::map([
        ("apiVersion", Y::str("karpenter.sh/v1")),
        ("kind", Y::str("NodePool")),
        ("metadata", meta("infra", Span::default())),
        (
            "spec",
            Y::map([
                (
                    "template",
                    Y::map([
                        (
                            "metadata",
                            Y::map([("labels", Y::Map(labels(&shape.infra_labels)))]),
                        ),
                        (
                            "spec",
                            Y::map([
                                (
                                    "nodeClassRef",
                                    Y::map([
                                        ("group", Y::str(group)),
                                        ("kind", Y::str(kind)),
                                        ("name", Y::str("infra")),
                                    ]),
                                ),
                                ("requirements", Y::Seq(requirements)),
                                (
                                    "taints",
                                    Y::seq([Y::map([
                                        ("key", Y::str(key)),
                                        ("value", Y::str(value)),
                                        ("effect", Y::str(*effect)),
                                    ])]),
                                ),
                                ("expireAfter", Y::str("720h")),
                            ]),
                        ),
                    ]),
                ),
                ("limits", limits(&pool.limits)),
                (
                    "disruption",
                    Y::map([
                        ("consolidationPolicy", Y::str("WhenEmpty")),
                        ("consolidateAfter", Y::str("10m")),
                        ("budgets", Y::seq([Y::map([("nodes", Y::str("1"))])])),
                    ]),
                ),
            ]),
        ),
    ])
    .from(pool.span)
}

fn limits(limits: &crate::reader::Spanned<crate::model::request::Limits>) -> Y {
    Y::map([
        (
            "cpu",
            Y::str(limits.cpu.value.to_string()).from(limits.cpu.span),
        ),
        (
            "memory",
            Y::str(&limits.memory.value).from(limits.memory.span),
        ),
    ])
    .from(limits.span)
}

fn flavor(mode: Mode) -> (&'static str, &'static str, &'static str) {
    match mode {
        Mode::Karpenter => (KARPENTER_GROUP, "EC2NodeClass", "karpenter.k8s.aws"),
        Mode::AutoMode => (AUTO_MODE_GROUP, "NodeClass", "eks.amazonaws.com"),
    }
}

/// The label that tells the client's pools apart, for workloads that want one of them.
pub(super) const POOL_LABEL: &str = "eksgate.dev/pool";

/// The template labels of a client pool.
pub(super) fn client_labels(
    request: &ClusterRequest,
    shape: &Shape<'_>,
    pool: &ClientPool,
) -> Vec<(String, Y)> {
    let billing = &request.billing.value;
    let mut out = labels(&shape.app_labels);
    out.push((
        "client-id".to_string(),
        Y::str(&billing.client_id.value).from(billing.client_id.span),
    ));
    out.push((
        POOL_LABEL.to_string(),
        Y::str(&pool.name.value).from(pool.name.span),
    ));
    out
}

/// A client NodePool.
pub(super) fn client_pool(
    request: &ClusterRequest,
    shape: &Shape<'_>,
    pool: &crate::reader::Spanned<ClientPool>,
) -> Y {
    let name = pool.resource_name(&request.client_name);
    let (group, kind, prefix) = flavor(request.mode.value);
    let generations = if pool.instance_generations.is_empty() {
        Y::map([
            ("key", Y::str(format!("{prefix}/instance-generation"))),
            ("operator", Y::str("Gt")),
            ("values", Y::seq([Y::str("4")])),
        ])
    } else {
        let texts: Vec<(String, Span)> = pool
            .instance_generations
            .iter()
            .map(|g| (g.value.to_string(), g.span))
            .collect();
        requirement(
            &format!("{prefix}/instance-generation"),
            Y::seq(texts.into_iter().map(|(t, s)| Y::str(t).from(s)))
                .from(pool.instance_generations.span),
        )
    };
    Y::map([
        ("apiVersion", Y::str("karpenter.sh/v1")),
        ("kind", Y::str("NodePool")),
        ("metadata", meta(&name, pool.name.span)),
        (
            "spec",
            Y::map([
                (
                    "template",
                    Y::map([
                        (
                            "metadata",
                            Y::map([("labels", Y::Map(client_labels(request, shape, pool)))]),
                        ),
                        (
                            "spec",
                            Y::map([
                                (
                                    "nodeClassRef",
                                    Y::map([
                                        ("group", Y::str(group)),
                                        ("kind", Y::str(kind)),
                                        ("name", Y::str(&name)),
                                    ]),
                                ),
                                (
                                    "requirements",
                                    Y::seq([
                                        requirement(
                                            "karpenter.sh/capacity-type",
                                            strings(
                                                pool.capacity_types
                                                    .iter()
                                                    .map(|c| (c.as_str(), c.span)),
                                            )
                                            .from(pool.capacity_types.span),
                                        ),
                                        requirement(
                                            "kubernetes.io/arch",
                                            strings(
                                                pool.architectures
                                                    .iter()
                                                    .map(|a| (a.as_str(), a.span)),
                                            )
                                            .from(pool.architectures.span),
                                        ),
                                        requirement(
                                            &format!("{prefix}/instance-category"),
                                            strings(
                                                pool.instance_categories
                                                    .iter()
                                                    .map(|c| (c.as_str(), c.span)),
                                            )
                                            .from(pool.instance_categories.span),
                                        ),
                                        generations,
                                    ]),
                                ),
                                ("expireAfter", Y::str("336h")),
                            ]),
                        ),
                    ]),
                ),
                ("limits", limits(&pool.limits)),
                (
                    "disruption",
                    Y::map([
                        (
                            "consolidationPolicy",
                            Y::str(pool.consolidation.policy.as_str()),
                        ),
                        (
                            "consolidateAfter",
                            Y::str(&pool.consolidation.after.value)
                                .from(pool.consolidation.after.span),
                        ),
                        ("budgets", Y::seq([Y::map([("nodes", Y::str("20%"))])])),
                    ]),
                ),
            ]),
        ),
    ])
    .from(pool.span)
}

fn deployment(name: &str, namespace: &str, node_selector: Vec<(String, Y)>, tolerations: Y) -> Y {
    let app = || Y::map([("app", Y::str(name))]);
    let mut pod = vec![("nodeSelector", Y::Map(node_selector))];
    if tolerations != Y::Seq(Vec::new()) {
        pod.push(("tolerations", tolerations));
    }
    pod.push((
        "containers",
        Y::seq([Y::map([
            ("name", Y::str("app")),
            ("image", Y::str("registry.k8s.io/pause:3.10")),
            (
                "resources",
                Y::map([(
                    "requests",
                    Y::map([("cpu", Y::str("100m")), ("memory", Y::str("64Mi"))]),
                )]),
            ),
        ])]),
    ));
    Y::map([
        ("apiVersion", Y::str("apps/v1")),
        ("kind", Y::str("Deployment")),
        (
            "metadata",
            Y::map([("name", Y::str(name)), ("namespace", Y::str(namespace))]),
        ),
        (
            "spec",
            Y::map([
                ("replicas", Y::Int(1)),
                ("selector", Y::map([("matchLabels", app())])),
                (
                    "template",
                    Y::map([
                        ("metadata", Y::map([("labels", app())])),
                        (
                            "spec",
                            Y::Map(pod.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
                        ),
                    ]),
                ),
            ]),
        ),
    ])
}

/// An example platform workload: tolerates the infrastructure taint and selects its label.
/// `None` when the policy names no infrastructure namespace (then nothing may tolerate it).
pub(super) fn infra_workload(policy: &Policy, shape: &Shape<'_>) -> Option<Y> {
    let namespace = policy.namespaces.infrastructure.first()?;
    let (key, value, effect) = &shape.infra_taint;
    Some(deployment(
        "infra-example",
        namespace,
        labels(&shape.infra_labels),
        Y::seq([Y::map([
            ("key", Y::str(key)),
            ("operator", Y::str("Equal")),
            ("value", Y::str(value)),
            ("effect", Y::str(*effect)),
        ])]),
    ))
}

/// An example client workload for one pool: selects the pool's labels, tolerates nothing.
pub(super) fn client_workload(request: &ClusterRequest, shape: &Shape<'_>, pool: &ClientPool) -> Y {
    deployment(
        &format!("{}-example", pool.name.value),
        &request.client_name,
        client_labels(request, shape, pool),
        Y::seq([]),
    )
}

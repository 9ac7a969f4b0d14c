use crate::model::scheduling::{
    self, Alternative, LabelSet, LabelSets, Mismatch, PoolIndex, label_mismatch_count,
    label_mismatches, labels_fit, pool_label_sets, restrict,
};
use crate::model::{NodePool, Taint, Workload};
use crate::node::{CompactString, Node};
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A workload fits no NodePool in the checked set and would stay Pending.
    ///
    /// ## Why
    /// Karpenter launches a node for a pending pod only from a NodePool the pod fits; if none
    /// fits, the pod stays `Pending` with `incompatible with nodepool` events, and a rollout
    /// hangs until its deadline. This rule runs Karpenter's matching against every NodePool
    /// of the checked set (only when the set has at least one) and names the closest pool and
    /// why it does not fit.
    ///
    /// A pod fits a pool when, for its `nodeSelector` together with one of its required node
    /// affinity terms (terms are ORed, expressions ANDed): every label it requires can be on
    /// the pool's nodes, and it tolerates every `NoSchedule` and `NoExecute` taint of the
    /// pool (`PreferNoSchedule` taints and `startupTaints` never block). A pool's nodes carry
    /// its `requirements`, its template labels, `karpenter.sh/nodepool` and the node class
    /// label (`karpenter.k8s.aws/ec2nodeclass`). Well-known labels (`kubernetes.io/arch`,
    /// `topology.kubernetes.io/zone`, `karpenter.k8s.aws/instance-*`, ...) are open unless the
    /// pool restricts them; any other label must be defined by the pool, unless the pod uses
    /// `NotIn` or `DoesNotExist`: Karpenter never invents a custom label.
    ///
    /// Karpenter v1 adds no default requirement to a pool (kubernetes-sigs/karpenter
    /// `NodePool.SetDefaults` is empty): a pool that does not restrict `kubernetes.io/arch` or
    /// `karpenter.sh/capacity-type` offers every architecture its AMIs support and both `spot`
    /// and `on-demand`. `reserved` capacity exists only when the pool's node class selects
    /// capacity reservations (`capacityReservationSelectorTerms`), and the node's
    /// `kubernetes.io/os` follows the node class's AMI family (`windows` for the Windows
    /// families and aliases, `linux` for AL2, AL2023 and Bottlerocket; Auto Mode is Linux only),
    /// as the AWS provider's instance types say (`getOS`).
    ///
    /// Not checked: DaemonSets, the policy's exempt namespaces, pods with `nodeName`, and pods
    /// that may run outside Karpenter, where one of their alternatives requires
    /// `karpenter.sh/nodepool` to be absent (`DoesNotExist`), selects a managed node group
    /// (`eks.amazonaws.com/nodegroup`), selects `eks.amazonaws.com/compute-type` `fargate` or
    /// `hybrid`, pins a node (`kubernetes.io/hostname`, `matchFields`), or selects the EKS
    /// Auto Mode built-in pools `system` or `general-purpose` while the set does not define
    /// them. The check assumes the set holds every NodePool of the cluster.
    ///
    /// One problem, one finding: an infrastructure workload whose only obstacle is the
    /// infrastructure taint, which it does not tolerate at all, is SEP004's finding.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: applications}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements:
    ///         - {key: kubernetes.io/arch, operator: In, values: [amd64]}
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: checkout
    ///   namespace: shop
    /// spec:
    ///   selector:
    ///     matchLabels: {app: checkout}
    ///   template:
    ///     metadata:
    ///       labels: {app: checkout}
    ///     spec:
    ///       nodeSelector:
    ///         kubernetes.io/arch: arm64
    ///       containers:
    ///         - {name: checkout, image: ghcr.io/acme/checkout:1.4.0}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: applications}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements:
    ///         - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: checkout
    ///   namespace: shop
    /// spec:
    ///   selector:
    ///     matchLabels: {app: checkout}
    ///   template:
    ///     metadata:
    ///       labels: {app: checkout}
    ///     spec:
    ///       nodeSelector:
    ///         kubernetes.io/arch: arm64
    ///       containers:
    ///         - {name: checkout, image: ghcr.io/acme/checkout:1.4.0}
    /// ```
    pub WorkloadUnschedulable { id: "SEP006", name: "workload-unschedulable", severity: Error }
}

const NODEPOOL: &str = "karpenter.sh/nodepool";

/// EKS Auto Mode's built-in pools: enabled on the cluster, never written as manifests.
const AUTO_MODE_BUILT_IN_POOLS: &[&str] = &["system", "general-purpose"];

/// Labels of EKS managed (and eksctl) node groups: selecting one targets that node group.
const MANAGED_NODE_GROUP_LABELS: &[&str] = &[
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
];

/// Why a pod alternative does not fit a pool.
enum Problem<'p> {
    Label(Mismatch),
    Taint(&'p Taint<'p>),
}

/// Whether an alternative may be placed on capacity Karpenter does not manage (managed node
/// groups, Fargate, hybrid nodes, a named node, Auto Mode built-in pools).
fn outside_karpenter(alt: &Alternative<'_, '_>, pool_names: &[&str]) -> bool {
    let required = |key: &str| alt.get(key).and_then(LabelSet::required_values);
    let no_nodepool = alt
        .get(NODEPOOL)
        .is_some_and(|s| s.absent_ok && !s.complement && s.values.is_empty());
    let serverless = required("eks.amazonaws.com/compute-type")
        .is_some_and(|v| v.iter().any(|t| t == "fargate" || t == "hybrid"));
    let node_group = MANAGED_NODE_GROUP_LABELS
        .iter()
        .any(|k| required(k).is_some_and(|v| !v.is_empty()));
    let named_node = required("kubernetes.io/hostname").is_some_and(|v| !v.is_empty())
        || alt.term.is_some_and(|t| t.has_match_fields);
    let built_in = required(NODEPOOL).is_some_and(|names| {
        !names.is_empty()
            && names.iter().all(|n| {
                AUTO_MODE_BUILT_IN_POOLS.contains(&n.as_str()) && !pool_names.contains(&n.as_str())
            })
    });
    no_nodepool || serverless || node_group || named_node || built_in
}

fn problems<'p>(
    w: &Workload<'_>,
    alt: &Alternative<'_, '_>,
    pool: &'p NodePool<'p>,
    sets: &LabelSets,
) -> Vec<Problem<'p>> {
    let mut out: Vec<Problem<'p>> = label_mismatches(&alt.sets, sets)
        .into_iter()
        .map(Problem::Label)
        .collect();
    out.extend(
        pool.taints
            .iter()
            .filter(|t| scheduling::blocks(&w.tolerations, t.key, t.value, t.effect))
            .map(Problem::Taint),
    );
    out
}

/// The pod's own requirement on `key`: its `nodeSelector` entry, else the affinity expression.
fn requirement_node<'a>(
    w: &Workload<'a>,
    alt: &Alternative<'_, 'a>,
    key: &str,
) -> Option<&'a Node> {
    let selector = w.node_selector_node.and_then(|s| {
        s.entries()
            .iter()
            .find(|e| e.key_str().map(scheduling::normalize_label) == Some(key))
            .map(|e| &e.key)
    });
    selector.or_else(|| alt.term.and_then(|t| t.expression(key)).map(|e| e.node))
}

/// Whether `w` tolerates every taint of `pool` that blocks placement.
fn tolerates_pool(w: &Workload<'_>, pool: &NodePool<'_>) -> bool {
    !pool
        .taints
        .iter()
        .any(|t| scheduling::blocks(&w.tolerations, t.key, t.value, t.effect))
}

/// `problems(..).len()`, without building them.
fn problem_count(
    w: &Workload<'_>,
    alt: &Alternative<'_, '_>,
    pool: &NodePool<'_>,
    sets: &LabelSets,
) -> usize {
    label_mismatch_count(&alt.sets, sets)
        + pool
            .taints
            .iter()
            .filter(|t| scheduling::blocks(&w.tolerations, t.key, t.value, t.effect))
            .count()
}

// Tests turn the pool index off to compare the rule with the search of every pool.
#[cfg(test)]
thread_local! {
    static VISIT_EVERY_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn visit_every_pool() -> bool {
    VISIT_EVERY_POOL.with(std::cell::Cell::get)
}

#[cfg(not(test))]
const fn visit_every_pool() -> bool {
    false
}

fn taint_text(t: &Taint<'_>) -> String {
    if t.value.is_empty() {
        format!("{}:{}", t.key, t.effect)
    } else {
        format!("{}={}:{}", t.key, t.value, t.effect)
    }
}

/// What a pool's nodes may carry ([`pool_label_sets`]), narrowed by what Karpenter v1 can
/// launch for it: the capacity types of [`Context::capacity_types`] (`reserved` only with
/// capacity reservations) and the operating system of its node class's AMI family.
fn launchable_labels(cx: &Context<'_>, pool: &NodePool<'_>) -> LabelSets {
    let mut sets = pool_label_sets(pool);
    restrict(
        &mut sets,
        "karpenter.sh/capacity-type",
        &cx.capacity_types(pool),
    );
    if let Some(os) = cx.node_class_of(pool).and_then(|c| c.os()) {
        restrict(&mut sets, "kubernetes.io/os", &[os]);
    }
    // Held for every pool of the run while workloads are judged: no spare capacity.
    sets.shrink_to_fit();
    sets
}

/// The closest pool found so far: the alternative, the pool, its labels, whether it is an
/// infrastructure pool, and its rank (problems, on the wrong side of the fence).
type Closest<'p, 'a> = (
    &'p Alternative<'p, 'a>,
    &'p NodePool<'a>,
    &'p LabelSets,
    bool,
    (usize, bool),
);

impl Rule for WorkloadUnschedulable {
    // A workload is judged against every pool of the run and their node classes.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if cx.node_pools.is_empty() {
            return;
        }
        // Each pool's labels and class, worked out once rather than for every workload.
        let pools: Vec<(&NodePool<'a>, LabelSets, bool)> = cx
            .node_pools
            .iter()
            .map(|p| (p, launchable_labels(cx, p), cx.is_infra_pool(p)))
            .collect();
        let index = PoolIndex::new(pools.iter().map(|(_, sets, _)| sets));
        let pool_names: Vec<&str> = cx.node_pools.iter().map(|p| p.name).collect();
        for w in cx.workloads() {
            let w = &w;
            let Some(spec) = w.pod_spec else {
                continue;
            };
            if w.is_daemon_set() || cx.policy.is_exempt_namespace(w.effective_namespace()) {
                continue;
            }
            if spec
                .get("nodeName")
                .and_then(Node::scalar_text)
                .is_some_and(|n| !n.is_empty())
            {
                continue;
            }
            let what = w.describe();
            let alternatives = scheduling::alternatives(w);
            if alternatives.is_empty() {
                let node = spec
                    .path(&[
                        "affinity",
                        "nodeAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                    ])
                    .and_then(|r| r.entry("nodeSelectorTerms"))
                    .map_or_else(|| w.anchor(), |e| &e.key);
                out.report(
                    w.doc,
                    node,
                    format!("{what} matches no node: its required node affinity has no term with a requirement, and an empty term matches nothing"),
                )
                .help("give each `nodeSelectorTerms` entry `matchExpressions`, or remove the required node affinity");
                continue;
            }
            if alternatives
                .iter()
                .any(|a| outside_karpenter(a, &pool_names))
            {
                continue;
            }
            // Does the workload fit some pool? Only the pools the index leaves can fit.
            let fits = alternatives.iter().any(|alt| {
                let fits_pool = |(pool, sets, _): &(&NodePool<'a>, LabelSets, bool)| {
                    labels_fit(&alt.sets, sets) && tolerates_pool(w, pool)
                };
                match index.candidates(&alt.sets).filter(|_| !visit_every_pool()) {
                    Some(candidates) => candidates
                        .iter()
                        .filter_map(|&i| pools.get(i))
                        .any(fits_pool),
                    None => pools.iter().any(fits_pool),
                }
            });
            if fits {
                continue;
            }
            // It fits none. The closest (alternative, pool): the fewest problems; on a tie, a
            // pool on the workload's side of the fence (infrastructure pools for infrastructure
            // namespaces, other pools for the rest), then the first in the files.
            let infra_workload = cx.policy.is_infra_namespace(w.effective_namespace());
            let mut closest: Option<Closest<'_, 'a>> = None;
            // Nothing fits, so every pair has a problem: the first pair with one problem on the
            // workload's side of the fence is the closest, and the search can stop there.
            const UNBEATABLE: (usize, bool) = (1, false);
            'search: for alt in &alternatives {
                // The alternative's closest pool, the first in file order of those that rank
                // best. Pools that give it one of its indexed labels are ranked first: a pool
                // that gives none has a problem per indexed label, so when one of these has
                // fewer, it is the answer and the other pools are not visited.
                let rank_of = |i: usize| {
                    pools.get(i).map(|(pool, sets, infra_pool)| {
                        (
                            problem_count(w, alt, pool, sets),
                            *infra_pool != infra_workload,
                        )
                    })
                };
                let first_best = |order: &mut dyn Iterator<Item = usize>| {
                    let mut best: Option<(usize, (usize, bool))> = None;
                    for i in order {
                        if let Some(rank) = rank_of(i)
                            && best.is_none_or(|(_, b)| rank < b)
                        {
                            best = Some((i, rank));
                            if rank == UNBEATABLE {
                                break;
                            }
                        }
                    }
                    best
                };
                let (near, required) = if visit_every_pool() {
                    (Vec::new(), 0)
                } else {
                    index.near(&alt.sets)
                };
                let mut best = first_best(&mut near.iter().copied());
                if best.is_none_or(|(_, (count, _))| count >= required) {
                    best = first_best(&mut (0..pools.len()));
                }
                if let Some((i, rank)) = best
                    && closest.as_ref().is_none_or(|(_, _, _, _, b)| rank < *b)
                    && let Some((pool, sets, infra_pool)) = pools.get(i)
                {
                    closest = Some((alt, pool, sets, *infra_pool, rank));
                    if rank == UNBEATABLE {
                        break 'search;
                    }
                }
            }
            let Some((alt, pool, sets, infra_pool, _)) = closest else {
                continue;
            };
            let found = problems(w, alt, pool, sets);
            // One problem, one finding: an infrastructure workload whose only obstacle is the
            // infrastructure taint, while it tolerates none of the infrastructure class's
            // taints, is SEP004's to report (it names the missing toleration).
            let sep004_reports = cx.policy.infrastructure_class().is_some_and(|c| {
                !w.tolerations.iter().any(|t| c.tolerated_taint(t).is_some())
                    && found.iter().all(|p| {
                        matches!(p, Problem::Taint(t)
                            if c.taints.iter().any(|s| s.key == t.key && s.value == t.value))
                    })
            });
            if infra_workload && infra_pool && !found.is_empty() && sep004_reports {
                continue;
            }
            // A pool name that is not in the set says more than any label of the closest pool.
            if let Some(names) = alt.get(NODEPOOL).and_then(LabelSet::required_values)
                && !names.is_empty()
                && names.iter().all(|n| !pool_names.contains(&n.as_str()))
            {
                let node = requirement_node(w, alt, NODEPOOL).unwrap_or_else(|| w.anchor());
                let names: Vec<&str> = names.iter().map(CompactString::as_str).collect();
                out.report(
                    w.doc,
                    node,
                    format!(
                        "{what} selects NodePool `{}`, which is not in the checked set (its NodePools: {})",
                        names.join("`, `"),
                        crate::text::name_list(&pool_names)
                    ),
                )
                .help("check the pool name, or check the files that define that NodePool together with this workload");
                continue;
            }
            let more = match found.len() {
                0 | 1 => String::new(),
                2 => " (and 1 more problem)".to_string(),
                n => format!(" (and {} more problems)", n - 1),
            };
            let tolerations_key = spec.entry("tolerations").map(|e| &e.key);
            let (node, reason, help) = match found.first() {
                Some(Problem::Label(m)) => (
                    requirement_node(w, alt, &m.key).unwrap_or_else(|| w.anchor()),
                    m.describe(),
                    match &m.offered {
                        None => format!(
                            "define `{}` on pool `{}` (`spec.template.metadata.labels` or a requirement), or stop requiring it",
                            m.key, pool.name
                        ),
                        Some(_) => format!(
                            "require a value of `{}` that pool `{}` offers, or widen the pool's requirements",
                            m.key, pool.name
                        ),
                    },
                ),
                Some(Problem::Taint(t)) => (
                    tolerations_key.unwrap_or_else(|| w.anchor()),
                    format!(
                        "has taint `{}` that the pod does not tolerate",
                        taint_text(t)
                    ),
                    if t.value.is_empty() {
                        format!(
                            "if the workload belongs on pool `{}`, add the toleration `{{key: {}, operator: Exists, effect: {}}}`",
                            pool.name, t.key, t.effect
                        )
                    } else {
                        format!(
                            "if the workload belongs on pool `{}`, add the toleration `{{key: {}, operator: Equal, value: {}, effect: {}}}`",
                            pool.name, t.key, t.value, t.effect
                        )
                    },
                ),
                None => continue,
            };
            out.report(
                w.doc,
                node,
                format!(
                    "{what} fits no NodePool and would stay Pending: the closest, `{}`, {reason}{more}",
                    pool.name
                ),
            )
            .help(help);
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]
    use crate::rules::testing::findings;
    use proptest::prelude::*;

    /// A random set of pools and pods over a small vocabulary of labels, so that pods often
    /// fit no pool and several pools tie for the closest.
    fn pools_and_pods() -> impl Strategy<Value = String> {
        let label = (0..3usize, 0..3usize);
        let pool = (
            proptest::collection::vec(label.clone(), 0..3),
            any::<bool>(),
            any::<bool>(),
        );
        let term = proptest::collection::vec(
            (0..4usize, proptest::collection::vec(0..3usize, 1..3)),
            1..3,
        );
        let pod = (
            proptest::collection::vec(label, 0..3),
            proptest::option::of(proptest::collection::vec(term, 1..3)),
            any::<bool>(),
            any::<bool>(),
        );
        (
            proptest::collection::vec(pool, 1..12),
            proptest::collection::vec(pod, 1..6),
        )
            .prop_map(|(pools, pods)| {
                const KEYS: [&str; 4] = ["team", "tier", "zone-group", "kubernetes.io/arch"];
                const VALUES: [&str; 3] = ["a", "b", "amd64"];
                let mut text = String::new();
                for (i, (labels, tainted, infra)) in pools.iter().enumerate() {
                    let labels: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{}: {}", KEYS[*k], VALUES[*v]))
                        .collect();
                    let taints = match (tainted, infra) {
                        (_, true) => "[{key: workload-type, value: infrastructure, effect: NoSchedule}]",
                        (true, false) => "[{key: team, value: a, effect: NoSchedule}]",
                        (false, false) => "[]",
                    };
                    let node_type = if *infra { "infrastructure" } else { "applications" };
                    text.push_str(&format!(
                        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: p{i}}}\nspec:\n  template:\n    metadata: {{labels: {{node-type: {node_type}, {}}}}}\n    spec:\n      requirements: []\n      taints: {taints}\n---\n",
                        labels.join(", ")
                    ));
                }
                for (i, (selector, terms, tolerates, infra_ns)) in pods.iter().enumerate() {
                    let ns = if *infra_ns { "monitoring" } else { "shop" };
                    let selector: Vec<String> = selector
                        .iter()
                        .map(|(k, v)| format!("{}: {}", KEYS[*k], VALUES[*v]))
                        .collect();
                    let affinity = terms.as_ref().map_or_else(String::new, |terms| {
                        let terms: Vec<String> = terms
                            .iter()
                            .map(|exprs| {
                                let exprs: Vec<String> = exprs
                                    .iter()
                                    .map(|(k, vs)| {
                                        let vs: Vec<&str> = vs.iter().map(|v| VALUES[*v]).collect();
                                        format!(
                                            "{{key: {}, operator: In, values: [{}]}}",
                                            KEYS[*k],
                                            vs.join(", ")
                                        )
                                    })
                                    .collect();
                                format!("{{matchExpressions: [{}]}}", exprs.join(", "))
                            })
                            .collect();
                        format!(
                            "  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{}]}}}}}}\n",
                            terms.join(", ")
                        )
                    });
                    let tolerations = if *tolerates {
                        "  tolerations: [{key: team, operator: Exists}]\n"
                    } else {
                        ""
                    };
                    text.push_str(&format!(
                        "apiVersion: v1\nkind: Pod\nmetadata: {{name: w{i}, namespace: {ns}}}\nspec:\n  nodeSelector: {{{}}}\n{affinity}{tolerations}  containers: [{{name: c, image: i}}]\n---\n",
                        selector.join(", ")
                    ));
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The pool index only skips work: the findings are those of visiting every pool.
        #[test]
        fn the_pool_index_finds_what_visiting_every_pool_finds(text in pools_and_pods()) {
            let indexed = findings("SEP006", &text);
            super::VISIT_EVERY_POOL.with(|v| v.set(true));
            let visited = findings("SEP006", &text);
            super::VISIT_EVERY_POOL.with(|v| v.set(false));
            prop_assert_eq!(indexed, visited, "{}", text);
        }
    }

    const POOLS: &str = "apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: infra}
spec:
  template:
    metadata: {labels: {node-type: infrastructure}}
    spec:
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}]
      taints: [{key: workload-type, value: infrastructure, effect: NoSchedule}]
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: apps}
spec:
  template:
    metadata: {labels: {node-type: applications}}
    spec:
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
      taints: [{key: example.com/soft, value: 'true', effect: PreferNoSchedule}]
---
";

    fn run(ns: &str, spec: &str) -> Vec<String> {
        findings(
            "SEP006",
            &format!(
                "{POOLS}apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n{spec}"
            ),
        )
    }

    /// One client pool on node class `apps`, with the given class spec, and a Pod.
    fn one_pool(class_spec: &str, selector: &str) -> Vec<String> {
        findings(
            "SEP006",
            &format!(
                "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: apps}}\nspec:\n{class_spec}---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: apps}}\nspec:\n  template:\n    metadata: {{labels: {{node-type: applications}}}}\n    spec:\n      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}}\n      requirements: []\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop}}\nspec:\n  nodeSelector: {{{selector}}}\n"
            ),
        )
    }

    #[test]
    fn unrestricted_pools_offer_what_karpenter_v1_can_launch() {
        let al2023 = "  amiSelectorTerms: [{alias: al2023@v20240807}]\n";
        let windows = "  amiSelectorTerms: [{alias: windows2022@latest}]\n";
        let reserving = "  amiSelectorTerms: [{alias: al2023@v20240807}]\n  capacityReservationSelectorTerms: [{id: cr-0123456789abcdef0}]\n";
        // No default requirements: both architectures, spot and on-demand.
        for selector in [
            "kubernetes.io/arch: arm64",
            "karpenter.sh/capacity-type: spot",
            "karpenter.sh/capacity-type: on-demand",
            "kubernetes.io/os: linux",
        ] {
            assert!(one_pool(al2023, selector).is_empty(), "{selector}");
        }
        // The OS follows the AMI family; `reserved` needs capacity reservations.
        assert_eq!(one_pool(al2023, "kubernetes.io/os: windows").len(), 1);
        assert_eq!(one_pool(windows, "kubernetes.io/os: linux").len(), 1);
        assert!(one_pool(windows, "kubernetes.io/os: windows").is_empty());
        let got = one_pool(al2023, "karpenter.sh/capacity-type: reserved");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(one_pool(reserving, "karpenter.sh/capacity-type: reserved").is_empty());
    }

    #[test]
    fn closest_pool_and_reason() {
        let got = run("shop", "  nodeSelector: {kubernetes.io/arch: arm64}\n");
        assert_eq!(got.len(), 1);
        // infra allows arm64 but is tainted; apps is amd64 only: one problem each, and a
        // client workload is told about the client pool.
        assert!(got[0].contains("the closest, `apps`"), "{got:?}");
        assert!(got[0].contains("`kubernetes.io/arch`: `amd64`"), "{got:?}");
        // An infrastructure workload whose only obstacle is the infrastructure taint is
        // SEP004's finding (one problem, one finding).
        let got = run(
            "monitoring",
            "  nodeSelector: {kubernetes.io/arch: arm64}\n",
        );
        assert!(got.is_empty(), "{got:?}");
        assert_eq!(
            findings(
                "SEP004",
                &format!(
                    "{POOLS}apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: monitoring}}\nspec:\n  nodeSelector: {{kubernetes.io/arch: arm64}}\n"
                )
            )
            .len(),
            2
        );
        let got = run(
            "shop",
            "  nodeSelector: {kubernetes.io/arch: arm64, node-type: applications}\n",
        );
        assert!(got[0].contains("the closest, `apps`"), "{got:?}");
        assert!(got[0].contains("`kubernetes.io/arch`: `amd64`"), "{got:?}");
        let got = run("shop", "  nodeSelector: {team: a, node-type: gpu}\n");
        assert!(got[0].contains("(and 1 more problem)"), "{got:?}");
    }

    #[test]
    fn fits() {
        // PreferNoSchedule never blocks.
        assert!(run("shop", "  nodeSelector: {node-type: applications}\n").is_empty());
        // A wildcard toleration reaches the tainted pool.
        assert!(
            run(
                "monitoring",
                "  nodeSelector: {kubernetes.io/arch: arm64}\n  tolerations: [{operator: Exists}]\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn capacity_outside_karpenter_is_not_checked() {
        let affinity = |expr: &str| {
            format!(
                "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{expr}, {{key: team, operator: In, values: [a]}}]\n"
            )
        };
        assert!(
            run(
                "shop",
                &affinity("{key: karpenter.sh/nodepool, operator: DoesNotExist}")
            )
            .is_empty()
        );
        assert!(
            run(
                "shop",
                &affinity("{key: eks.amazonaws.com/compute-type, operator: In, values: [fargate]}")
            )
            .is_empty()
        );
        assert!(
            run(
                "shop",
                &affinity("{key: kubernetes.io/hostname, operator: In, values: [ip-10-0-0-1]}")
            )
            .is_empty()
        );
        assert!(
            run(
                "shop",
                &affinity("{key: eks.amazonaws.com/nodegroup, operator: In, values: [system]}")
            )
            .is_empty()
        );
        assert!(
            run(
                "shop",
                "  nodeName: ip-10-0-0-1\n  nodeSelector: {team: a}\n"
            )
            .is_empty()
        );
        assert!(run("shop", "  nodeSelector: {karpenter.sh/nodepool: system}\n").is_empty());
        // Exempt namespaces and DaemonSets.
        assert!(run("kube-system", "  nodeSelector: {team: a}\n").is_empty());
        let ds = format!(
            "{POOLS}apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: d, namespace: shop}}\nspec:\n  template:\n    spec:\n      nodeSelector: {{team: a}}\n"
        );
        assert!(findings("SEP006", &ds).is_empty());
        // Only when the set has a NodePool.
        let alone = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  nodeSelector: {team: a}\n";
        assert!(findings("SEP006", alone).is_empty());
    }

    #[test]
    fn unknown_pool_and_empty_terms() {
        let got = run("shop", "  nodeSelector: {karpenter.sh/nodepool: gpu}\n");
        assert!(got[0].contains("not in the checked set"), "{got:?}");
        let got = run(
            "shop",
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms: [{}]\n",
        );
        assert!(got[0].contains("matches no node"), "{got:?}");
    }
}

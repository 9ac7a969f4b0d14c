//! Kubernetes and Karpenter scheduling semantics: tolerations against taints, and pod node
//! requirements against the labels a NodePool can give its nodes.
//!
//! Sources: `k8s.io/api/core/v1` `Toleration.ToleratesTaint`; kube-scheduler's taint filter
//! (only `NoSchedule` and `NoExecute` block placement); `component-helpers` node affinity
//! (terms ORed, expressions ANDed); Karpenter's `Requirements.Compatible` (a pod requirement on
//! a label that is not well known must be defined by the pool, unless it is `NotIn` or
//! `DoesNotExist`). See shared/research/karpenter-facts.md §8.

mod label_set;
mod pool_index;

pub use label_set::{LabelSet, Values};
pub use pool_index::PoolIndex;

use std::collections::HashMap;

use crate::model::{NodePool, Workload};
use crate::node::Node;

/// A pod toleration.
#[derive(Debug, Clone)]
pub struct Toleration<'a> {
    pub node: &'a Node,
    pub key: &'a str,
    pub operator: &'a str,
    pub value: &'a str,
    pub effect: &'a str,
}

impl<'a> Toleration<'a> {
    #[must_use]
    pub fn from_node(node: &'a Node) -> Self {
        let text = |k: &str| node.get(k).and_then(Node::as_str).unwrap_or("");
        Self {
            node,
            key: text("key"),
            operator: text("operator"),
            value: text("value"),
            effect: text("effect"),
        }
    }

    /// `ToleratesTaint`: effect, key and value (per operator) all match.
    ///
    /// `Lt`/`Gt` (alpha in Kubernetes 1.35, always on in Karpenter) compare both values as
    /// decimal integers: `Lt` tolerates a taint whose value is below the toleration's.
    #[must_use]
    pub fn tolerates(&self, key: &str, value: &str, effect: &str) -> bool {
        if !self.effect.is_empty() && self.effect != effect {
            return false;
        }
        if !self.key.is_empty() && self.key != key {
            return false;
        }
        let ints = || Some((value.parse::<i64>().ok()?, self.value.parse::<i64>().ok()?));
        match self.operator {
            // An empty key is only valid with `Exists`; the API server rejects it otherwise.
            "Exists" => true,
            "" | "Equal" => !self.key.is_empty() && self.value == value,
            "Lt" => !self.key.is_empty() && ints().is_some_and(|(taint, tol)| taint < tol),
            "Gt" => !self.key.is_empty() && ints().is_some_and(|(taint, tol)| taint > tol),
            _ => false,
        }
    }

    /// Matches every taint key (`operator: Exists` with no key), whatever its effect.
    #[must_use]
    pub fn matches_every_key(&self) -> bool {
        self.key.is_empty() && self.operator == "Exists"
    }

    /// Tolerates every taint (`operator: Exists` with no key and no effect).
    #[must_use]
    pub fn is_wildcard(&self) -> bool {
        self.matches_every_key() && self.effect.is_empty()
    }

    /// The toleration as Kubernetes prints it (`key=value:Effect`, `key:Exists`, `*`).
    #[must_use]
    pub fn describe(&self) -> String {
        let effect = if self.effect.is_empty() {
            String::new()
        } else {
            format!(":{}", self.effect)
        };
        match self.operator {
            "Exists" if self.key.is_empty() => format!("operator: Exists{effect}"),
            "Exists" => format!("{} Exists{effect}", self.key),
            "Lt" | "Gt" => format!("{} {} {}{effect}", self.key, self.operator, self.value),
            _ => format!("{}={}{effect}", self.key, self.value),
        }
    }
}

/// Whether taint `(key, value, effect)` blocks scheduling for `tolerations`.
/// `PreferNoSchedule` never blocks placement.
#[must_use]
pub fn blocks(tolerations: &[Toleration<'_>], key: &str, value: &str, effect: &str) -> bool {
    if effect == "PreferNoSchedule" {
        return false;
    }
    !tolerations.iter().any(|t| t.tolerates(key, value, effect))
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone)]
pub struct Expression<'a> {
    pub node: &'a Node,
    pub key: &'a str,
    pub operator: &'a str,
    pub values: Vec<String>,
}

/// A required node affinity term: its expressions are ANDed.
#[derive(Debug, Clone)]
pub struct SelectorTerm<'a> {
    pub node: &'a Node,
    pub expressions: Vec<Expression<'a>>,
    /// `matchFields` (only `metadata.name`): a term with them pins a named node.
    pub has_match_fields: bool,
}

impl<'a> SelectorTerm<'a> {
    #[must_use]
    pub fn from_node(node: &'a Node) -> Self {
        let expressions = node
            .get("matchExpressions")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|e| Expression {
                node: e,
                key: e.get("key").and_then(Node::as_str).unwrap_or(""),
                operator: e.get("operator").and_then(Node::as_str).unwrap_or(""),
                values: e
                    .get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::scalar_text)
                    .collect(),
            })
            .collect();
        let has_match_fields = node
            .get("matchFields")
            .is_some_and(|f| !f.items().is_empty());
        Self {
            node,
            expressions,
            has_match_fields,
        }
    }

    /// "A null or empty node selector term matches no objects" (kube-scheduler).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.expressions.is_empty() && !self.has_match_fields
    }

    /// The expression on label `key` (deprecated keys normalised), if any.
    #[must_use]
    pub fn expression(&self, key: &str) -> Option<&Expression<'a>> {
        self.expressions
            .iter()
            .find(|e| normalize_label(e.key) == key)
    }
}

/// Labels Karpenter knows how to produce without the pool naming them: a pod may select them
/// on any pool (karpenter `WellKnownLabels`, AWS provider and EKS Auto Mode additions).
#[must_use]
pub fn is_well_known_label(key: &str) -> bool {
    const KEYS: &[&str] = &[
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.k8s.aws/zone-id",
        "node.kubernetes.io/instance-type",
        "node.kubernetes.io/windows-build",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "karpenter.sh/capacity-type",
        "karpenter.sh/nodepool",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "eks.amazonaws.com/compute-type",
    ];
    KEYS.contains(&key)
        || key.starts_with("karpenter.k8s.aws/instance-")
        || key.starts_with("karpenter.k8s.aws/capacity-reservation-")
        || key.starts_with("karpenter.k8s.aws/placement-group-")
        || key.starts_with("eks.amazonaws.com/instance-")
}

/// Deprecated label keys Karpenter normalises to their stable names.
#[must_use]
pub fn normalize_label(key: &str) -> &str {
    match key {
        "failure-domain.beta.kubernetes.io/zone" => "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region" => "topology.kubernetes.io/region",
        "beta.kubernetes.io/arch" => "kubernetes.io/arch",
        "beta.kubernetes.io/os" => "kubernetes.io/os",
        "beta.kubernetes.io/instance-type" => "node.kubernetes.io/instance-type",
        other => other,
    }
}

/// Requirements on labels, by (normalised) key; requirements on one key are intersected.
pub type LabelSets = Vec<(String, LabelSet)>;

fn add_requirement(sets: &mut LabelSets, key: &str, set: &LabelSet) {
    let key = normalize_label(key);
    match sets.iter_mut().find(|(k, _)| k == key) {
        Some((_, existing)) => *existing = existing.intersect(set),
        None => sets.push((key.to_string(), set.clone())),
    }
}

/// [`LabelSets`] being built from many requirements: past a few keys, each is found by a
/// hash index rather than a walk, so a pool with 700,000 template labels (an 8 MB file) is
/// read in linear time (it took past 10 minutes). The order stays that of the first
/// requirement on each key, as messages list them.
#[derive(Default)]
struct LabelSetsBuilder {
    sets: LabelSets,
    index: HashMap<String, usize>,
}

impl LabelSetsBuilder {
    /// Keys up to which a walk is cheaper than hashing.
    const WALKED: usize = 16;

    fn add(&mut self, key: &str, set: &LabelSet) {
        if self.sets.len() < Self::WALKED {
            return add_requirement(&mut self.sets, key, set);
        }
        if self.index.is_empty() {
            self.index = self
                .sets
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
        }
        let key = normalize_label(key);
        match self.index.get(key).and_then(|&i| self.sets.get_mut(i)) {
            Some((_, existing)) => *existing = existing.intersect(set),
            None => {
                self.index.insert(key.to_string(), self.sets.len());
                self.sets.push((key.to_string(), set.clone()));
            }
        }
    }
}

/// Narrows `key` in `sets` to `values` (what the pool's node class or Karpenter itself
/// allows besides the pool's own requirements).
pub fn restrict(sets: &mut LabelSets, key: &str, values: &[&str]) {
    let values: Vec<String> = values.iter().map(|v| (*v).to_string()).collect();
    add_requirement(sets, key, &LabelSet::from_operator("In", &values));
}

/// The requirement on `key` (normalised) in `sets`.
#[must_use]
pub fn set_for<'s>(sets: &'s [(String, LabelSet)], key: &str) -> Option<&'s LabelSet> {
    let key = normalize_label(key);
    sets.iter().find(|(k, _)| k == key).map(|(_, s)| s)
}

/// What a pool's nodes may carry: requirements, template labels and the labels Karpenter adds
/// (`karpenter.sh/nodepool` and the node class label, e.g. `karpenter.k8s.aws/ec2nodeclass`).
#[must_use]
pub fn pool_label_sets(pool: &NodePool<'_>) -> LabelSets {
    let mut sets = LabelSetsBuilder::default();
    for req in &pool.requirements {
        sets.add(req.key, &LabelSet::from_operator(req.operator, &req.values));
    }
    for (key, _, value) in &pool.labels {
        if let Some(text) = value.scalar_text() {
            sets.add(key, &LabelSet::exactly(&text));
        }
    }
    sets.add("karpenter.sh/nodepool", &LabelSet::exactly(pool.name));
    if let Some(r) = &pool.node_class_ref
        && let (Some(group), Some(kind), Some(name)) = (r.group(), r.kind(), r.name())
    {
        // v1beta1 wrote `apiVersion: karpenter.k8s.aws/v1beta1` where v1 writes the group.
        let group = group.split('/').next().unwrap_or(group);
        sets.add(
            &format!("{group}/{}", kind.to_ascii_lowercase()),
            &LabelSet::exactly(name),
        );
    }
    sets.sets
}

/// The pod's requirements for one alternative (nodeSelector AND one affinity term).
#[must_use]
pub fn pod_label_sets(
    node_selector: &[(&str, &Node)],
    term: Option<&SelectorTerm<'_>>,
) -> LabelSets {
    let mut sets = LabelSetsBuilder::default();
    for (key, value) in node_selector {
        let text = value.scalar_text().unwrap_or_default();
        sets.add(key, &LabelSet::exactly(&text));
    }
    if let Some(term) = term {
        for e in &term.expressions {
            sets.add(e.key, &LabelSet::from_operator(e.operator, &e.values));
        }
    }
    sets.sets
}

/// One way a pod may be placed: its nodeSelector AND one required node affinity term.
#[derive(Debug, Clone)]
pub struct Alternative<'w, 'a> {
    /// The affinity term; `None` for a pod without required node affinity.
    pub term: Option<&'w SelectorTerm<'a>>,
    pub sets: LabelSets,
}

impl Alternative<'_, '_> {
    /// The requirement on `key`, if this alternative has one.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&LabelSet> {
        set_for(&self.sets, key)
    }
}

/// The placement alternatives of a workload (terms are ORed). Empty terms match no node and
/// are left out, so an empty list means the pod matches no node at all.
#[must_use]
pub fn alternatives<'w, 'a>(workload: &'w Workload<'a>) -> Vec<Alternative<'w, 'a>> {
    match &workload.affinity_terms {
        None => vec![Alternative {
            term: None,
            sets: pod_label_sets(&workload.node_selector, None),
        }],
        Some(terms) => terms
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| Alternative {
                term: Some(t),
                sets: pod_label_sets(&workload.node_selector, Some(t)),
            })
            .collect(),
    }
}

/// Why a pod alternative cannot get a label it requires from a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub key: String,
    /// What the pod requires.
    pub wanted: LabelSet,
    /// What the pool's nodes may carry; `None` when the label is not well known and the pool
    /// does not define it (Karpenter then never puts it on a node).
    pub offered: Option<LabelSet>,
}

impl Mismatch {
    /// For messages: ``does not define label `team` (the pod requires `a`)``,
    /// ``allows `kubernetes.io/arch`: `amd64`; the pod requires: `arm64` ``.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.offered {
            None => format!(
                "does not define label `{}` (the pod requires: {})",
                self.key,
                self.wanted.describe()
            ),
            Some(offered) => format!(
                "allows `{}`: {}; the pod requires: {}",
                self.key,
                offered.describe(),
                self.wanted.describe()
            ),
        }
    }
}

/// Whether a pool can give its nodes label `key` (normalised) as `wanted` requires.
fn label_fits(key: &str, wanted: &LabelSet, pool: &[(String, LabelSet)]) -> bool {
    match set_for(pool, key) {
        Some(offered) => wanted.compatible(offered),
        None if is_well_known_label(key) => wanted.compatible(&LabelSet::any()),
        // Karpenter will not put a label on a node that the pool does not define.
        None => wanted.compatible(&LabelSet::from_operator("DoesNotExist", &[])),
    }
}

/// Every label requirement of `pod` that `pool` cannot meet (Karpenter's `Compatible`).
#[must_use]
pub fn label_mismatches(pod: &[(String, LabelSet)], pool: &[(String, LabelSet)]) -> Vec<Mismatch> {
    pod.iter()
        .filter(|(key, wanted)| !label_fits(key, wanted, pool))
        .map(|(key, wanted)| Mismatch {
            key: key.clone(),
            wanted: wanted.clone(),
            offered: set_for(pool, key).cloned(),
        })
        .collect()
}

/// How many label requirements of `pod` `pool` cannot meet: `label_mismatches(..).len()`,
/// without building them.
#[must_use]
pub fn label_mismatch_count(pod: &[(String, LabelSet)], pool: &[(String, LabelSet)]) -> usize {
    pod.iter()
        .filter(|(key, wanted)| !label_fits(key, wanted, pool))
        .count()
}

/// Whether `pool` meets every label requirement of `pod`: `label_mismatches(..)` is empty.
#[must_use]
pub fn labels_fit(pod: &[(String, LabelSet)], pool: &[(String, LabelSet)]) -> bool {
    pod.iter()
        .all(|(key, wanted)| label_fits(key, wanted, pool))
}

/// The first label requirement of `pod` that `pool` cannot meet, or `None` when it fits.
#[must_use]
pub fn label_mismatch(pod: &[(String, LabelSet)], pool: &[(String, LabelSet)]) -> Option<Mismatch> {
    label_mismatches(pod, pool).into_iter().next()
}

#[cfg(test)]
mod tests;

//! Kubernetes and Karpenter scheduling semantics: tolerations against taints, and pod node
//! requirements against the labels a NodePool can give its nodes.
//!
//! Sources: `k8s.io/api/core/v1` `Toleration.ToleratesTaint`; kube-scheduler's taint filter
//! (only `NoSchedule` and `NoExecute` block placement); `component-helpers` node affinity
//! (terms ORed, expressions ANDed); Karpenter's `Requirements.Compatible` (a pod requirement on
//! a label that is not well known must be defined by the pool, unless it is `NotIn` or
//! `DoesNotExist`). See shared/research/karpenter-facts.md §8.

use std::collections::BTreeSet;

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

/// The values a label may take under a set of requirements, and whether it may be absent.
///
/// `In` = present with one of the values; `NotIn` = absent or another value; `Exists` =
/// present; `DoesNotExist` = absent; `Gt`/`Lt`/`Gte`/`Lte` = present, integer in range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSet {
    pub absent_ok: bool,
    /// `true`: every value except `values`; `false`: only `values`.
    pub complement: bool,
    pub values: BTreeSet<String>,
    /// Exclusive integer bounds (only on complement sets: a concrete set is filtered instead).
    pub greater_than: Option<i64>,
    pub less_than: Option<i64>,
}

impl LabelSet {
    /// Any value, or none.
    #[must_use]
    pub fn any() -> Self {
        Self {
            absent_ok: true,
            complement: true,
            values: BTreeSet::new(),
            greater_than: None,
            less_than: None,
        }
    }

    /// Exactly `value`.
    #[must_use]
    pub fn exactly(value: &str) -> Self {
        Self::from_operator("In", &[value.to_string()])
    }

    /// The set one requirement allows. Unknown operators allow nothing (the API rejects them).
    #[must_use]
    pub fn from_operator(operator: &str, values: &[String]) -> Self {
        let set: BTreeSet<String> = values.iter().cloned().collect();
        // Gt/Lt take exactly one integer; anything else matches no node.
        let int = || match values {
            [one] => one.parse::<i64>().ok(),
            _ => None,
        };
        let mut s = Self {
            absent_ok: false,
            complement: false,
            values: BTreeSet::new(),
            greater_than: None,
            less_than: None,
        };
        match operator {
            "In" => s.values = set,
            "NotIn" => {
                s.absent_ok = true;
                s.complement = true;
                s.values = set;
            }
            "Exists" => s.complement = true,
            "DoesNotExist" => s.absent_ok = true,
            "Gt" | "Gte" | "Lt" | "Lte" => {
                s.complement = true;
                match (operator, int()) {
                    ("Gt", Some(n)) => s.greater_than = Some(n),
                    ("Gte", Some(n)) => s.greater_than = Some(n.saturating_sub(1)),
                    ("Lt", Some(n)) => s.less_than = Some(n),
                    ("Lte", Some(n)) => s.less_than = Some(n.saturating_add(1)),
                    _ => s.complement = false,
                }
            }
            _ => {}
        }
        s
    }

    fn in_bounds(&self, value: &str) -> bool {
        if self.greater_than.is_none() && self.less_than.is_none() {
            return true;
        }
        let Ok(n) = value.parse::<i64>() else {
            return false;
        };
        self.greater_than.is_none_or(|g| n > g) && self.less_than.is_none_or(|l| n < l)
    }

    /// Whether a node with label value `value` satisfies the set.
    #[must_use]
    pub fn allows(&self, value: &str) -> bool {
        if self.complement {
            !self.values.contains(value) && self.in_bounds(value)
        } else {
            self.values.contains(value)
        }
    }

    /// The only values the set accepts, when it is a finite list that requires the label.
    #[must_use]
    pub fn required_values(&self) -> Option<&BTreeSet<String>> {
        (!self.complement && !self.absent_ok).then_some(&self.values)
    }

    /// The labels both sets allow.
    #[must_use]
    pub fn intersect(&self, other: &LabelSet) -> LabelSet {
        let greater_than = match (self.greater_than, other.greater_than) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let less_than = match (self.less_than, other.less_than) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (complement, values) = match (self.complement, other.complement) {
            (true, true) => (true, self.values.union(&other.values).cloned().collect()),
            (false, true) => (
                false,
                self.values.difference(&other.values).cloned().collect(),
            ),
            (true, false) => (
                false,
                other.values.difference(&self.values).cloned().collect(),
            ),
            (false, false) => (
                false,
                self.values.intersection(&other.values).cloned().collect(),
            ),
        };
        let mut out = LabelSet {
            absent_ok: self.absent_ok && other.absent_ok,
            complement,
            values,
            greater_than,
            less_than,
        };
        if !out.complement {
            let bounded = out.clone();
            out.values.retain(|v| bounded.in_bounds(v));
            // A concrete list keeps no bounds: its values were filtered by them.
            out.greater_than = None;
            out.less_than = None;
        }
        out
    }

    /// Whether some node satisfies both sets: `self.intersect(other).is_satisfiable()`, without
    /// building the intersection when one side is a plain list (`In`, `DoesNotExist`, a
    /// `nodeSelector` value), which is nearly every pod-against-pool comparison of `SEP006`.
    #[must_use]
    pub fn compatible(&self, other: &LabelSet) -> bool {
        let unbounded = |s: &LabelSet| s.greater_than.is_none() && s.less_than.is_none();
        match (self.complement, other.complement) {
            // The intersection is the common values: absence or a shared value satisfies it.
            (false, false) if unbounded(self) && unbounded(other) => {
                (self.absent_ok && other.absent_ok)
                    || self.values.iter().any(|v| other.values.contains(v))
            }
            // The intersection is this list, less the other's exclusions, within its bounds.
            (false, true) if unbounded(self) => {
                (self.absent_ok && other.absent_ok) || self.values.iter().any(|v| other.allows(v))
            }
            (true, false) if unbounded(other) => other.compatible(self),
            _ => self.intersect(other).is_satisfiable(),
        }
    }

    /// Whether some node (with or without the label) satisfies the set.
    #[must_use]
    pub fn is_satisfiable(&self) -> bool {
        if self.absent_ok {
            return true;
        }
        if !self.complement {
            return !self.values.is_empty();
        }
        if self.greater_than.is_none() && self.less_than.is_none() {
            return true;
        }
        // Integer label values are non-negative: a label value starts with a letter or digit.
        let low = i128::from(self.greater_than.unwrap_or(-1)).max(-1);
        let high = self.less_than.map_or(i128::from(i64::MAX) + 1, i128::from);
        let width = high - low - 1;
        let excluded: BTreeSet<i128> = self
            .values
            .iter()
            .filter_map(|v| v.parse::<i64>().ok())
            .map(i128::from)
            .filter(|&n| n > low && n < high)
            .collect();
        width > excluded.len() as i128
    }

    /// In words, for messages: `` `arm64` ``, ``one of `c`, `m` ``, ``a number > 4``,
    /// ``absent, or any value except `spot` ``.
    #[must_use]
    pub fn describe(&self) -> String {
        let list = |values: &BTreeSet<String>| {
            values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let present = if self.complement {
            let mut conditions = Vec::new();
            if let Some(g) = self.greater_than {
                conditions.push(format!("> {g}"));
            }
            if let Some(l) = self.less_than {
                conditions.push(format!("< {l}"));
            }
            let mut text = if conditions.is_empty() {
                "any value".to_string()
            } else {
                format!("a number {}", conditions.join(" and "))
            };
            if !self.values.is_empty() {
                text.push_str(" except ");
                text.push_str(&list(&self.values));
            }
            Some(text)
        } else {
            match self.values.len() {
                0 => None,
                1 => Some(list(&self.values)),
                _ => Some(format!("one of {}", list(&self.values))),
            }
        };
        match (present, self.absent_ok) {
            (Some(text), false) => text,
            (Some(text), true) => format!("absent, or {text}"),
            (None, true) => "absent".to_string(),
            (None, false) => "nothing".to_string(),
        }
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
    let mut sets = LabelSets::new();
    for req in &pool.requirements {
        add_requirement(
            &mut sets,
            req.key,
            &LabelSet::from_operator(req.operator, &req.values),
        );
    }
    for (key, _, value) in &pool.labels {
        if let Some(text) = value.scalar_text() {
            add_requirement(&mut sets, key, &LabelSet::exactly(&text));
        }
    }
    add_requirement(
        &mut sets,
        "karpenter.sh/nodepool",
        &LabelSet::exactly(pool.name),
    );
    if let Some(r) = &pool.node_class_ref
        && let (Some(group), Some(kind), Some(name)) = (r.group(), r.kind(), r.name())
    {
        // v1beta1 wrote `apiVersion: karpenter.k8s.aws/v1beta1` where v1 writes the group.
        let group = group.split('/').next().unwrap_or(group);
        add_requirement(
            &mut sets,
            &format!("{group}/{}", kind.to_ascii_lowercase()),
            &LabelSet::exactly(name),
        );
    }
    sets
}

/// The pod's requirements for one alternative (nodeSelector AND one affinity term).
#[must_use]
pub fn pod_label_sets(
    node_selector: &[(&str, &Node)],
    term: Option<&SelectorTerm<'_>>,
) -> LabelSets {
    let mut sets = LabelSets::new();
    for (key, value) in node_selector {
        let text = value.scalar_text().unwrap_or_default();
        add_requirement(&mut sets, key, &LabelSet::exactly(&text));
    }
    if let Some(term) = term {
        for e in &term.expressions {
            add_requirement(
                &mut sets,
                e.key,
                &LabelSet::from_operator(e.operator, &e.values),
            );
        }
    }
    sets
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
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use crate::source::{self, Document, Limits, SourceFile};

    fn docs(text: &str) -> Vec<Document> {
        source::load(0, &SourceFile::new("t.yaml", text), &Limits::default()).documents
    }

    /// A Pod with one toleration.
    fn pod_with_toleration(yaml: &str) -> Vec<Document> {
        docs(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  tolerations:\n  - {yaml}\n"
        ))
    }

    fn tolerates(yaml: &str, key: &str, value: &str, effect: &str) -> bool {
        let d = pod_with_toleration(yaml);
        let w = Workload::from_document(&d[0]).unwrap();
        w.tolerations[0].tolerates(key, value, effect)
    }

    #[test]
    fn toleration_matching() {
        let infra = ("workload-type", "infrastructure");
        let t = |yaml: &str, effect: &str| tolerates(yaml, infra.0, infra.1, effect);
        // Wildcard: every key, value and effect.
        assert!(t("{operator: Exists}", "NoSchedule"));
        assert!(t("{operator: Exists}", "NoExecute"));
        // Wildcard limited to one effect.
        assert!(!t("{operator: Exists, effect: NoExecute}", "NoSchedule"));
        assert!(t("{operator: Exists, effect: NoExecute}", "NoExecute"));
        // Key-only Exists.
        assert!(t("{key: workload-type, operator: Exists}", "NoSchedule"));
        assert!(!t("{key: other, operator: Exists}", "NoSchedule"));
        // Equal (explicit or default) compares values; an empty effect matches every effect.
        assert!(t(
            "{key: workload-type, value: infrastructure}",
            "NoExecute"
        ));
        assert!(t(
            "{key: workload-type, operator: Equal, value: infrastructure, effect: NoSchedule}",
            "NoSchedule"
        ));
        assert!(!t(
            "{key: workload-type, operator: Equal, value: infra, effect: NoSchedule}",
            "NoSchedule"
        ));
        assert!(!t(
            "{key: workload-type, operator: Equal, value: infrastructure, effect: NoSchedule}",
            "NoExecute"
        ));
        // Equal with no key is invalid (the API server rejects it) and matches nothing.
        assert!(!t("{operator: Equal, value: infrastructure}", "NoSchedule"));
        // Unknown operators match nothing.
        assert!(!t(
            "{key: workload-type, operator: In, value: infrastructure}",
            "NoSchedule"
        ));
    }

    #[test]
    fn comparison_tolerations() {
        assert!(tolerates(
            "{key: score, operator: Lt, value: '10'}",
            "score",
            "5",
            "NoSchedule"
        ));
        assert!(!tolerates(
            "{key: score, operator: Lt, value: '10'}",
            "score",
            "10",
            "NoSchedule"
        ));
        assert!(tolerates(
            "{key: score, operator: Gt, value: '10'}",
            "score",
            "11",
            "NoSchedule"
        ));
        assert!(!tolerates(
            "{key: score, operator: Gt, value: '10'}",
            "score",
            "x",
            "NoSchedule"
        ));
    }

    #[test]
    fn wildcard_classification() {
        let d = pod_with_toleration("{operator: Exists}");
        let w = Workload::from_document(&d[0]).unwrap();
        assert!(w.tolerations[0].is_wildcard());
        let d = pod_with_toleration("{operator: Exists, effect: NoSchedule}");
        let w = Workload::from_document(&d[0]).unwrap();
        assert!(w.tolerations[0].matches_every_key());
        assert!(!w.tolerations[0].is_wildcard());
    }

    #[test]
    fn prefer_no_schedule_never_blocks() {
        assert!(!blocks(&[], "k", "v", "PreferNoSchedule"));
        assert!(blocks(&[], "k", "v", "NoSchedule"));
        assert!(blocks(&[], "k", "v", "NoExecute"));
    }

    fn set(op: &str, values: &[&str]) -> LabelSet {
        let values: Vec<String> = values.iter().map(|v| (*v).to_string()).collect();
        LabelSet::from_operator(op, &values)
    }

    fn sat(sets: &[LabelSet]) -> bool {
        sets.iter()
            .fold(LabelSet::any(), |acc, s| acc.intersect(s))
            .is_satisfiable()
    }

    #[test]
    fn label_set_algebra() {
        assert!(sat(&[set("In", &["a", "b"]), set("In", &["b"])]));
        assert!(!sat(&[set("In", &["a"]), set("In", &["b"])]));
        assert!(sat(&[set("In", &["a", "b"]), set("NotIn", &["a"])]));
        assert!(!sat(&[set("In", &["a"]), set("NotIn", &["a"])]));
        assert!(
            sat(&[set("NotIn", &["a"]), set("NotIn", &["b"])]),
            "absent fits both"
        );
        assert!(!sat(&[set("Exists", &[]), set("DoesNotExist", &[])]));
        assert!(sat(&[set("DoesNotExist", &[]), set("NotIn", &["a"])]));
        assert!(!sat(&[set("DoesNotExist", &[]), set("In", &["a"])]));
        assert!(sat(&[set("Exists", &[]), set("In", &["a"])]));
        // `In` with no value matches nothing.
        assert!(!sat(&[set("In", &[])]));
        // Unknown operators match nothing.
        assert!(!sat(&[set("Like", &["a"])]));
    }

    /// `compatible` is `intersect(..).is_satisfiable()` for every pair of sets built from
    /// every operator, including sets that are themselves intersections.
    #[test]
    fn compatible_is_a_satisfiable_intersection() {
        let ops = [
            "In",
            "NotIn",
            "Exists",
            "DoesNotExist",
            "Gt",
            "Lt",
            "Gte",
            "Lte",
            "Like",
        ];
        let values: [&[&str]; 6] = [&[], &["a"], &["a", "b"], &["5"], &["5", "7"], &["x", "6"]];
        let mut sets: Vec<LabelSet> = vec![LabelSet::any()];
        for op in ops {
            for v in values {
                sets.push(set(op, v));
            }
        }
        let base = sets.clone();
        for a in &base {
            for b in &base {
                let both = a.intersect(b);
                if !sets.contains(&both) {
                    sets.push(both);
                }
            }
        }
        assert!(
            sets.len() > base.len(),
            "intersections add sets of their own"
        );
        for a in &sets {
            for b in &sets {
                assert_eq!(
                    a.compatible(b),
                    a.intersect(b).is_satisfiable(),
                    "{a:?} with {b:?}"
                );
            }
        }
    }

    #[test]
    fn numeric_ranges() {
        assert!(sat(&[set("Gt", &["5"]), set("Lt", &["7"])]), "6");
        assert!(!sat(&[set("Gt", &["5"]), set("Lt", &["6"])]), "no integer");
        assert!(!sat(&[
            set("Gt", &["5"]),
            set("Lt", &["7"]),
            set("NotIn", &["6"])
        ]));
        assert!(sat(&[
            set("Gt", &["5"]),
            set("Lt", &["8"]),
            set("NotIn", &["6"])
        ]));
        assert!(sat(&[set("In", &["6"]), set("Gt", &["5"])]));
        assert!(!sat(&[set("In", &["5"]), set("Gt", &["5"])]));
        assert!(
            !sat(&[set("In", &["x"]), set("Gt", &["5"])]),
            "not a number"
        );
        assert!(sat(&[set("Gte", &["5"]), set("Lte", &["5"])]), "5");
        assert!(!sat(&[set("Gte", &["6"]), set("Lte", &["5"])]));
        // Label values cannot be negative.
        assert!(!sat(&[set("Lt", &["0"])]));
        assert!(sat(&[set("Lt", &["1"])]), "0");
        // Gt/Lt need exactly one integer.
        assert!(!sat(&[set("Gt", &["five"])]));
        assert!(!sat(&[set("Gt", &["1", "2"])]));
        // A concrete list drops the bounds it was filtered by.
        let s = set("In", &["4", "6"]).intersect(&set("Gt", &["5"]));
        assert_eq!(s.values.len(), 1);
        assert_eq!((s.greater_than, s.less_than), (None, None));
    }

    #[test]
    fn descriptions() {
        assert_eq!(set("In", &["arm64"]).describe(), "`arm64`");
        assert_eq!(set("In", &["c", "m"]).describe(), "one of `c`, `m`");
        assert_eq!(set("Gt", &["4"]).describe(), "a number > 4");
        assert_eq!(
            set("NotIn", &["spot"]).describe(),
            "absent, or any value except `spot`"
        );
        assert_eq!(set("DoesNotExist", &[]).describe(), "absent");
        assert_eq!(set("Exists", &[]).describe(), "any value");
    }

    const POOL: &str = "apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: apps}
spec:
  template:
    metadata:
      labels: {node-type: applications}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps-class}
      requirements:
        - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
        - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['5']}
        - {key: team, operator: Exists}
";

    /// The first mismatch of a pod (given as a pod spec body) against `POOL`.
    fn fit(pod_spec: &str) -> Result<(), Box<Mismatch>> {
        let pool_docs = docs(POOL);
        let pool = NodePool::from_document(&pool_docs[0]).unwrap();
        let pool_sets = pool_label_sets(&pool);
        let text = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{pod_spec}");
        let pod_docs = docs(&text);
        let w = Workload::from_document(&pod_docs[0]).unwrap();
        let alts = alternatives(&w);
        let mut first = None;
        for alt in &alts {
            match label_mismatch(&alt.sets, &pool_sets) {
                None => return Ok(()),
                Some(m) => {
                    first.get_or_insert(m);
                }
            }
        }
        Err(Box::new(first.unwrap()))
    }

    #[test]
    fn pods_against_a_pool() {
        assert!(fit("  nodeSelector: {kubernetes.io/arch: arm64}\n").is_ok());
        assert!(fit("  nodeSelector: {beta.kubernetes.io/arch: arm64}\n").is_ok());
        assert_eq!(
            fit("  nodeSelector: {kubernetes.io/arch: s390x}\n")
                .unwrap_err()
                .key,
            "kubernetes.io/arch"
        );
        // Labels Karpenter adds: the pool's name and the node class.
        assert!(
            fit("  nodeSelector: {karpenter.sh/nodepool: apps, karpenter.k8s.aws/ec2nodeclass: apps-class}\n")
                .is_ok()
        );
        assert!(fit("  nodeSelector: {karpenter.sh/nodepool: infra}\n").is_err());
        // Well-known labels the pool leaves open.
        assert!(fit("  nodeSelector: {topology.kubernetes.io/zone: eu-west-1a}\n").is_ok());
        // A custom label the pool does not define: never on its nodes...
        let m = fit("  nodeSelector: {gpu: 'true'}\n").unwrap_err();
        assert_eq!((m.key.as_str(), m.offered.is_none()), ("gpu", true));
        // ...which is what NotIn and DoesNotExist ask for.
        let affinity = |exprs: &str| {
            format!(
                "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n{exprs}"
            )
        };
        assert!(
            fit(&affinity(
                "          - matchExpressions: [{key: gpu, operator: NotIn, values: ['true']}]\n"
            ))
            .is_ok()
        );
        assert!(
            fit(&affinity(
                "          - matchExpressions: [{key: gpu, operator: DoesNotExist}]\n"
            ))
            .is_ok()
        );
        // A label the pool defines (Exists) accepts a value.
        assert!(fit("  nodeSelector: {team: payments}\n").is_ok());
        assert!(
            fit(&affinity(
                "          - matchExpressions: [{key: team, operator: DoesNotExist}]\n"
            ))
            .is_err()
        );
        // Gt/Lt against the pool's Gt 5.
        assert!(fit(&affinity("          - matchExpressions: [{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['6']}]\n")).is_ok());
        assert!(fit(&affinity("          - matchExpressions: [{key: karpenter.k8s.aws/instance-generation, operator: Lt, values: ['6']}]\n")).is_err());
        // Expressions are ANDed, terms ORed.
        assert!(fit(&affinity("          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}, {key: node-type, operator: In, values: [gpu]}]\n")).is_err());
        assert!(fit(&affinity("          - matchExpressions: [{key: node-type, operator: In, values: [gpu]}]\n          - matchExpressions: [{key: node-type, operator: In, values: [applications]}]\n")).is_ok());
        // nodeSelector is ANDed with every term.
        assert!(fit(&format!("  nodeSelector: {{node-type: gpu}}\n{}", affinity("          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n"))).is_err());
    }

    #[test]
    fn empty_terms_match_nothing() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - {}\n          - matchExpressions: []\n";
        let d = docs(text);
        let w = Workload::from_document(&d[0]).unwrap();
        assert!(alternatives(&w).is_empty());
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n";
        let d = docs(text);
        let w = Workload::from_document(&d[0]).unwrap();
        assert_eq!(alternatives(&w).len(), 1, "no affinity: one alternative");
    }

    #[test]
    fn pool_sets_intersect_labels_and_requirements() {
        let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    metadata: {labels: {tier: gold}}\n    spec:\n      nodeClassRef: {group: eks.amazonaws.com, kind: NodeClass, name: auto}\n      requirements:\n        - {key: tier, operator: In, values: [gold, silver]}\n";
        let d = docs(text);
        let pool = NodePool::from_document(&d[0]).unwrap();
        let sets = pool_label_sets(&pool);
        assert_eq!(set_for(&sets, "tier"), Some(&LabelSet::exactly("gold")));
        assert_eq!(
            set_for(&sets, "eks.amazonaws.com/nodeclass"),
            Some(&LabelSet::exactly("auto"))
        );
        assert_eq!(
            set_for(&sets, "karpenter.sh/nodepool"),
            Some(&LabelSet::exactly("p"))
        );
    }
}

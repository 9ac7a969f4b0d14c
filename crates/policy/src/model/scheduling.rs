//! Kubernetes and Karpenter scheduling semantics: tolerations against taints, and pod node
//! requirements against the labels a NodePool can give its nodes.
//!
//! Sources: `k8s.io/api/core/v1` `Toleration.ToleratesTaint`; kube-scheduler's taint filter
//! (only `NoSchedule` and `NoExecute` block placement); `component-helpers` node affinity
//! (terms ORed, expressions ANDed); Karpenter's `Requirements.Compatible` (a pod requirement on
//! a label that is not well known must be defined by the pool, unless it is `NotIn` or
//! `DoesNotExist`). See shared/research/karpenter-facts.md §8.

use std::collections::BTreeSet;

use crate::model::NodePool;
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
    #[must_use]
    pub fn tolerates(&self, key: &str, value: &str, effect: &str) -> bool {
        if !self.effect.is_empty() && self.effect != effect {
            return false;
        }
        if !self.key.is_empty() && self.key != key {
            return false;
        }
        match self.operator {
            // An empty key is only valid with `Exists`; the API server rejects it otherwise.
            "Exists" => true,
            "" | "Equal" => !self.key.is_empty() && self.value == value,
            _ => false,
        }
    }

    /// Tolerates every taint (`operator: Exists` with no key and no effect).
    #[must_use]
    pub fn is_wildcard(&self) -> bool {
        self.key.is_empty() && self.operator == "Exists"
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
    /// Exclusive integer bounds.
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
        let int = || values.first().and_then(|v| v.parse::<i64>().ok());
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
                    // Not one integer: matches nothing.
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
        }
        out
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
        match (self.greater_than, self.less_than) {
            (Some(g), Some(l)) => {
                let width = i128::from(l) - i128::from(g) - 1;
                let excluded = self
                    .values
                    .iter()
                    .filter_map(|v| v.parse::<i64>().ok())
                    .filter(|&n| n > g && n < l)
                    .count();
                width > excluded as i128
            }
            _ => true,
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

/// What a pool's nodes may carry: requirements, template labels and the labels Karpenter adds.
#[must_use]
pub fn pool_label_sets(pool: &NodePool<'_>) -> Vec<(String, LabelSet)> {
    let mut sets: Vec<(String, LabelSet)> = Vec::new();
    let mut add = |key: &str, set: LabelSet| {
        let key = normalize_label(key).to_string();
        match sets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => *existing = existing.intersect(&set),
            None => sets.push((key, set)),
        }
    };
    for req in &pool.requirements {
        add(req.key, LabelSet::from_operator(req.operator, &req.values));
    }
    for (key, _, value) in &pool.labels {
        if let Some(text) = value.scalar_text() {
            add(key, LabelSet::exactly(&text));
        }
    }
    add("karpenter.sh/nodepool", LabelSet::exactly(pool.name));
    if let Some(r) = &pool.node_class_ref
        && let (Some(group), Some(kind), Some(name)) = (r.group(), r.kind(), r.name())
    {
        let group = group.split('/').next().unwrap_or(group);
        add(
            &format!("{group}/{}", kind.to_ascii_lowercase()),
            LabelSet::exactly(name),
        );
    }
    sets
}

/// The pod's requirements for one alternative (nodeSelector AND one affinity term).
#[must_use]
pub fn pod_label_sets(
    node_selector: &[(&str, &Node)],
    term: Option<&SelectorTerm<'_>>,
) -> Vec<(String, LabelSet)> {
    let mut sets: Vec<(String, LabelSet)> = Vec::new();
    let mut add = |key: &str, set: LabelSet| {
        let key = normalize_label(key).to_string();
        match sets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => *existing = existing.intersect(&set),
            None => sets.push((key, set)),
        }
    };
    for (key, value) in node_selector {
        add(
            key,
            LabelSet::exactly(&value.scalar_text().unwrap_or_default()),
        );
    }
    if let Some(term) = term {
        for e in &term.expressions {
            add(e.key, LabelSet::from_operator(e.operator, &e.values));
        }
    }
    sets
}

/// Why a pod alternative does not fit a pool, or `None` when it fits.
#[must_use]
pub fn label_mismatch(pod: &[(String, LabelSet)], pool: &[(String, LabelSet)]) -> Option<String> {
    for (key, wanted) in pod {
        let offered = match pool.iter().find(|(k, _)| k == key) {
            Some((_, set)) => set.clone(),
            None if is_well_known_label(key) => LabelSet::any(),
            // Karpenter will not put a label on a node that the pool does not define.
            None => LabelSet::from_operator("DoesNotExist", &[]),
        };
        if !wanted.intersect(&offered).is_satisfiable() {
            return Some(format!("`{key}`"));
        }
    }
    None
}

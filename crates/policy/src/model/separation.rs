//! Separation of the infrastructure pool from client pools, as the policy describes it: which
//! class a NodePool or node class belongs to, which labels mark infrastructure nodes, and
//! which toleration lets a pod onto them. The SEP, TAG and KARP rules read this; none of them
//! owns it.

use crate::model::policy::{Policy, PoolClass, TaintSpec};
use crate::model::scheduling::Toleration;
use crate::model::{NodeClass, NodePool};
use crate::node::Node;

impl Policy {
    /// The class a pool's template labels select (`match.labels`).
    #[must_use]
    pub fn class_by_labels(&self, pool: &NodePool<'_>) -> Option<&PoolClass> {
        self.pool_classes.iter().find(|class| {
            !class.matcher.labels.is_empty()
                && class.matcher.labels.iter().all(|(k, v)| {
                    pool.label(k)
                        .and_then(Node::scalar_text)
                        .is_some_and(|text| &text == v)
                })
        })
    }

    /// The class a pool's name selects (`match.names`).
    #[must_use]
    pub fn class_by_name(&self, pool: &NodePool<'_>) -> Option<&PoolClass> {
        self.pool_classes
            .iter()
            .find(|class| class.matches_name(pool.name))
    }

    /// Whether the pool carries one of the infrastructure class's taints (any effect).
    #[must_use]
    pub fn has_infra_taint(&self, pool: &NodePool<'_>) -> bool {
        self.infrastructure_class().is_some_and(|class| {
            class.taints.iter().any(|spec| {
                pool.taints
                    .iter()
                    .any(|t| t.key == spec.key && t.value == spec.value)
            })
        })
    }

    /// The pool's class: by labels, else by name, else by the infrastructure taint.
    #[must_use]
    pub fn pool_class(&self, pool: &NodePool<'_>) -> Option<&PoolClass> {
        self.class_by_labels(pool)
            .or_else(|| self.class_by_name(pool))
            .or_else(|| {
                if self.has_infra_taint(pool) {
                    self.infrastructure_class()
                } else {
                    None
                }
            })
    }

    /// Whether the pool is of the infrastructure class.
    #[must_use]
    pub fn is_infra_pool(&self, pool: &NodePool<'_>) -> bool {
        self.pool_class(pool).is_some_and(|c| c.infrastructure)
    }

    /// The class a node class's billing tags say it pays for: the class with the most tags
    /// whose value it accepts from a fixed list (patterns say too little), if one leads.
    #[must_use]
    pub fn billing_class(&self, class: &NodeClass<'_>) -> Option<&PoolClass> {
        let score = |pc: &PoolClass| {
            pc.billing_tags
                .iter()
                .filter(|t| !t.allowed.is_empty())
                .filter(|t| {
                    class
                        .tag(&t.key)
                        .and_then(Node::scalar_text)
                        .is_some_and(|v| t.accepts(&v))
                })
                .count()
        };
        let mut scored: Vec<(usize, &PoolClass)> = self
            .pool_classes
            .iter()
            .map(|pc| (score(pc), pc))
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        match scored.as_slice() {
            [(best, class), rest @ ..] if rest.first().is_none_or(|(s, _)| s < best) => Some(class),
            _ => None,
        }
    }
}

impl PoolClass {
    /// The labels that mark nodes of this class: the class's required labels, else the labels
    /// that identify its pools.
    #[must_use]
    pub fn node_labels(&self) -> &[(String, String)] {
        if self.labels.is_empty() {
            &self.matcher.labels
        } else {
            &self.labels
        }
    }

    /// The class's taint (and effect) a toleration tolerates, if any.
    #[must_use]
    pub fn tolerated_taint(&self, toleration: &Toleration<'_>) -> Option<(&TaintSpec, &str)> {
        self.taints.iter().find_map(|spec| {
            spec.effects
                .iter()
                .find(|e| toleration.tolerates(&spec.key, &spec.value, e.as_str()))
                .map(|e| (spec, e.as_str()))
        })
    }
}

impl TaintSpec {
    /// `key=value:Effect`, with `effect` or else the first effect the policy allows.
    #[must_use]
    pub fn text(&self, effect: Option<&str>) -> String {
        let effect = effect.or_else(|| self.effects.first().map(|e| e.as_str()));
        match effect {
            Some(e) => format!("{}={}:{e}", self.key, self.value),
            None => format!("{}={}", self.key, self.value),
        }
    }
}

/// `k=v, k2=v2`.
#[must_use]
pub fn labels_text(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

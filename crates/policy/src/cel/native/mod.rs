//! The `x-kubernetes-validations` rules of Karpenter v1 NodePool, NodeClaim and EC2NodeClass
//! (v1.14.1) and of the EKS Auto Mode NodeClass, implemented natively.
//!
//! Each check follows its CEL rule exactly (including its quirks: `find("^([^/]+)")` domain
//! suffixes, `!self.all(..)` that also rejects an empty list) and reports where the CRD path
//! reports: at the node the rule is attached to, or, for "every element" rules, at the element
//! that breaks it. [`COVERAGE`] maps every non-transition rule to its check; a test holds it
//! against `karpenter-cel-rules.json`.

mod karpenter;
mod node_class;
mod terms;

use crate::cel::crd::anchor_of;
use crate::node::{Node, Value};

/// Rule ID (as in `karpenter-cel-rules.json`) -> the native check that implements it.
pub const COVERAGE: &[(&str, &str)] = &[
    ("NP-02", "static-pool-limits"),
    ("NP-03", "static-pool-weight"),
    ("NP-04", "budget-schedule-duration"),
    ("NP-05", "label-domain-restricted"),
    ("NP-06", "label-restricted"),
    ("NP-07", "label-restricted"),
    ("NP-08", "label-domain-restricted"),
    ("NP-11", "node-class-ref-empty"),
    ("NP-12", "node-class-ref-empty"),
    ("NP-13", "node-class-ref-empty"),
    ("NP-14", "requirement-in-without-values"),
    ("NP-15", "requirement-comparison-value"),
    ("NP-16", "requirement-min-values"),
    ("NP-17", "label-domain-restricted"),
    ("NP-18", "label-restricted"),
    ("NP-19", "label-restricted"),
    ("NP-20", "label-domain-restricted"),
    ("CL-02", "node-class-ref-empty"),
    ("CL-03", "node-class-ref-empty"),
    ("CL-04", "node-class-ref-empty"),
    ("CL-05", "requirement-in-without-values"),
    ("CL-06", "requirement-comparison-value"),
    ("CL-07", "requirement-min-values"),
    ("CL-08", "label-domain-restricted"),
    ("CL-09", "label-restricted"),
    ("CL-10", "label-domain-restricted"),
    ("NC-01", "role-xor-instance-profile"),
    ("NC-02", "ami-family-matches-alias"),
    ("NC-03", "ami-family-matches-alias"),
    ("NC-04", "ami-family-matches-alias"),
    ("NC-05", "ami-family-matches-alias"),
    ("NC-06", "ami-family-matches-alias"),
    ("NC-07", "ami-family-matches-alias"),
    ("NC-08", "ami-family-required"),
    ("NC-09", "selector-term-empty"),
    ("NC-10", "ami-term-id-exclusive"),
    ("NC-11", "ami-term-alias-exclusive"),
    ("NC-12", "ami-alias-alone"),
    ("NC-13", "ami-alias-format"),
    ("NC-14", "ami-alias-family"),
    ("NC-15", "ami-alias-windows-latest"),
    ("NC-16", "selector-tags-empty"),
    ("NC-17", "root-volume-unique"),
    ("NC-18", "ebs-volume-source"),
    ("NC-19", "ebs-initialization-rate-snapshot"),
    ("NC-20", "selector-term-empty"),
    ("NC-21", "selector-term-field-exclusive"),
    ("NC-22", "selector-tags-empty"),
    ("NC-23", "connection-tracking-empty"),
    ("NC-24", "identity-empty"),
    ("NC-25", "kubelet-image-gc-thresholds"),
    ("NC-26", "kubelet-eviction-soft-pairs"),
    ("NC-27", "kubelet-eviction-soft-pairs"),
    ("NC-28", "kubelet-eviction-keys"),
    ("NC-29", "kubelet-eviction-keys"),
    ("NC-30", "kubelet-eviction-keys"),
    ("NC-31", "kubelet-reserved-keys"),
    ("NC-32", "kubelet-reserved-negative"),
    ("NC-33", "kubelet-reserved-keys"),
    ("NC-34", "kubelet-reserved-negative"),
    ("NC-35", "network-interfaces-primary"),
    ("NC-36", "network-interfaces-unique"),
    ("NC-37", "placement-group-selector"),
    ("NC-38", "placement-group-selector"),
    ("NC-39", "identity-empty"),
    ("NC-40", "selector-terms-empty"),
    ("NC-41", "selector-term-empty"),
    ("NC-42", "selector-term-field-exclusive"),
    ("NC-43", "selector-term-field-exclusive"),
    ("NC-44", "selector-tags-empty"),
    ("NC-45", "selector-terms-empty"),
    ("NC-46", "selector-term-empty"),
    ("NC-47", "selector-term-field-exclusive"),
    ("NC-48", "selector-tags-empty"),
    ("NC-49", "tag-key-empty (TAG003)"),
    ("NC-50", "tag-key-restricted (TAG004)"),
    ("NC-51", "tag-key-restricted (TAG004)"),
    ("NC-52", "tag-key-restricted (TAG004)"),
    ("NC-53", "tag-key-restricted (TAG004)"),
    ("NC-54", "tag-key-restricted (TAG004)"),
    ("AM-01", "identity-empty"),
    ("AM-03", "selector-terms-empty"),
    ("AM-04", "selector-term-empty"),
    ("AM-05", "selector-term-field-exclusive"),
    ("AM-06", "selector-term-field-exclusive"),
    ("AM-07", "selector-tags-empty"),
    ("AM-08", "selector-terms-empty"),
    ("AM-09", "selector-term-empty"),
    ("AM-10", "selector-term-field-exclusive"),
    ("AM-11", "selector-tags-empty"),
    ("AM-12", "tag-key-empty (TAG003)"),
    ("AM-13", "tag-key-restricted (TAG004)"),
    ("AM-14", "tag-key-restricted (TAG004)"),
    ("AM-15", "tag-key-restricted (TAG004)"),
    ("AM-16", "tag-key-restricted (TAG004)"),
    ("AM-17", "tag-key-restricted (TAG004)"),
    ("AM-18", "tag-key-restricted (TAG004)"),
];

/// Every native check, by name (the names [`COVERAGE`] uses).
pub const CHECKS: &[&str] = &[
    "static-pool-limits",
    "static-pool-weight",
    "budget-schedule-duration",
    "label-domain-restricted",
    "label-restricted",
    "node-class-ref-empty",
    "requirement-in-without-values",
    "requirement-comparison-value",
    "requirement-min-values",
    "role-xor-instance-profile",
    "ami-family-matches-alias",
    "ami-family-required",
    "selector-term-empty",
    "ami-term-id-exclusive",
    "ami-term-alias-exclusive",
    "ami-alias-alone",
    "ami-alias-format",
    "ami-alias-family",
    "ami-alias-windows-latest",
    "selector-tags-empty",
    "root-volume-unique",
    "ebs-volume-source",
    "ebs-initialization-rate-snapshot",
    "selector-term-field-exclusive",
    "connection-tracking-empty",
    "identity-empty",
    "kubelet-image-gc-thresholds",
    "kubelet-eviction-soft-pairs",
    "kubelet-eviction-keys",
    "kubelet-reserved-keys",
    "kubelet-reserved-negative",
    "network-interfaces-primary",
    "network-interfaces-unique",
    "placement-group-selector",
    "selector-terms-empty",
    "tag-key-empty (TAG003)",
    "tag-key-restricted (TAG004)",
];

/// Which CRD a document is checked against natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeKind {
    NodePool,
    NodeClaim,
    Ec2NodeClass,
    AutoModeNodeClass,
}

impl NativeKind {
    #[must_use]
    pub fn of(api_version: &str, kind: &str) -> Option<Self> {
        match (api_version, kind) {
            ("karpenter.sh/v1", "NodePool") => Some(Self::NodePool),
            ("karpenter.sh/v1", "NodeClaim") => Some(Self::NodeClaim),
            ("karpenter.k8s.aws/v1", "EC2NodeClass") => Some(Self::Ec2NodeClass),
            ("eks.amazonaws.com/v1", "NodeClass") => Some(Self::AutoModeNodeClass),
            _ => None,
        }
    }
}

/// A finding of a native check: the check's name, where, the message and the help.
pub struct Hit<'a> {
    pub check: &'static str,
    pub at: &'a Node,
    pub message: String,
    pub help: String,
}

/// Which `spec.tags` problems CEL001 reports itself: those whose own rule is disabled.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpecTags {
    /// Empty keys (TAG003's otherwise).
    pub empty_keys: bool,
    /// Restricted keys (TAG004's otherwise).
    pub restricted_keys: bool,
}

/// Runs every native check of `kind` on a document's root.
pub fn run<'a>(kind: NativeKind, root: &'a Node, tags: SpecTags, out: &mut Vec<Hit<'a>>) {
    let mut c = Checker { out };
    let Some((spec, spec_at)) = prop(root, "spec") else {
        return;
    };
    match kind {
        NativeKind::NodePool => c.node_pool(spec, spec_at),
        NativeKind::NodeClaim => {
            if let Some((r, _)) = prop(spec, "nodeClassRef") {
                c.node_class_ref(r);
            }
            if let Some((reqs, _)) = prop(spec, "requirements") {
                c.requirements(reqs, true);
            }
        }
        NativeKind::Ec2NodeClass => c.ec2_node_class(spec, spec_at, tags),
        NativeKind::AutoModeNodeClass => c.auto_mode_node_class(spec, tags),
    }
}

/// The value of `key` (absent when missing or `null`: the API server drops nulls) and where
/// to report on it.
fn prop<'a>(node: &'a Node, key: &str) -> Option<(&'a Node, &'a Node)> {
    let entry = node.entry(key)?;
    if entry.value.is_null() {
        return None;
    }
    Some((&entry.value, anchor_of(&entry.key, &entry.value)))
}

fn has(node: &Node, key: &str) -> bool {
    prop(node, key).is_some()
}

fn str_of<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    prop(node, key).and_then(|(v, _)| v.as_str())
}

/// CEL's `key.find("^([^/]+)")`: the text before the first `/` (`""` when the key starts with one).
#[must_use]
pub fn domain_of(key: &str) -> &str {
    key.split('/').next().unwrap_or("")
}

const KARPENTER_SH_ALLOWED: &[&str] = &["karpenter.sh/capacity-type", "karpenter.sh/nodepool"];

/// The `karpenter.k8s.aws` keys the v1.14.1 CRDs allow on NodePool labels and requirements.
pub const KARPENTER_AWS_ALLOWED: &[&str] = &[
    "karpenter.k8s.aws/instance-tenancy",
    "karpenter.k8s.aws/capacity-reservation-type",
    "karpenter.k8s.aws/capacity-reservation-id",
    "karpenter.k8s.aws/capacity-reservation-interruptible",
    "karpenter.k8s.aws/ec2nodeclass",
    "karpenter.k8s.aws/instance-encryption-in-transit-supported",
    "karpenter.k8s.aws/instance-category",
    "karpenter.k8s.aws/instance-hypervisor",
    "karpenter.k8s.aws/instance-family",
    "karpenter.k8s.aws/instance-generation",
    "karpenter.k8s.aws/instance-local-nvme",
    "karpenter.k8s.aws/instance-size",
    "karpenter.k8s.aws/instance-cpu",
    "karpenter.k8s.aws/instance-cpu-manufacturer",
    "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz",
    "karpenter.k8s.aws/instance-memory",
    "karpenter.k8s.aws/instance-ebs-bandwidth",
    "karpenter.k8s.aws/instance-network-bandwidth",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-manufacturer",
    "karpenter.k8s.aws/instance-gpu-count",
    "karpenter.k8s.aws/instance-gpu-memory",
    "karpenter.k8s.aws/instance-accelerator-name",
    "karpenter.k8s.aws/instance-accelerator-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-count",
    "karpenter.k8s.aws/instance-capability-flex",
    "karpenter.k8s.aws/placement-group-id",
    "karpenter.k8s.aws/placement-group-partition",
];

/// Why the CRDs reject a label or requirement key, if they do: `(check, message, help)`.
#[must_use]
pub fn restricted_key(key: &str, what: &str) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let domain = domain_of(key);
    if !KARPENTER_SH_ALLOWED.contains(&key) && domain.ends_with("karpenter.sh") {
        out.push((
            "label-domain-restricted",
            format!("{what} `{key}` is in the `karpenter.sh` label domain, which Karpenter reserves"),
            "only `karpenter.sh/capacity-type` may be used from that domain; pick a key in your own domain (the API server answers `label domain \"karpenter.sh\" is restricted`)".to_string(),
        ));
    }
    if !KARPENTER_AWS_ALLOWED.contains(&key) && domain.ends_with("karpenter.k8s.aws") {
        out.push((
            "label-domain-restricted",
            format!("{what} `{key}` is in the `karpenter.k8s.aws` label domain, and not one of its well-known keys"),
            "use a well-known key such as `karpenter.k8s.aws/instance-family` or `karpenter.k8s.aws/instance-category`, or a key in your own domain (the API server answers `label domain \"karpenter.k8s.aws\" is restricted`)".to_string(),
        ));
    }
    if key == "karpenter.sh/nodepool" {
        out.push((
            "label-restricted",
            format!("{what} `{key}` is set by Karpenter itself (the NodePool's name)"),
            "remove it: every node of the pool already carries `karpenter.sh/nodepool: <pool name>` (the API server answers `label \"karpenter.sh/nodepool\" is restricted`)".to_string(),
        ));
    }
    if key == "kubernetes.io/hostname" {
        out.push((
            "label-restricted",
            format!("{what} `{key}` is restricted: each node gets its own hostname"),
            "remove it; to pin pods to particular nodes, use a label of your own (the API server answers `label \"kubernetes.io/hostname\" is restricted`)".to_string(),
        ));
    }
    out
}

const AMI_FAMILIES: &[(&str, &str)] = &[
    ("al2", "AL2"),
    ("al2023", "AL2023"),
    ("bottlerocket", "Bottlerocket"),
    ("windows2019", "Windows2019"),
    ("windows2022", "Windows2022"),
    ("windows2025", "Windows2025"),
];

const EVICTION_SIGNALS: &[&str] = &[
    "memory.available",
    "nodefs.available",
    "nodefs.inodesFree",
    "imagefs.available",
    "imagefs.inodesFree",
    "pid.available",
];

const RESERVED_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage", "pid"];

struct Checker<'a, 'o> {
    out: &'o mut Vec<Hit<'a>>,
}

impl<'a> Checker<'a, '_> {
    pub(super) fn hit(&mut self, check: &'static str, at: &'a Node, message: String, help: &str) {
        self.out.push(Hit {
            check,
            at,
            message,
            help: help.to_string(),
        });
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        clippy::disallowed_methods,
        clippy::panic,
        reason = "tests"
    )]
    use super::*;

    #[test]
    fn domain_semantics_follow_cel_find() {
        assert_eq!(domain_of("karpenter.sh/foo"), "karpenter.sh");
        assert_eq!(domain_of("mykarpenter.sh"), "mykarpenter.sh");
        assert_eq!(domain_of("/x"), "");
        // CEL endsWith on the domain: even a domain that only ends with it is restricted.
        assert_eq!(restricted_key("xkarpenter.sh/foo", "label").len(), 1);
        assert_eq!(restricted_key("team.karpenter.sh", "label").len(), 1);
        assert!(restricted_key("karpenter.sh/capacity-type", "label").is_empty());
        assert_eq!(restricted_key("karpenter.sh/nodepool", "label").len(), 1);
        assert!(restricted_key("karpenter.k8s.aws/instance-family", "label").is_empty());
        assert_eq!(
            restricted_key("karpenter.k8s.aws/instance-foo", "label").len(),
            1
        );
        assert!(restricted_key("node.kubernetes.io/instance-type", "label").is_empty());
    }

    /// Every non-transition rule of Karpenter v1 NodePool, NodeClaim, EC2NodeClass and the
    /// Auto Mode NodeClass in `karpenter-cel-rules.json` has a native check: a new Karpenter
    /// release that adds a rule fails here until it is implemented.
    #[test]
    fn every_crd_rule_has_a_native_check() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/research/karpenter-cel-rules.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!(
                "{} is missing (CI clones shared/ beside the project)",
                path.display()
            );
        };
        let rules: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut missing = Vec::new();
        let mut covered = 0;
        for (section, list) in rules.as_object().unwrap() {
            // v1beta1 is not served since Karpenter v1.1 (API001 reports those objects).
            if section.contains("v1beta1") {
                continue;
            }
            for rule in list.as_array().unwrap() {
                let id = rule["id"].as_str().unwrap();
                let text = rule["rule"].as_str().unwrap();
                if text.contains("oldSelf") {
                    assert!(
                        !COVERAGE.iter().any(|(i, _)| *i == id),
                        "{id} is a transition rule: nothing to check offline"
                    );
                    continue;
                }
                match COVERAGE.iter().find(|(i, _)| *i == id) {
                    Some((_, check)) => {
                        assert!(CHECKS.contains(check), "{id}: unknown check {check}");
                        covered += 1;
                    }
                    None => missing.push(format!("{id} ({}): {}", rule["path"], rule["message"])),
                }
            }
        }
        assert!(
            missing.is_empty(),
            "CRD rules without a native check:\n{}",
            missing.join("\n")
        );
        assert_eq!(
            covered,
            COVERAGE.len(),
            "COVERAGE names rules the JSON does not have"
        );
    }
}

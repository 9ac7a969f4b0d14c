//! The `x-kubernetes-validations` rules of Karpenter v1 NodePool, NodeClaim and EC2NodeClass
//! (v1.14.1) and of the EKS Auto Mode NodeClass, implemented natively.
//!
//! Each check follows its CEL rule exactly (including its quirks: `find("^([^/]+)")` domain
//! suffixes, `!self.all(..)` that also rejects an empty list) and reports where the CRD path
//! reports: at the node the rule is attached to, or, for "every element" rules, at the element
//! that breaks it. [`COVERAGE`] maps every non-transition rule to its check; a test holds it
//! against `karpenter-cel-rules.json`.

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
    fn hit(&mut self, check: &'static str, at: &'a Node, message: String, help: &str) {
        self.out.push(Hit {
            check,
            at,
            message,
            help: help.to_string(),
        });
    }

    fn node_pool(&mut self, spec: &'a Node, spec_at: &'a Node) {
        if let Some((replicas, _)) = prop(spec, "replicas") {
            let shown = replicas.scalar_text().unwrap_or_default();
            if let Some((limits, _)) = prop(spec, "limits")
                && let Some(entries) = limits.as_map()
                && !entries.is_empty()
                && !(entries.len() == 1 && limits.get("nodes").is_some())
            {
                let others: Vec<String> = entries
                    .iter()
                    .filter_map(|e| e.key_str())
                    .filter(|k| *k != "nodes")
                    .map(|k| format!("`{k}`"))
                    .collect();
                self.hit(
                    "static-pool-limits",
                    spec_at,
                    format!(
                        "a static NodePool (`replicas: {shown}`) may only limit `nodes`, but `limits` sets {}",
                        others.join(", ")
                    ),
                    "keep only `limits.nodes` on a static pool, or remove `replicas` to let Karpenter provision dynamically (the API server answers `only 'limits.nodes' is supported on static NodePools`)",
                );
            }
            if has(spec, "weight") {
                self.hit(
                    "static-pool-weight",
                    spec_at,
                    format!("a static NodePool (`replicas: {shown}`) cannot have a `weight`"),
                    "remove `weight`: it orders dynamic pools only (the API server answers `'weight' is not supported on static NodePools`)",
                );
            }
        }
        if let Some((budgets, _)) = spec.get("disruption").and_then(|d| prop(d, "budgets")) {
            for budget in budgets.items() {
                let (schedule, duration) = (has(budget, "schedule"), has(budget, "duration"));
                if schedule != duration {
                    let (set, missing) = if schedule {
                        ("schedule", "duration")
                    } else {
                        ("duration", "schedule")
                    };
                    self.hit(
                        "budget-schedule-duration",
                        budget,
                        format!("disruption budget sets `{set}` without `{missing}`"),
                        "a budget with a `schedule` (cron, UTC) needs a `duration` (how long it is active, e.g. `8h`), and a `duration` needs a `schedule`; drop both for an always-active budget (the API server answers `'schedule' must be set with 'duration'`)",
                    );
                }
            }
        }
        if let Some(labels) = spec.path(&["template", "metadata", "labels"]) {
            for entry in labels.entries() {
                let Some(key) = entry.key_str() else {
                    continue;
                };
                for (check, message, help) in restricted_key(key, "label") {
                    self.hit(check, &entry.key, message, &help);
                }
            }
        }
        if let Some(template_spec) = spec.path(&["template", "spec"]) {
            if let Some((r, _)) = prop(template_spec, "nodeClassRef") {
                self.node_class_ref(r);
            }
            if let Some((reqs, _)) = prop(template_spec, "requirements") {
                self.requirements(reqs, false);
            }
        }
    }

    fn node_class_ref(&mut self, r: &'a Node) {
        for field in ["group", "kind", "name"] {
            if let Some((value, at)) = prop(r, field)
                && value.as_str() == Some("")
            {
                self.hit(
                    "node-class-ref-empty",
                    at,
                    format!("`nodeClassRef.{field}` is empty"),
                    match field {
                        "group" => "set `group: karpenter.k8s.aws` (EC2NodeClass) or `group: eks.amazonaws.com` (EKS Auto Mode NodeClass) (the API server answers `group may not be empty`)",
                        "kind" => "set `kind: EC2NodeClass` (Karpenter) or `kind: NodeClass` (EKS Auto Mode) (the API server answers `kind may not be empty`)",
                        _ => "set `name` to the node class this pool launches nodes with (the API server answers `name may not be empty`)",
                    },
                );
            }
        }
    }

    /// `claim`: a NodeClaim's requirements, which may name `karpenter.sh/nodepool`.
    fn requirements(&mut self, reqs: &'a Node, claim: bool) {
        for req in reqs.items() {
            let operator = str_of(req, "operator");
            let values = prop(req, "values").map(|(v, _)| v);
            let count = values.map(|v| v.items().len());
            if operator == Some("In") && count.unwrap_or(0) == 0 {
                let key = str_of(req, "key").unwrap_or("");
                self.hit(
                    "requirement-in-without-values",
                    req,
                    format!("requirement on `{key}` with operator `In` has no values"),
                    "list at least one value, or use `operator: Exists` to require only that the label exists (the API server answers `requirements with operator 'In' must have a value defined`)",
                );
            }
            if let Some(op @ ("Gt" | "Lt" | "Gte" | "Lte")) = operator {
                let ok = match values.map(Node::items) {
                    Some([only]) => only
                        .scalar_text()
                        .and_then(|t| t.parse::<i64>().ok())
                        .is_some_and(|n| n >= 0),
                    _ => false,
                };
                if !ok {
                    let key = str_of(req, "key").unwrap_or("");
                    self.hit(
                        "requirement-comparison-value",
                        req,
                        format!("requirement on `{key}` with operator `{op}` needs exactly one value, a non-negative integer"),
                        "write e.g. `operator: Gt` with `values: [\"4\"]` (the API server answers `requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value`)",
                    );
                }
            }
            if operator == Some("In")
                && let Some(min) = prop(req, "minValues").and_then(|(m, _)| m.as_i64())
                && let Some(count) = count
                && i64::try_from(count).unwrap_or(i64::MAX) < min
            {
                let key = str_of(req, "key").unwrap_or("");
                self.hit(
                    "requirement-min-values",
                    req,
                    format!("requirement on `{key}` asks for `minValues: {min}` but lists only {count} value(s)"),
                    "list at least `minValues` values, or lower `minValues` (the API server answers `requirements with 'minValues' must have at least that many values specified in the 'values' field`)",
                );
            }
            if let Some((key_node, at)) = prop(req, "key")
                && let Some(key) = key_node.as_str()
            {
                if claim && key == "karpenter.sh/nodepool" {
                    continue;
                }
                for (check, message, help) in restricted_key(key, "requirement key") {
                    self.hit(check, at, message, &help);
                }
            }
        }
    }

    fn ec2_node_class(&mut self, spec: &'a Node, spec_at: &'a Node, tags: SpecTags) {
        if has(spec, "role") == has(spec, "instanceProfile") {
            let message = if has(spec, "role") {
                "EC2NodeClass sets both `role` and `instanceProfile`"
            } else {
                "EC2NodeClass sets neither `role` nor `instanceProfile`"
            };
            self.hit(
                "role-xor-instance-profile",
                spec_at,
                message.to_string(),
                "set exactly one: `role` (Karpenter manages an instance profile for it) or `instanceProfile` (one you manage) (the API server answers `must specify exactly one of ['role', 'instanceProfile']`)",
            );
        }
        for field in ["role", "instanceProfile"] {
            self.identity_empty(spec, field);
        }
        let terms = prop(spec, "amiSelectorTerms").map(|(t, a)| (t.items(), a));
        if let Some((terms, terms_at)) = terms {
            let alias_families: Vec<&str> = terms
                .iter()
                .filter_map(|t| str_of(t, "alias"))
                .map(|a| a.split('@').next().unwrap_or(""))
                .collect();
            // NC-02..07: `alias.find('^[^@]+')` is the text before the first `@`.
            if let Some(family) = str_of(spec, "amiFamily") {
                for (alias, expected) in AMI_FAMILIES {
                    if alias_families.contains(alias) && family != "Custom" && family != *expected {
                        self.hit(
                            "ami-family-matches-alias",
                            spec_at,
                            format!("`amiFamily: {family}` does not match the `{alias}@...` alias in `amiSelectorTerms`"),
                            &format!("remove `amiFamily` (the alias implies `{expected}`), or set it to `{expected}` or `Custom` (the API server answers `if set, amiFamily must be '{expected}' or 'Custom' when using {} {expected} alias`)", if expected.starts_with("AL") { "an" } else { "a" }),
                        );
                    }
                }
            }
            let any_alias = terms.iter().any(|t| has(t, "alias"));
            if !any_alias && !has(spec, "amiFamily") {
                self.hit(
                    "ami-family-required",
                    spec_at,
                    "`amiFamily` is required when no `amiSelectorTerms` entry uses an `alias`".to_string(),
                    "set `amiFamily` (`AL2023`, `Bottlerocket`, ... or `Custom` for your own bootstrap), or select the AMI with an alias such as `alias: al2023@v20240807` (the API server answers `must specify amiFamily if amiSelectorTerms does not contain an alias`)",
                );
            }
            for term in terms {
                if !["tags", "id", "name", "alias", "ssmParameter"]
                    .iter()
                    .any(|f| has(term, f))
                {
                    self.empty_term(
                        term,
                        "amiSelectorTerms",
                        "`tags`, `id`, `name`, `alias` or `ssmParameter`",
                    );
                }
                let others = |except: &str| -> Vec<&'static str> {
                    ["alias", "id", "tags", "name", "owner"]
                        .into_iter()
                        .filter(|f| *f != except && has(term, f))
                        .collect()
                };
                if has(term, "id") && !others("id").is_empty() {
                    self.hit(
                        "ami-term-id-exclusive",
                        term,
                        format!("an `amiSelectorTerms` entry with `id` also sets {}", list(&others("id"))),
                        "an `id` selects exactly one AMI: put it in a term of its own (the API server answers `'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms`)",
                    );
                }
                if has(term, "alias") && !others("alias").is_empty() {
                    self.hit(
                        "ami-term-alias-exclusive",
                        term,
                        format!("an `amiSelectorTerms` entry with `alias` also sets {}", list(&others("alias"))),
                        "an `alias` selects Karpenter's own AMI: give it alone (the API server answers `'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms`)",
                    );
                }
                if let Some((alias_node, at)) = prop(term, "alias")
                    && let Some(alias) = alias_node.as_str()
                {
                    self.alias(alias, at);
                }
                self.selector_tags(term);
            }
            if any_alias && terms.len() != 1 {
                self.hit(
                    "ami-alias-alone",
                    terms_at,
                    format!("`amiSelectorTerms` has an `alias` term and {} other term(s)", terms.len().saturating_sub(1)),
                    "an `alias` must be the only AMI selector term: remove the others, or replace the alias with `name`/`tags`/`id` terms and set `amiFamily` (the API server answers `'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms`)",
                );
            }
        }
        if let Some((mappings, mappings_at)) = prop(spec, "blockDeviceMappings") {
            let roots = mappings
                .items()
                .iter()
                .filter(|m| prop(m, "rootVolume").and_then(|(v, _)| v.as_bool()) == Some(true))
                .count();
            if roots > 1 {
                self.hit(
                    "root-volume-unique",
                    mappings_at,
                    format!("{roots} `blockDeviceMappings` are marked `rootVolume: true`"),
                    "mark only the device the kubelet's root directory lives on (the API server answers `must have only one blockDeviceMappings with rootVolume`)",
                );
            }
            for mapping in mappings.items() {
                let Some((ebs, ebs_at)) = prop(mapping, "ebs") else {
                    continue;
                };
                if !has(ebs, "snapshotID") && !has(ebs, "volumeSize") {
                    self.hit(
                        "ebs-volume-source",
                        ebs_at,
                        "EBS volume has neither `volumeSize` nor `snapshotID`".to_string(),
                        "set `volumeSize` (e.g. `volumeSize: 100Gi`) or create the volume from a `snapshotID` (the API server answers `snapshotID or volumeSize must be defined`)",
                    );
                }
                if has(ebs, "volumeInitializationRate")
                    && str_of(ebs, "snapshotID").is_none_or(str::is_empty)
                {
                    self.hit(
                        "ebs-initialization-rate-snapshot",
                        ebs_at,
                        "`volumeInitializationRate` is set without a `snapshotID`".to_string(),
                        "the rate only applies to volumes created from a snapshot: set `snapshotID` or remove `volumeInitializationRate` (the API server answers `snapshotID must be set when volumeInitializationRate is set`)",
                    );
                }
            }
        }
        if let Some((terms, terms_at)) = prop(spec, "capacityReservationSelectorTerms") {
            for term in terms.items() {
                if !["tags", "id", "instanceMatchCriteria"]
                    .iter()
                    .any(|f| has(term, f))
                {
                    self.empty_term(
                        term,
                        "capacityReservationSelectorTerms",
                        "`tags`, `id` or `instanceMatchCriteria`",
                    );
                }
                self.selector_tags(term);
            }
            self.every_term_mixes(
                terms,
                terms_at,
                "capacityReservationSelectorTerms",
                "id",
                &["tags", "ownerID", "instanceMatchCriteria"],
                "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term",
            );
        }
        if let Some((tracking, at)) = prop(spec, "connectionTracking")
            && !["tcpEstablishedTimeout", "udpStreamTimeout", "udpTimeout"]
                .iter()
                .any(|f| has(tracking, f))
        {
            self.hit(
                "connection-tracking-empty",
                at,
                "`connectionTracking` sets no timeout".to_string(),
                "set at least one of `tcpEstablishedTimeout`, `udpStreamTimeout`, `udpTimeout`, or remove `connectionTracking` (the API server answers `at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set`)",
            );
        }
        if let Some((kubelet, kubelet_at)) = prop(spec, "kubelet") {
            self.kubelet(kubelet, kubelet_at);
        }
        if let Some((interfaces, at)) = prop(spec, "networkInterfaces") {
            self.network_interfaces(interfaces, at);
        }
        if let Some((selector, at)) = prop(spec, "placementGroupSelector") {
            match (has(selector, "name"), has(selector, "id")) {
                (false, false) => self.hit(
                    "placement-group-selector",
                    at,
                    "`placementGroupSelector` sets neither `name` nor `id`".to_string(),
                    "set the placement group's `name` or its `id` (the API server answers `expected at least one, got none, ['name', 'id']`)",
                ),
                (true, true) => self.hit(
                    "placement-group-selector",
                    at,
                    "`placementGroupSelector` sets both `name` and `id`".to_string(),
                    "keep one of them (the API server answers `'name' and 'id' are mutually exclusive`)",
                ),
                _ => {}
            }
        }
        self.security_groups_and_subnets(spec, "securityGroupSelectorTerms", "subnetSelectorTerms");
        self.spec_tags(spec, tags, RESTRICTED_TAGS_EC2);
    }

    fn auto_mode_node_class(&mut self, spec: &'a Node, tags: SpecTags) {
        self.identity_empty(spec, "role");
        self.security_groups_and_subnets(spec, "securityGroupSelectorTerms", "subnetSelectorTerms");
        self.spec_tags(spec, tags, RESTRICTED_TAGS_AUTO_MODE);
    }

    fn identity_empty(&mut self, spec: &'a Node, field: &str) {
        if let Some((value, at)) = prop(spec, field)
            && value.as_str() == Some("")
        {
            self.hit(
                "identity-empty",
                at,
                format!("`{field}` is empty"),
                &format!("set `{field}` to the IAM {} nodes use, or remove it (the API server answers `{field} cannot be empty`)", if field == "role" { "role name" } else { "instance profile name" }),
            );
        }
    }

    fn empty_term(&mut self, term: &'a Node, list_name: &str, fields: &str) {
        self.hit(
            "selector-term-empty",
            term,
            format!("an entry of `{list_name}` selects nothing"),
            &format!("give each term at least one of {fields}; an empty term is rejected (the API server answers `expected at least one, got none, ...`)"),
        );
    }

    /// `!self.all(x, has(x.<field>) && (has(x.<other>) || ...))`: rejected when every term (or
    /// none, in an empty list) combines `field` with another field.
    fn every_term_mixes(
        &mut self,
        terms: &'a Node,
        at: &'a Node,
        list_name: &str,
        field: &str,
        others: &[&str],
        server_message: &str,
    ) {
        let items = terms.items();
        if terms.as_seq().is_none() {
            return;
        }
        if items.is_empty() {
            // NC-21 rejects an empty list; NC-40/NC-45 say it better for the required ones.
            if list_name == "capacityReservationSelectorTerms" {
                self.hit(
                    "selector-term-field-exclusive",
                    at,
                    format!("`{list_name}` is an empty list"),
                    &format!("remove `{list_name}` or add a term: the CRD's `{server_message}` rule also fails on an empty list"),
                );
            }
            return;
        }
        let all_mix = items
            .iter()
            .all(|t| has(t, field) && others.iter().any(|o| has(t, o)));
        if all_mix {
            self.hit(
                "selector-term-field-exclusive",
                at,
                format!("every `{list_name}` entry combines `{field}` with other fields"),
                &format!("an `{field}` selects exactly one resource: put it in a term of its own (the API server answers `{server_message}`)"),
            );
        }
    }

    fn security_groups_and_subnets(&mut self, spec: &'a Node, groups: &str, subnets: &str) {
        if let Some((terms, at)) = prop(spec, groups) {
            self.terms_not_empty(terms, at, groups);
            for term in terms.items() {
                if !["tags", "id", "name"].iter().any(|f| has(term, f)) {
                    self.empty_term(term, groups, "`tags`, `id` or `name`");
                }
                self.selector_tags(term);
            }
            if !terms.items().is_empty() {
                self.every_term_mixes(
                    terms,
                    at,
                    groups,
                    "id",
                    &["tags", "name"],
                    "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term",
                );
                self.every_term_mixes(
                    terms,
                    at,
                    groups,
                    "name",
                    &["tags", "id"],
                    "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term",
                );
            }
        }
        if let Some((terms, at)) = prop(spec, subnets) {
            self.terms_not_empty(terms, at, subnets);
            for term in terms.items() {
                if !["tags", "id"].iter().any(|f| has(term, f)) {
                    self.empty_term(term, subnets, "`tags` or `id`");
                }
                self.selector_tags(term);
            }
            if !terms.items().is_empty() {
                self.every_term_mixes(
                    terms,
                    at,
                    subnets,
                    "id",
                    &["tags"],
                    "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term",
                );
            }
        }
    }

    fn terms_not_empty(&mut self, terms: &'a Node, at: &'a Node, list_name: &str) {
        if terms.as_seq().is_some_and(<[Node]>::is_empty) {
            self.hit(
                "selector-terms-empty",
                at,
                format!("`{list_name}` is empty"),
                &format!("add at least one term, e.g. `{list_name}: [{{tags: {{karpenter.sh/discovery: my-cluster}}}}]` (the API server answers `{list_name} cannot be empty`)"),
            );
        }
    }

    /// `tags` of a selector term: no empty key, no empty value.
    fn selector_tags(&mut self, term: &'a Node) {
        let Some((tags, _)) = prop(term, "tags") else {
            return;
        };
        for entry in tags.entries() {
            if entry.value.is_null() {
                continue;
            }
            let key = entry.key.scalar_text().unwrap_or_default();
            if key.is_empty() || entry.value.as_str() == Some("") {
                let message = if key.is_empty() {
                    "selector term has a tag with an empty key".to_string()
                } else {
                    format!("selector term tag `{key}` has an empty value")
                };
                self.hit(
                    "selector-tags-empty",
                    &entry.key,
                    message,
                    "to match any value of a tag, write `\"*\"` as its value (the API server answers `empty tag keys or values aren't supported`)",
                );
            }
        }
    }

    fn alias(&mut self, alias: &str, at: &'a Node) {
        let well_formed = alias.split_once('@').is_some_and(|(family, version)| {
            !family.is_empty()
                && family.chars().all(|c| c.is_ascii_alphanumeric())
                && !version.is_empty()
                && !version.contains('\n')
        });
        if !well_formed {
            self.hit(
                "ami-alias-format",
                at,
                format!("AMI alias `{alias}` is not of the form `family@version`"),
                "write e.g. `al2023@v20240807` or `bottlerocket@latest` (the API server answers `'alias' is improperly formatted, must match the format 'family@version'`)",
            );
        }
        let mut parts = alias.split('@');
        let family = parts.next().unwrap_or("");
        if !AMI_FAMILIES.iter().any(|(a, _)| *a == family) {
            self.hit(
                "ami-alias-family",
                at,
                format!("AMI alias family `{family}` is not supported"),
                "use one of `al2`, `al2023`, `bottlerocket`, `windows2019`, `windows2022`, `windows2025`; for other AMIs use `name`/`tags`/`id` terms with `amiFamily: Custom` (the API server answers `family is not supported, ...`)",
            );
        }
        if family.starts_with("windows")
            && AMI_FAMILIES.iter().any(|(a, _)| *a == family)
            && let Some(version) = parts.next()
            && version != "latest"
        {
            self.hit(
                "ami-alias-windows-latest",
                at,
                format!("Windows AMI alias `{alias}` pins a version"),
                &format!("Windows aliases only support `latest`: write `{family}@latest` (the API server answers `windows families may only specify version 'latest'`)"),
            );
        }
    }

    fn kubelet(&mut self, kubelet: &'a Node, at: &'a Node) {
        if let (Some(high), Some(low)) = (
            prop(kubelet, "imageGCHighThresholdPercent").and_then(|(v, _)| v.as_i64()),
            prop(kubelet, "imageGCLowThresholdPercent").and_then(|(v, _)| v.as_i64()),
        ) && high <= low
        {
            self.hit(
                "kubelet-image-gc-thresholds",
                at,
                format!("`imageGCHighThresholdPercent` ({high}) is not above `imageGCLowThresholdPercent` ({low})"),
                "image garbage collection runs from the high threshold down to the low one: make high greater than low (the API server answers `imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent`)",
            );
        }
        let keys = |field: &str| -> Option<Vec<String>> {
            prop(kubelet, field).map(|(m, _)| {
                m.entries()
                    .iter()
                    .filter(|e| !e.value.is_null())
                    .filter_map(|e| e.key.scalar_text())
                    .collect()
            })
        };
        let soft = keys("evictionSoft");
        let grace = keys("evictionSoftGracePeriod");
        for (from, to, other) in [
            (&soft, &grace, "evictionSoftGracePeriod"),
            (&grace, &soft, "evictionSoft"),
        ] {
            if let Some(from) = from {
                let unmatched: Vec<&String> = from
                    .iter()
                    .filter(|k| to.as_ref().is_none_or(|to| !to.contains(k)))
                    .collect();
                if let Some(first) = unmatched.first() {
                    let this = if other == "evictionSoft" {
                        "evictionSoftGracePeriod"
                    } else {
                        "evictionSoft"
                    };
                    self.hit(
                        "kubelet-eviction-soft-pairs",
                        at,
                        format!("`{this}` sets `{first}` but `{other}` does not"),
                        "every soft eviction signal needs both a threshold (`evictionSoft`) and a grace period (`evictionSoftGracePeriod`) (the API server answers `evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod`)",
                    );
                }
            }
        }
        for field in ["evictionHard", "evictionSoft", "evictionSoftGracePeriod"] {
            let Some((map, _)) = prop(kubelet, field) else {
                continue;
            };
            for entry in map.entries() {
                let key = entry.key.scalar_text().unwrap_or_default();
                if entry.value.is_null() || EVICTION_SIGNALS.contains(&key.as_str()) {
                    continue;
                }
                self.hit(
                    "kubelet-eviction-keys",
                    &entry.key,
                    format!("`{key}` is not an eviction signal `{field}` accepts"),
                    &format!(
                        "use one of {} (the API server answers `valid keys for {field} are [...]`)",
                        list(EVICTION_SIGNALS)
                    ),
                );
            }
        }
        for field in ["kubeReserved", "systemReserved"] {
            let Some((map, _)) = prop(kubelet, field) else {
                continue;
            };
            for entry in map.entries() {
                if entry.value.is_null() {
                    continue;
                }
                let key = entry.key.scalar_text().unwrap_or_default();
                if !RESERVED_RESOURCES.contains(&key.as_str()) {
                    self.hit(
                        "kubelet-reserved-keys",
                        &entry.key,
                        format!("`{field}` cannot reserve `{key}`"),
                        &format!("reserve one of {} (the API server answers `valid keys for {field} are ['cpu','memory','ephemeral-storage','pid']`)", list(RESERVED_RESOURCES)),
                    );
                }
                if entry.value.as_str().is_some_and(|v| v.starts_with('-')) {
                    self.hit(
                        "kubelet-reserved-negative",
                        &entry.key,
                        format!("`{field}.{key}` is negative"),
                        &format!("reserve a positive quantity (the API server answers `{field} value cannot be a negative resource quantity`)"),
                    );
                }
            }
        }
    }

    fn network_interfaces(&mut self, interfaces: &'a Node, at: &'a Node) {
        let items = interfaces.items();
        let field = |n: &Node, k: &str| prop(n, k).map(|(v, _)| v.value.clone());
        let int = |n: &Node, k: &str| {
            field(n, k).and_then(|v| if let Value::Int(i) = v { Some(i) } else { None })
        };
        let complete = items.iter().all(|i| {
            int(i, "deviceIndex").is_some()
                && int(i, "networkCardIndex").is_some()
                && str_of(i, "interfaceType").is_some()
        });
        if !complete {
            return; // a missing required field: SCH001's finding, and the rule cannot run
        }
        if !items.is_empty()
            && !items.iter().any(|i| {
                int(i, "deviceIndex") == Some(0)
                    && int(i, "networkCardIndex") == Some(0)
                    && str_of(i, "interfaceType") == Some("interface")
            })
        {
            self.hit(
                "network-interfaces-primary",
                at,
                "`networkInterfaces` has no primary interface".to_string(),
                "add `{networkCardIndex: 0, deviceIndex: 0, interfaceType: interface}` (the API server answers `networkInterfaces must include a primary interface with interfaceType='interface'`)",
            );
        }
        for item in items {
            let card = int(item, "networkCardIndex");
            let device = int(item, "deviceIndex");
            let same_slot = items
                .iter()
                .filter(|y| int(y, "networkCardIndex") == card && int(y, "deviceIndex") == device)
                .count();
            let efa_on_card = items
                .iter()
                .filter(|y| {
                    int(y, "networkCardIndex") == card
                        && str_of(y, "interfaceType") == Some("efa-only")
                })
                .count();
            let efa = str_of(item, "interfaceType") == Some("efa-only");
            if same_slot != 1 || (efa && efa_on_card != 1) {
                let message = if same_slot != 1 {
                    format!(
                        "network card {} device {} is used by more than one interface",
                        card.unwrap_or_default(),
                        device.unwrap_or_default()
                    )
                } else {
                    format!(
                        "network card {} has more than one `efa-only` interface",
                        card.unwrap_or_default()
                    )
                };
                self.hit(
                    "network-interfaces-unique",
                    item,
                    message,
                    "give each interface its own `networkCardIndex`/`deviceIndex` pair, with at most one `efa-only` interface per card (the API server answers `networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card`)",
                );
            }
        }
    }

    fn spec_tags(&mut self, spec: &'a Node, report: SpecTags, restricted_keys: &[(&str, bool)]) {
        let Some((tags, _)) = prop(spec, "tags") else {
            return;
        };
        for entry in tags.entries() {
            if entry.value.is_null() {
                continue;
            }
            let key = entry.key.scalar_text().unwrap_or_default();
            if report.empty_keys && key.is_empty() {
                self.hit(
                    "tag-key-empty (TAG003)",
                    &entry.key,
                    "`spec.tags` has a tag with an empty key".to_string(),
                    "give the tag a key, or remove it (the API server answers `empty tag keys aren't supported`)",
                );
            }
            if report.restricted_keys
                && let Some((reserved, _)) = restricted_keys.iter().find(|(r, prefix)| {
                    if *prefix {
                        key.starts_with(r)
                    } else {
                        key == *r
                    }
                })
            {
                let matching = if *reserved == "kubernetes.io/cluster" {
                    "kubernetes.io/cluster/"
                } else {
                    reserved
                };
                self.hit(
                    "tag-key-restricted (TAG004)",
                    &entry.key,
                    format!("tag key `{key}` is restricted"),
                    &format!("remove it from `spec.tags` (the API server answers `tag contains a restricted tag matching {matching}`)"),
                );
            }
        }
    }
}

/// `(key, prefix match)` the EC2NodeClass v1 CRD rejects in `spec.tags` (NC-50..54).
const RESTRICTED_TAGS_EC2: &[(&str, bool)] = &[
    ("eks:eks-cluster-name", false),
    ("kubernetes.io/cluster", true),
    ("karpenter.sh/nodepool", false),
    ("karpenter.sh/nodeclaim", false),
    ("karpenter.k8s.aws/ec2nodeclass", false),
];

/// The same for the EKS Auto Mode NodeClass (AM-13..18).
const RESTRICTED_TAGS_AUTO_MODE: &[(&str, bool)] = &[
    ("kubernetes.io/cluster", true),
    ("karpenter.sh/provisioner-name", false),
    ("karpenter.sh/nodepool", false),
    ("karpenter.sh/nodeclaim", false),
    ("karpenter.sh/managed-by", false),
    ("eks.amazonaws.com/nodeclass", false),
];

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

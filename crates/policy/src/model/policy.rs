//! The policy: how pools are classified and what each class must carry.
//!
//! Written as `kind: Policy` (`eksgate.dev/v1alpha1`); `policies/default.yaml` is embedded and
//! used when the user gives none. Schema for editors: `policies/schemas/policy.schema.json`.

use std::collections::BTreeMap;

use regex::Regex;

use crate::diagnostic::Severity;
use crate::node::{Node, Span, Value};
use crate::source::{self, Limits, SourceFile};

/// The policy the tool ships with (`policies/default.yaml`).
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../../policies/default.yaml");

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub pool_classes: Vec<PoolClass>,
    /// Namespaces of platform workloads: they must run on the infrastructure pool.
    pub infra_namespaces: Vec<String>,
    /// Namespaces the separation rules leave alone (kube-system, karpenter, ...).
    pub exempt_namespaces: Vec<String>,
    pub imds: ImdsPolicy,
    pub encryption: EncryptionPolicy,
    pub spot: SpotPolicy,
    /// Per-rule severity overrides and switches, by rule ID (`spec.overrides`).
    pub overrides: BTreeMap<String, RuleOverride>,
}

#[derive(Clone, Debug)]
pub struct PoolClass {
    pub name: String,
    /// This class hosts the platform (Istio, Vault, ...): its taint and labels fence it off.
    pub infrastructure: bool,
    /// Template labels that identify a pool of this class (all must match).
    pub match_labels: Vec<(String, String)>,
    /// Pool name globs (`infra-*`) that identify a pool of this class.
    pub match_names: Vec<String>,
    /// Labels every pool of the class must carry.
    pub labels: Vec<(String, String)>,
    pub taints: Vec<TaintSpec>,
    /// Capacity types allowed (`None` = any).
    pub capacity_types: Option<Vec<String>>,
    pub require_disruption_budget: bool,
    pub billing_tags: Vec<BillingTag>,
}

#[derive(Clone, Debug)]
pub struct TaintSpec {
    pub key: String,
    pub value: String,
    /// Effects that satisfy the requirement (`NoSchedule`, `NoExecute`).
    pub effects: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct BillingTag {
    pub key: String,
    /// Allowed values (empty = any value allowed by `pattern`).
    pub allowed: Vec<String>,
    pub pattern: Option<Regex>,
}

impl BillingTag {
    #[must_use]
    pub fn accepts(&self, value: &str) -> bool {
        (self.allowed.is_empty() || self.allowed.iter().any(|a| a == value))
            && self.pattern.as_ref().is_none_or(|p| p.is_match(value))
    }

    /// A short description of what is allowed, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.allowed.is_empty() {
            let list: Vec<String> = self.allowed.iter().map(|a| format!("`{a}`")).collect();
            parts.push(format!("one of {}", list.join(", ")));
        }
        if let Some(p) = &self.pattern {
            parts.push(format!("matching `{}`", p.as_str()));
        }
        if parts.is_empty() {
            "any value".to_string()
        } else {
            parts.join(" and ")
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImdsPolicy {
    pub require_v2: bool,
    pub max_hop_limit: i64,
}

#[derive(Clone, Debug)]
pub struct EncryptionPolicy {
    pub require_ebs_encryption: bool,
    pub require_kms_key: bool,
}

#[derive(Clone, Debug)]
pub struct SpotPolicy {
    /// Fewest instance types a spot pool may allow (KARP001).
    pub min_instance_types: i64,
}

#[derive(Clone, Debug, Default)]
pub struct RuleOverride {
    pub severity: Option<Severity>,
    pub enabled: Option<bool>,
}

impl PoolClass {
    /// Whether the pool name matches one of the class's globs.
    #[must_use]
    pub fn matches_name(&self, name: &str) -> bool {
        self.match_names.iter().any(|g| glob_match(g, name))
    }
}

/// A policy file that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Policy {
    /// The embedded default policy.
    ///
    /// # Errors
    /// Only if the embedded file is broken, which a test rules out.
    pub fn default_policy() -> Result<Policy, PolicyError> {
        Self::from_source(&SourceFile::new(
            "policies/default.yaml",
            DEFAULT_POLICY_YAML,
        ))
    }

    /// Reads a policy file.
    ///
    /// # Errors
    /// [`PolicyError`] with the line and column of the first problem.
    pub fn from_source(source: &SourceFile) -> Result<Policy, PolicyError> {
        let fail = |span: Span, message: String| {
            let (line, column) = source.line_col(span.start);
            PolicyError {
                file: source.name.clone(),
                line,
                column,
                message,
            }
        };
        let loaded = source::load(0, source, &Limits::default());
        if let Some(note) = loaded
            .notes
            .iter()
            .find(|n| n.kind == source::ParseNoteKind::Syntax)
        {
            return Err(fail(note.span, note.message.clone()));
        }
        let mut policies = loaded
            .documents
            .iter()
            .filter(|d| d.kind() == Some("Policy"));
        let Some(doc) = policies.next() else {
            return Err(fail(
                Span::empty(0),
                "no `kind: Policy` document in the policy file".to_string(),
            ));
        };
        if let Some(extra) = policies.next() {
            return Err(fail(
                extra.root.span,
                "more than one `kind: Policy` document; keep one per file".to_string(),
            ));
        }
        match doc.api_version() {
            Some("eksgate.dev/v1alpha1") => {}
            Some(other) => {
                let node = doc.root.get("apiVersion").map_or(doc.root.span, |n| n.span);
                return Err(fail(
                    node,
                    format!("unsupported apiVersion `{other}`; use `eksgate.dev/v1alpha1`"),
                ));
            }
            None => {
                return Err(fail(
                    doc.root.span,
                    "missing `apiVersion: eksgate.dev/v1alpha1`".to_string(),
                ));
            }
        }
        let mut reader = Reader { errors: Vec::new() };
        let policy = reader.policy(doc);
        match reader.errors.into_iter().next() {
            Some((span, message)) => Err(fail(span, message)),
            None => Ok(policy),
        }
    }

    #[must_use]
    pub fn infrastructure_class(&self) -> Option<&PoolClass> {
        self.pool_classes.iter().find(|c| c.infrastructure)
    }

    #[must_use]
    pub fn class(&self, name: &str) -> Option<&PoolClass> {
        self.pool_classes.iter().find(|c| c.name == name)
    }

    #[must_use]
    pub fn is_infra_namespace(&self, ns: &str) -> bool {
        self.infra_namespaces.iter().any(|n| n == ns)
    }

    #[must_use]
    pub fn is_exempt_namespace(&self, ns: &str) -> bool {
        self.exempt_namespaces.iter().any(|n| n == ns)
    }
}

/// Reads the policy document, collecting errors with the span they belong to.
struct Reader {
    errors: Vec<(Span, String)>,
}

impl Reader {
    fn error(&mut self, node: &Node, message: String) {
        self.errors.push((node.span, message));
    }

    /// Unknown keys are errors: a typo in a policy must not silently weaken it.
    fn known_keys(&mut self, node: &Node, what: &str, known: &[&str]) {
        for entry in node.entries() {
            let key = entry.key_str().unwrap_or("");
            if !known.contains(&key) {
                self.error(
                    &entry.key,
                    format!(
                        "unknown field `{key}` in {what}; expected one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n Node> {
        if node.as_map().is_some() {
            Some(node)
        } else {
            self.error(
                node,
                format!("{what} must be a mapping, found {}", node.type_name()),
            );
            None
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> String {
        match &node.value {
            Value::Str(s) => s.clone(),
            _ => {
                self.error(
                    node,
                    format!("{what} must be a string, found {}", node.type_name()),
                );
                String::new()
            }
        }
    }

    fn bool(&mut self, node: Option<&Node>, what: &str, default: bool) -> bool {
        match node {
            None => default,
            Some(n) => n.as_bool().unwrap_or_else(|| {
                self.error(
                    n,
                    format!("{what} must be `true` or `false`, found {}", n.type_name()),
                );
                default
            }),
        }
    }

    fn int(&mut self, node: Option<&Node>, what: &str, default: i64) -> i64 {
        match node {
            None => default,
            Some(n) => match n.as_i64() {
                Some(v) if v >= 0 => v,
                _ => {
                    self.error(n, format!("{what} must be a non-negative integer"));
                    default
                }
            },
        }
    }

    fn strings(&mut self, node: Option<&Node>, what: &str) -> Vec<String> {
        let Some(node) = node else {
            return Vec::new();
        };
        if node.as_seq().is_none() {
            self.error(node, format!("{what} must be a list of strings"));
            return Vec::new();
        }
        node.items().iter().map(|n| self.string(n, what)).collect()
    }

    fn string_map(&mut self, node: Option<&Node>, what: &str) -> Vec<(String, String)> {
        let Some(node) = node.and_then(|n| self.map(n, what)) else {
            return Vec::new();
        };
        node.entries()
            .iter()
            .map(|e| {
                (
                    e.key_str().unwrap_or("").to_string(),
                    self.string(&e.value, what),
                )
            })
            .collect()
    }

    fn policy(&mut self, doc: &source::Document) -> Policy {
        let root = &doc.root;
        self.known_keys(
            root,
            "the policy",
            &["apiVersion", "kind", "metadata", "spec"],
        );
        let empty = Node::new(Value::Map(Vec::new()), Span::default());
        let spec = match root.get("spec") {
            Some(s) => self.map(s, "`spec`").unwrap_or(&empty),
            None => &empty,
        };
        self.known_keys(
            spec,
            "`spec`",
            &[
                "poolClasses",
                "namespaces",
                "imds",
                "encryption",
                "spot",
                "overrides",
            ],
        );
        let mut pool_classes = Vec::new();
        if let Some(list) = spec.get("poolClasses") {
            if list.as_seq().is_none() {
                self.error(list, "`poolClasses` must be a list".to_string());
            }
            for item in list.items() {
                if let Some(class) = self.pool_class(item) {
                    if pool_classes
                        .iter()
                        .any(|c: &PoolClass| c.name == class.name)
                    {
                        self.error(
                            item,
                            format!("pool class `{}` is defined twice", class.name),
                        );
                    }
                    pool_classes.push(class);
                }
            }
        }
        if pool_classes.iter().filter(|c| c.infrastructure).count() > 1
            && let Some(list) = spec.get("poolClasses")
        {
            self.error(
                list,
                "only one pool class may be `infrastructure: true`".to_string(),
            );
        }
        let namespaces = spec
            .get("namespaces")
            .and_then(|n| self.map(n, "`namespaces`"));
        if let Some(ns) = namespaces {
            self.known_keys(ns, "`namespaces`", &["infrastructure", "exempt"]);
        }
        let imds = spec.get("imds").and_then(|n| self.map(n, "`imds`"));
        if let Some(n) = imds {
            self.known_keys(n, "`imds`", &["requireV2", "maxHopLimit"]);
        }
        let enc = spec
            .get("encryption")
            .and_then(|n| self.map(n, "`encryption`"));
        if let Some(n) = enc {
            self.known_keys(
                n,
                "`encryption`",
                &["requireEbsEncryption", "requireKmsKey"],
            );
        }
        let spot = spec.get("spot").and_then(|n| self.map(n, "`spot`"));
        if let Some(n) = spot {
            self.known_keys(n, "`spot`", &["minInstanceTypes"]);
        }
        let mut overrides = BTreeMap::new();
        if let Some(list) = spec
            .get("overrides")
            .and_then(|n| self.map(n, "`overrides`"))
        {
            for entry in list.entries() {
                let id = entry.key_str().unwrap_or("").to_string();
                if crate::rules::find(&id).is_none() {
                    self.error(
                        &entry.key,
                        format!("unknown rule `{id}` (see `eksgate rules`)"),
                    );
                    continue;
                }
                let Some(body) = self.map(&entry.value, "a rule override") else {
                    continue;
                };
                self.known_keys(body, "a rule override", &["severity", "enabled"]);
                let severity = body.get("severity").and_then(|s| {
                    let text = s.as_str().unwrap_or("");
                    let parsed = Severity::parse(text);
                    if parsed.is_none() {
                        self.error(
                            s,
                            format!(
                                "severity must be `error`, `warning` or `info`, found `{text}`"
                            ),
                        );
                    }
                    parsed
                });
                let enabled = body
                    .get("enabled")
                    .map(|e| self.bool(Some(e), "`enabled`", true));
                overrides.insert(id, RuleOverride { severity, enabled });
            }
        }
        Policy {
            name: doc.name().unwrap_or("policy").to_string(),
            pool_classes,
            infra_namespaces: self.strings(
                namespaces.and_then(|n| n.get("infrastructure")),
                "`namespaces.infrastructure`",
            ),
            exempt_namespaces: self.strings(
                namespaces.and_then(|n| n.get("exempt")),
                "`namespaces.exempt`",
            ),
            imds: ImdsPolicy {
                require_v2: self.bool(imds.and_then(|n| n.get("requireV2")), "`requireV2`", true),
                max_hop_limit: self.int(
                    imds.and_then(|n| n.get("maxHopLimit")),
                    "`maxHopLimit`",
                    1,
                ),
            },
            encryption: EncryptionPolicy {
                require_ebs_encryption: self.bool(
                    enc.and_then(|n| n.get("requireEbsEncryption")),
                    "`requireEbsEncryption`",
                    true,
                ),
                require_kms_key: self.bool(
                    enc.and_then(|n| n.get("requireKmsKey")),
                    "`requireKmsKey`",
                    false,
                ),
            },
            spot: SpotPolicy {
                min_instance_types: self.int(
                    spot.and_then(|n| n.get("minInstanceTypes")),
                    "`minInstanceTypes`",
                    10,
                ),
            },
            overrides,
        }
    }

    fn pool_class(&mut self, node: &Node) -> Option<PoolClass> {
        let node = self.map(node, "a pool class")?;
        self.known_keys(
            node,
            "a pool class",
            &[
                "name",
                "infrastructure",
                "match",
                "labels",
                "taints",
                "capacityTypes",
                "requireDisruptionBudget",
                "billingTags",
            ],
        );
        let Some(name_node) = node.get("name") else {
            self.error(node, "a pool class needs a `name`".to_string());
            return None;
        };
        let name = self.string(name_node, "`name`");
        let matcher = node.get("match").and_then(|m| self.map(m, "`match`"));
        if let Some(m) = matcher {
            self.known_keys(m, "`match`", &["labels", "names"]);
        }
        let mut taints = Vec::new();
        for t in node.get("taints").map(Node::items).unwrap_or_default() {
            let Some(t) = self.map(t, "a taint") else {
                continue;
            };
            self.known_keys(t, "a taint", &["key", "value", "effects"]);
            let key = t
                .get("key")
                .map(|k| self.string(k, "`key`"))
                .unwrap_or_default();
            if key.is_empty() {
                self.error(t, "a taint needs a `key`".to_string());
            }
            let effects = self.strings(t.get("effects"), "`effects`");
            for e in &effects {
                if !["NoSchedule", "NoExecute", "PreferNoSchedule"].contains(&e.as_str())
                    && let Some(n) = t.get("effects")
                {
                    self.error(n, format!("unknown taint effect `{e}`"));
                }
            }
            taints.push(TaintSpec {
                key,
                value: t
                    .get("value")
                    .map(|v| self.string(v, "`value`"))
                    .unwrap_or_default(),
                effects: if effects.is_empty() {
                    vec!["NoSchedule".to_string(), "NoExecute".to_string()]
                } else {
                    effects
                },
            });
        }
        let mut billing_tags = Vec::new();
        if let Some(tags) = node
            .get("billingTags")
            .and_then(|t| self.map(t, "`billingTags`"))
        {
            for entry in tags.entries() {
                let key = entry.key_str().unwrap_or("").to_string();
                let Some(body) = self.map(&entry.value, "a billing tag") else {
                    continue;
                };
                self.known_keys(body, "a billing tag", &["allowed", "pattern"]);
                let allowed = self.strings(body.get("allowed"), "`allowed`");
                let pattern = body.get("pattern").and_then(|p| {
                    let text = self.string(p, "`pattern`");
                    match Regex::new(&text) {
                        Ok(re) => Some(re),
                        Err(err) => {
                            self.error(p, format!("invalid regular expression: {err}"));
                            None
                        }
                    }
                });
                billing_tags.push(BillingTag {
                    key,
                    allowed,
                    pattern,
                });
            }
        }
        let capacity_types = node
            .get("capacityTypes")
            .map(|c| self.strings(Some(c), "`capacityTypes`"));
        Some(PoolClass {
            name,
            infrastructure: self.bool(node.get("infrastructure"), "`infrastructure`", false),
            match_labels: self.string_map(matcher.and_then(|m| m.get("labels")), "`match.labels`"),
            match_names: self.strings(matcher.and_then(|m| m.get("names")), "`match.names`"),
            labels: self.string_map(node.get("labels"), "`labels`"),
            taints,
            capacity_types,
            require_disruption_budget: self.bool(
                node.get("requireDisruptionBudget"),
                "`requireDisruptionBudget`",
                false,
            ),
            billing_tags,
        })
    }
}

/// `*` matches any run of characters; everything else matches itself.
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = rest.get(i + part.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn default_policy_loads() {
        let policy = Policy::default_policy().unwrap();
        assert_eq!(
            policy.infrastructure_class().unwrap().name,
            "infrastructure"
        );
        assert!(policy.is_infra_namespace("istio-system"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("infra-*", "infra-a"));
        assert!(glob_match("*-infra", "team-infra"));
        assert!(glob_match("infra", "infra"));
        assert!(!glob_match("infra", "infra2"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXbY"));
    }

    #[test]
    fn unknown_fields_are_errors_with_positions() {
        let text =
            "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  imds:\n    requireV3: true\n";
        let err = Policy::from_source(&SourceFile::new("p.yaml", text)).unwrap_err();
        assert_eq!((err.line, err.column), (5, 5));
        assert!(err.message.contains("requireV3"));
    }
}

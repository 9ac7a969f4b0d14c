//! The policy: how pools are classified and what each class must carry.
//!
//! Written as `kind: Policy` (`eksgate.dev/v1alpha1`); `policies/default.yaml` is embedded and
//! used when the user gives none. Schema for editors: `policies/schemas/policy.schema.json`.

use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// Custom rules: CEL expressions over each matching object (`spec.rules`).
    pub rules: Vec<CustomRule>,
}

/// A rule of the policy's own, in CEL (`spec.rules[]`), in the manner of a Kubernetes
/// ValidatingAdmissionPolicy: `expression` is evaluated with `object` bound to each matching
/// document and must be `true`; `false` is a finding.
#[derive(Clone, Debug)]
pub struct CustomRule {
    /// Its rule ID in findings: upper-case letters, digits and `-`, ending in a digit
    /// (`ACME001`, `TEAM-LABEL-1`), distinct from every built-in ID.
    pub id: String,
    pub matcher: CustomMatch,
    pub expression: String,
    pub program: Arc<cel::Program>,
    /// The finding's message (`message`), unless `messageExpression` gives one.
    pub message: Option<String>,
    pub message_expression: Option<Arc<cel::Program>>,
    pub severity: Severity,
}

/// Which documents a custom rule applies to; every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct CustomMatch {
    pub api_version: Option<String>,
    /// Kinds (`Deployment`, `NodePool`); empty = every kind.
    pub kinds: Vec<String>,
    /// Namespaces (`metadata.namespace`, `default` when unset); empty = any, cluster-scoped
    /// objects included.
    pub namespaces: Vec<String>,
    /// `labelSelector.matchLabels`: labels the object must carry.
    pub match_labels: Vec<(String, String)>,
}

impl CustomMatch {
    /// Whether the document is one the rule applies to.
    #[must_use]
    pub fn matches(&self, doc: &source::Document) -> bool {
        if let Some(api) = &self.api_version
            && doc.api_version() != Some(api.as_str())
        {
            return false;
        }
        if !self.kinds.is_empty()
            && !doc
                .kind()
                .is_some_and(|k| self.kinds.iter().any(|x| x == k))
        {
            return false;
        }
        if !self.namespaces.is_empty() {
            let ns = doc.namespace().unwrap_or("default");
            if !self.namespaces.iter().any(|n| n == ns) {
                return false;
            }
        }
        self.match_labels.iter().all(|(k, v)| {
            doc.root
                .path(&["metadata", "labels", k])
                .and_then(Node::scalar_text)
                .is_some_and(|text| &text == v)
        })
    }
}

/// Whether `id` may name a custom rule: `^[A-Z][A-Z0-9-]*[0-9]+$`.
#[must_use]
pub fn is_custom_rule_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && id.ends_with(|c: char| c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
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
        let mut reader = Reader {
            errors: Vec::new(),
            source,
        };
        let policy = reader.policy(doc);
        match reader.errors.into_iter().next() {
            Some((span, message)) => Err(fail(span, message)),
            None => Ok(policy),
        }
    }

    /// The custom rule with this ID.
    #[must_use]
    pub fn custom_rule(&self, id: &str) -> Option<&CustomRule> {
        self.rules.iter().find(|r| r.id == id)
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
struct Reader<'s> {
    errors: Vec<(Span, String)>,
    source: &'s SourceFile,
}

impl Reader<'_> {
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
                "rules",
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
                if !crate::catalogue::is_builtin(&id) {
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
        let mut rules: Vec<CustomRule> = Vec::new();
        if let Some(list) = spec.get("rules") {
            if list.as_seq().is_none() {
                self.error(list, "`rules` must be a list".to_string());
            }
            for item in list.items() {
                if let Some(rule) = self.custom_rule(item) {
                    if rules.iter().any(|r| r.id == rule.id) {
                        self.error(item, format!("custom rule `{}` is defined twice", rule.id));
                    }
                    rules.push(rule);
                }
            }
        }
        Policy {
            rules,
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

    fn custom_rule(&mut self, node: &Node) -> Option<CustomRule> {
        let node = self.map(node, "a custom rule")?;
        self.known_keys(
            node,
            "a custom rule",
            &[
                "id",
                "match",
                "expression",
                "message",
                "messageExpression",
                "severity",
            ],
        );
        let Some(id_node) = node.get("id") else {
            self.error(node, "a custom rule needs an `id`".to_string());
            return None;
        };
        let id = self.string(id_node, "`id`");
        if !is_custom_rule_id(&id) {
            self.error(
                id_node,
                format!("custom rule ID `{id}` must be upper-case letters, digits and `-`, starting with a letter and ending with a digit (like `ACME001`)"),
            );
        } else if crate::catalogue::is_builtin(&id) {
            self.error(
                id_node,
                format!("custom rule ID `{id}` is a built-in rule's ID; choose another (`eksgate rules` lists them)"),
            );
        }
        let Some(expression_node) = node.get("expression") else {
            self.error(node, format!("custom rule `{id}` needs an `expression`"));
            return None;
        };
        let expression = self.string(expression_node, "`expression`");
        let program = self.cel(expression_node, &expression)?;
        let message = node.get("message").map(|m| self.string(m, "`message`"));
        let message_expression = match node.get("messageExpression") {
            Some(m) => {
                let text = self.string(m, "`messageExpression`");
                Some(Arc::new(self.cel(m, &text)?))
            }
            None => None,
        };
        if message.is_none() && message_expression.is_none() {
            self.error(
                node,
                format!("custom rule `{id}` needs a `message` or a `messageExpression`"),
            );
        }
        let severity = match node.get("severity") {
            None => Severity::Error,
            Some(s) => {
                let text = s.as_str().unwrap_or("");
                Severity::parse(text).unwrap_or_else(|| {
                    self.error(
                        s,
                        format!("severity must be `error`, `warning` or `info`, found `{text}`"),
                    );
                    Severity::Error
                })
            }
        };
        let mut matcher = CustomMatch::default();
        if let Some(m) = node.get("match").and_then(|m| self.map(m, "`match`")) {
            self.known_keys(
                m,
                "`match`",
                &["apiVersion", "kinds", "namespaces", "labelSelector"],
            );
            matcher.api_version = m.get("apiVersion").map(|a| self.string(a, "`apiVersion`"));
            matcher.kinds = self.strings(m.get("kinds"), "`kinds`");
            matcher.namespaces = self.strings(m.get("namespaces"), "`namespaces`");
            if let Some(selector) = m
                .get("labelSelector")
                .and_then(|l| self.map(l, "`labelSelector`"))
            {
                self.known_keys(selector, "`labelSelector`", &["matchLabels"]);
                matcher.match_labels =
                    self.string_map(selector.get("matchLabels"), "`matchLabels`");
            }
        }
        Some(CustomRule {
            id,
            matcher,
            expression,
            program: Arc::new(program),
            message,
            message_expression,
            severity,
        })
    }

    /// Compiles a CEL expression of the policy; errors point into the expression's text.
    fn cel(&mut self, node: &Node, text: &str) -> Option<cel::Program> {
        match crate::cel::compile(text) {
            Ok(program) => {
                let missing = crate::cel::refs::missing(program.expression(), &["object"]);
                if let Some(f) = missing.functions.first() {
                    self.error(node, format!("CEL function `{f}` is not supported (see `eksgate explain CEL001` for what is)"));
                    return None;
                }
                if let Some(v) = missing.variables.first() {
                    self.error(
                        node,
                        format!(
                            "unknown variable `{v}` in CEL expression; the document is `object`"
                        ),
                    );
                    return None;
                }
                Some(program)
            }
            Err(e) => {
                let at = expression_offset(self.source, node, e.line, e.column);
                self.errors.push((
                    Span::empty(at),
                    format!("invalid CEL expression: {}", e.message),
                ));
                None
            }
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

/// The byte offset in `source` of `line`:`column` (1-based, characters) inside the string
/// scalar `node`: plain and quoted scalars start on their own line (after the quote), block
/// scalars (`|`, `>`) on the line after the indicator, at the block's indentation.
fn expression_offset(source: &SourceFile, node: &Node, line: usize, column: usize) -> u32 {
    let raw = source.slice(node.span);
    let (start_line, start_column) = source.line_col(node.span.start);
    // A block scalar's node starts at its content; its indicator ends the line before.
    let block = start_line > 1 && {
        let before = source.line_text(start_line - 1);
        let before = before.split(" #").next().unwrap_or("").trim_end();
        ["|", ">", "|-", "|+", ">-", ">+"]
            .iter()
            .any(|indicator| before.ends_with(indicator))
    };
    let quoted = raw.starts_with('"') || raw.starts_with('\'');
    let (file_line, first_column) = if block {
        (start_line + line.saturating_sub(1), start_column)
    } else if line <= 1 {
        (start_line, start_column + usize::from(quoted))
    } else {
        let file_line = start_line + line - 1;
        let indent = source
            .line_text(file_line)
            .chars()
            .take_while(|c| *c == ' ')
            .count();
        (file_line, indent + 1)
    };
    let Some(line_start) = source.line_start(file_line) else {
        return node.span.start;
    };
    let text = source.line_text(file_line);
    let target = first_column + column.saturating_sub(1);
    let byte = text
        .char_indices()
        .nth(target.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    line_start + u32::try_from(byte).unwrap_or(0)
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

    const RULES_HEAD: &str = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n";

    fn policy_error(rules: &str) -> PolicyError {
        Policy::from_source(&SourceFile::new("p.yaml", format!("{RULES_HEAD}{rules}"))).unwrap_err()
    }

    #[test]
    fn custom_rules_load_and_match() {
        let text = format!(
            "{RULES_HEAD}    - id: TEAM001\n      match: {{kinds: [Deployment], namespaces: [shop], labelSelector: {{matchLabels: {{tier: web}}}}}}\n      expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"\n      message: every Deployment needs a `team` label\n      severity: warning\n"
        );
        let policy = Policy::from_source(&SourceFile::new("p.yaml", text)).unwrap();
        let rule = policy.custom_rule("TEAM001").unwrap();
        assert_eq!(rule.severity, Severity::Warning);
        assert_eq!(rule.matcher.kinds, vec!["Deployment"]);
        assert_eq!(
            rule.matcher.match_labels,
            vec![("tier".to_string(), "web".to_string())]
        );
    }

    #[test]
    fn bad_cel_points_into_the_expression() {
        // Plain scalar: `object.spec.x ==` ends at column 34 of line 6.
        let err = policy_error(
            "    - id: ACME001\n      message: m\n      expression: object.spec.x == \n",
        );
        assert_eq!(err.line, 7, "{err}");
        assert!(err.column > 19, "{err}");
        assert!(err.message.starts_with("invalid CEL expression"), "{err}");
        // Quoted scalar: the column counts the quote.
        let err =
            policy_error("    - id: ACME001\n      message: m\n      expression: \"object.(x\"\n");
        assert_eq!(err.line, 7, "{err}");
        assert!(err.column >= 27, "{err}");
        // Block scalar: the second line of the expression is the file's line 9.
        let err = policy_error(
            "    - id: ACME001\n      message: m\n      expression: |\n        has(object.spec) &&\n          object.spec.x == )\n",
        );
        assert_eq!((err.line, err.column), (9, 28), "{err}");
    }

    #[test]
    fn custom_rule_ids_are_checked() {
        let err = policy_error("    - id: IMDS001\n      message: m\n      expression: 'true'\n");
        assert!(err.message.contains("built-in"), "{err}");
        let err = policy_error("    - id: lower1\n      message: m\n      expression: 'true'\n");
        assert!(err.message.contains("upper-case"), "{err}");
        let err = policy_error("    - id: ACME001\n      expression: 'true'\n");
        assert!(err.message.contains("`message`"), "{err}");
        let err = policy_error(
            "    - id: ACME001\n      message: m\n      expression: quantity(object.x) != null\n",
        );
        assert!(err.message.contains("`quantity` is not supported"), "{err}");
        let err = policy_error("    - id: ACME001\n      message: m\n      expression: self.x\n");
        assert!(err.message.contains("unknown variable `self`"), "{err}");
        assert!(is_custom_rule_id("TEAM-LABEL-1"));
        assert!(!is_custom_rule_id("TEAM"));
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

//! The policy: how pools are classified and what each class must carry.
//!
//! Written as `kind: Policy` (`eksgate.dev/v1alpha1`); `policies/default.yaml` is embedded and
//! used when the user gives none. The types below are what the typed reader reads it into
//! (`reader/`); their doc comments are the descriptions of `policies/schemas/policy.schema.json`,
//! which is generated from them. What the types cannot say is checked in `check.rs`.

mod check;

use std::sync::Arc;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::diagnostic::Severity;
use crate::node::Node;
use crate::reader::{self, OrderedMap, OwnDocument, ReadError, Spanned, field_error};
use crate::source::{self, SourceFile};

pub use check::is_custom_rule_id;

/// The policy the tool ships with (`policies/default.yaml`).
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../../../policies/default.yaml");

/// A policy file that cannot be used: file, line, column, JSON pointer and why.
pub type PolicyError = ReadError;

/// How eksgate classifies NodePools and what each class must carry. Pass with `eksgate check --policy FILE`; policies/default.yaml is the built-in default.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    /// `metadata.name` (`policy` when unset).
    #[serde(skip)]
    pub name: String,
    /// Pool classes. A NodePool's class is found by its template labels (`match.labels`), else its name (`match.names`), else the infrastructure class's taint.
    #[serde(default)]
    pub pool_classes: Vec<PoolClass>,
    /// Which namespaces hold platform workloads, and which the separation rules leave alone.
    #[serde(default)]
    pub namespaces: Namespaces,
    /// Instance metadata service requirements for EC2NodeClasses (IMDS001, IMDS002).
    #[serde(default)]
    pub imds: ImdsPolicy,
    /// Volume encryption requirements (ENC001, ENC002).
    #[serde(default)]
    pub encryption: EncryptionPolicy,
    /// Spot capacity requirements (KARP001).
    #[serde(default)]
    pub spot: SpotPolicy,
    /// Per-rule severity overrides and switches, by rule ID.
    #[serde(default)]
    #[schemars(schema_with = "check::overrides_schema")]
    pub overrides: OrderedMap<Spanned<String>, RuleOverride>,
    /// Custom rules in CEL, like a ValidatingAdmissionPolicy: `expression` is evaluated with `object` bound to each matching document and must be true; false is a finding with the rule's ID. See docs/cel.md.
    #[serde(default)]
    pub rules: Vec<CustomRule>,
    /// Values holding template placeholders (`${VAR}`, `$(VAR)`, `{{ .Values.x }}`, `<<NAME>>`): `unknown` (the default) judges nothing about them; `strict` also reports each one as YAML005, for repositories that should hold rendered manifests only. `eksgate check --placeholders` overrides it.
    #[serde(default)]
    pub placeholders: PlaceholderMode,
    /// Which Helm chart, Flux Kustomization or Argo CD Application installs the CRDs of which API groups, beyond what eksgate knows (the Karpenter charts, EKS Auto Mode's built-in kinds, CRD files in the run). Read by the ordering rules ORD001-ORD004.
    #[serde(default)]
    pub crd_providers: Vec<crate::model::crd_providers::CrdProvider>,
}

impl OwnDocument for Policy {
    const KIND: &'static str = "Policy";
    const SCHEMA_FILE: &'static str = "policy.schema.json";
    const FILE: &'static str = "policy file";

    fn without_spec() -> Option<Self> {
        Some(Policy::default())
    }

    fn check(&mut self, checker: &mut reader::Checker<'_>) {
        check::policy(self, checker);
    }
}

/// How values holding template placeholders are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlaceholderMode {
    /// A placeholder is a value not known yet: no verdict on it.
    #[default]
    Unknown,
    /// As `unknown`, and every placeholder is a YAML005 finding.
    Strict,
}

/// Namespaces the separation rules treat specially.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Namespaces {
    /// Namespaces of platform workloads: they must run on the infrastructure pool (SEP004).
    #[serde(default)]
    pub infrastructure: Vec<String>,
    /// Namespaces the separation rules leave alone.
    #[serde(default)]
    pub exempt: Vec<String>,
}

/// A rule of the policy's own, in CEL.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("anyOf" = [{"required": ["message"]}, {"required": ["messageExpression"]}]))]
pub struct CustomRule {
    /// The finding's rule ID: upper-case letters, digits and `-`, ending with a digit (`ACME001`); not a built-in rule's ID.
    #[schemars(regex(pattern = r"^[A-Z][A-Z0-9-]*[0-9]$"))]
    pub id: Spanned<String>,
    /// Which documents the rule applies to; every condition given must hold. Empty: every document with a kind.
    #[serde(default, rename = "match")]
    pub matcher: CustomMatch,
    /// CEL over `object` (the document); must evaluate to a bool, `true` = compliant.
    #[schemars(length(min = 1))]
    pub expression: Spanned<String>,
    /// The finding's message.
    #[serde(default)]
    pub message: Option<String>,
    /// CEL over `object` giving the finding's message (wins over `message`).
    #[serde(default)]
    pub message_expression: Option<Spanned<String>>,
    /// The finding's severity.
    #[serde(default = "error_severity")]
    pub severity: Severity,
    /// The compiled expressions, set by the policy's checks.
    #[serde(skip)]
    compiled: Option<Compiled>,
}

fn error_severity() -> Severity {
    Severity::Error
}

/// A custom rule's expressions, compiled.
#[derive(Clone, Debug)]
struct Compiled {
    program: Arc<crate::cel::Program>,
    message: Option<Arc<crate::cel::Program>>,
}

impl CustomRule {
    /// The compiled `expression` (every rule of a policy that was read has one).
    #[must_use]
    pub fn program(&self) -> Option<&crate::cel::Program> {
        self.compiled.as_ref().map(|c| c.program.as_ref())
    }

    /// The compiled `messageExpression`, if the rule has one.
    #[must_use]
    pub fn message_program(&self) -> Option<&crate::cel::Program> {
        self.compiled.as_ref().and_then(|c| c.message.as_deref())
    }
}

/// Which documents a custom rule applies to; every condition given must hold.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomMatch {
    /// Exact `apiVersion`, e.g. `karpenter.sh/v1`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Kinds, e.g. `[Deployment, StatefulSet]`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// `metadata.namespace` values (`default` when unset).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Labels the object must carry.
    #[serde(default, rename = "labelSelector", deserialize_with = "match_labels")]
    #[schemars(with = "LabelSelector")]
    pub match_labels: OrderedMap<String, String>,
}

/// `labelSelector` of a custom rule's `match`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LabelSelector {
    /// Labels the object must carry, all of them.
    #[serde(default)]
    match_labels: OrderedMap<String, String>,
}

fn match_labels<'de, D: Deserializer<'de>>(d: D) -> Result<OrderedMap<String, String>, D::Error> {
    LabelSelector::deserialize(d).map(|s| s.match_labels)
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

/// A class of NodePools (infrastructure, client applications) and what its pools must carry.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolClass {
    /// The class's name, in messages.
    pub name: Spanned<String>,
    /// This class hosts the platform (Istio, Vault, ...): its taints and labels fence it off (SEP rules). At most one class.
    #[serde(default)]
    pub infrastructure: bool,
    /// How a NodePool is recognised as one of this class.
    #[serde(default, rename = "match")]
    pub matcher: PoolMatch,
    /// Template labels every pool of the class must carry (SEP002).
    #[serde(default)]
    pub labels: OrderedMap<String, String>,
    /// Taints every pool of the class must carry (SEP001).
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
    /// Capacity types a pool of the class may use (SEP003).
    #[serde(default)]
    pub capacity_types: Option<Vec<CapacityType>>,
    /// Pools of the class need spec.disruption.budgets (KARP003).
    #[serde(default)]
    pub require_disruption_budget: bool,
    /// Billing tags the node classes of this class must carry (TAG001, TAG002).
    #[serde(default, deserialize_with = "billing_tags")]
    #[schemars(with = "OrderedMap<String, BillingTag>")]
    pub billing_tags: Vec<BillingTag>,
}

/// How a pool class recognises its NodePools.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolMatch {
    /// Template labels that identify a pool of this class (all must match).
    #[serde(default)]
    pub labels: OrderedMap<String, String>,
    /// NodePool name globs (`*` = any run of characters).
    #[serde(default)]
    pub names: Vec<String>,
}

/// A taint a pool class requires.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaintSpec {
    /// The taint's key.
    #[serde(deserialize_with = "reader::non_empty")]
    #[schemars(length(min = 1))]
    pub key: String,
    /// The taint's value.
    #[serde(default)]
    pub value: String,
    /// Effects that satisfy the requirement; default NoSchedule or NoExecute.
    #[serde(default)]
    pub effects: Vec<TaintEffect>,
}

/// A taint's effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    NoExecute,
    PreferNoSchedule,
}

impl TaintEffect {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::NoExecute => "NoExecute",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        }
    }
}

/// A capacity type Karpenter launches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CapacityType {
    OnDemand,
    Spot,
    Reserved,
}

impl CapacityType {
    /// As Karpenter writes it (`karpenter.sh/capacity-type` values).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityType::OnDemand => "on-demand",
            CapacityType::Spot => "spot",
            CapacityType::Reserved => "reserved",
        }
    }
}

/// `PartialEq` with text and `Display` as Kubernetes writes the value, for the rules that
/// compare it with what a manifest says.
macro_rules! as_text {
    ($ty:ty) => {
        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
as_text!(TaintEffect);
as_text!(CapacityType);

/// A billing tag's allowed values.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BillingTag {
    /// The tag's key (the key of its entry in `billingTags`).
    #[serde(skip)]
    pub key: String,
    /// Allowed values.
    #[serde(default)]
    pub allowed: Vec<String>,
    /// Regular expression the value must match, in Go (RE2) syntax as Kubernetes reads patterns.
    #[serde(default)]
    pub pattern: Option<Pattern>,
}

/// `billingTags`, a mapping of tag keys, as a list of tags that know their key.
fn billing_tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BillingTag>, D::Error> {
    let map = OrderedMap::<String, BillingTag>::deserialize(d)?;
    Ok(map
        .0
        .into_iter()
        .map(|(key, tag)| BillingTag { key, ..tag })
        .collect())
}

/// A regular expression, compiled when the policy is read.
#[derive(Clone, Debug)]
pub struct Pattern {
    regex: Regex,
    /// The pattern as the policy wrote it (the regex holds its translation).
    source: String,
}

impl Pattern {
    /// The pattern as the policy wrote it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    #[must_use]
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Go's syntax and meaning, as Kubernetes reads a CRD's patterns.
        crate::re2::compile(&text)
            .map(|regex| Pattern {
                regex,
                source: text.clone(),
            })
            .map_err(|err| {
                serde::de::Error::custom(format!(
                    "invalid regular expression `{}`: {err}",
                    crate::text::shorten(&text)
                ))
            })
    }
}

impl JsonSchema for Pattern {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Pattern".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "regex"})
    }
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

/// Instance metadata service requirements.
#[derive(Clone, Debug, Deserialize, serde::Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ImdsPolicy {
    /// EC2NodeClasses must require IMDSv2 (IMDS001).
    pub require_v2: bool,
    /// The highest `httpPutResponseHopLimit` allowed (IMDS002).
    #[serde(deserialize_with = "hop_limit")]
    #[schemars(range(min = 1, max = 64))]
    pub max_hop_limit: i64,
}

impl Default for ImdsPolicy {
    fn default() -> Self {
        Self {
            require_v2: true,
            max_hop_limit: 1,
        }
    }
}

fn hop_limit<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=64).contains(&n) {
        Ok(n)
    } else {
        Err(field_error(format!(
            "is `{n}`; a hop limit is from 1 to 64 (EC2's range)"
        )))
    }
}

/// Volume encryption requirements.
#[derive(Clone, Debug, Deserialize, serde::Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct EncryptionPolicy {
    /// Every EBS volume must be encrypted (ENC001).
    pub require_ebs_encryption: bool,
    /// Volumes must name a customer-managed KMS key (ENC002).
    pub require_kms_key: bool,
}

impl Default for EncryptionPolicy {
    fn default() -> Self {
        Self {
            require_ebs_encryption: true,
            require_kms_key: false,
        }
    }
}

/// Spot capacity requirements.
#[derive(Clone, Debug, Deserialize, serde::Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SpotPolicy {
    /// Fewest instance types a spot pool may allow (KARP001).
    #[serde(deserialize_with = "non_negative")]
    #[schemars(range(min = 0))]
    pub min_instance_types: i64,
}

impl Default for SpotPolicy {
    fn default() -> Self {
        Self {
            min_instance_types: 10,
        }
    }
}

fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = i64::deserialize(d)?;
    if n >= 0 {
        Ok(n)
    } else {
        Err(field_error(format!("is `{n}`; it must not be negative")))
    }
}

/// A rule's severity override and switch.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleOverride {
    /// The severity the rule's findings get.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// `false` turns the rule off.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl PoolClass {
    /// Whether the pool name matches one of the class's globs.
    #[must_use]
    pub fn matches_name(&self, name: &str) -> bool {
        self.matcher.names.iter().any(|g| glob_match(g, name))
    }
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
    /// [`PolicyError`] with the line, column and JSON pointer of the first problem.
    pub fn from_source(source: &SourceFile) -> Result<Policy, PolicyError> {
        let read = reader::read_document::<Policy>(source)?;
        let mut policy = read.spec;
        policy.name = read.metadata.name.unwrap_or_else(|| "policy".to_string());
        Ok(policy)
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
        self.namespaces.infrastructure.iter().any(|n| n == ns)
    }

    #[must_use]
    pub fn is_exempt_namespace(&self, ns: &str) -> bool {
        self.namespaces.exempt.iter().any(|n| n == ns)
    }

    /// The override of a rule, by ID.
    #[must_use]
    pub fn override_of(&self, id: &str) -> Option<&RuleOverride> {
        self.overrides.get(id)
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

//! The rules. One file per rule; its doc comment is its user documentation (`eksgate explain`).
//!
//! A rule reads typed views from the [`Context`] (every document of the run, so cross-document
//! rules see the whole set) and reports [`Violation`]s. Severity overrides, suppression and
//! positions are the engine's job, not the rule's.

pub mod api;
pub mod cel;
pub mod custom;
pub mod enc;
pub mod imds;
pub mod karp;
pub mod ord;
pub mod parse;
pub mod refs;
pub mod sch;
pub mod sep;
pub mod tag;
pub mod tf;

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::model::policy::{Policy, PoolClass};
use crate::model::repo::Repository;
use crate::model::{NodeClass, NodeClassFlavor, NodePool, Workload};
use crate::node::{Node, Span};
use crate::schema::{KindSchema, SchemaSet};
use crate::source::Document;

/// What a rule is: its stable ID, name, default severity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable forever: `IMDS001`.
    pub id: &'static str,
    /// Kebab-case name of the bad pattern: `imdsv1-allowed`.
    pub name: &'static str,
    pub severity: Severity,
    /// The rule's doc comment, raw (each line keeps the space after `///`).
    pub raw_docs: &'static str,
}

impl RuleMeta {
    /// The documentation as Markdown.
    #[must_use]
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// The first line of the documentation.
    #[must_use]
    pub fn summary(&self) -> &'static str {
        self.raw_docs
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

/// Gives a rule its [`RuleMeta`]; implemented by the crate's `declare_rule!` macro.
pub trait Describe {
    fn meta(&self) -> &'static RuleMeta;
}

/// A check over the documents of one run.
pub trait Rule: Describe + Sync {
    /// Reports violations. Parse rules (`YAML001`, `YAML002`) and `SUP001` are reported by the
    /// engine while reading sources and suppressions, so they keep this default.
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let _ = (cx, out);
    }
}

/// Declares a rule struct whose doc comment becomes its [`RuleMeta`] documentation.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])+
        $vis:vis $name:ident { id: $id:literal, name: $rule_name:literal, severity: $severity:ident $(,)? }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::rules::Describe for $name {
            fn meta(&self) -> &'static $crate::rules::RuleMeta {
                static META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                    id: $id,
                    name: $rule_name,
                    severity: $crate::diagnostic::Severity::$severity,
                    raw_docs: concat!($($doc, "\n"),+),
                };
                &META
            }
        }
    };
}
pub(crate) use declare_rule;

/// Every rule, in the order `eksgate rules` lists them.
pub static RULES: &[&dyn Rule] = &[
    &parse::SourceUnparsable,
    &parse::Yaml11Scalar,
    &parse::DuplicateKey,
    &parse::DocumentIgnored,
    &parse::SuppressionWithoutReason,
    &api::DeprecatedApiVersion,
    &sch::schema_violation::SchemaViolation,
    &sch::unknown_field_pruned::UnknownFieldPruned,
    &cel::crd_rule_violated::CrdRuleViolated,
    &imds::imdsv1_allowed::ImdsV1Allowed,
    &imds::hop_limit_too_high::HopLimitTooHigh,
    &enc::ebs_unencrypted::EbsUnencrypted,
    &enc::kms_key_missing::KmsKeyMissing,
    &sep::infra_pool_missing_taint::InfraPoolMissingTaint,
    &sep::pool_label_mismatch::PoolLabelMismatch,
    &sep::infra_pool_forbidden_capacity::InfraPoolForbiddenCapacity,
    &sep::infra_workload_not_pinned::InfraWorkloadNotPinned,
    &sep::client_workload_on_infra::ClientWorkloadOnInfra,
    &sep::workload_unschedulable::WorkloadUnschedulable,
    &tag::billing_tag_missing::BillingTagMissing,
    &tag::billing_tag_value_invalid::BillingTagValueInvalid,
    &tag::tag_syntax_invalid::TagSyntaxInvalid,
    &tag::tag_key_reserved::TagKeyReserved,
    &tag::billing_class_mismatch::BillingClassMismatch,
    &refs::node_class_not_found::NodeClassNotFound,
    &refs::node_class_ref_mismatch::NodeClassRefMismatch,
    &karp::spot_diversity_low::SpotDiversityLow,
    &karp::pool_without_limits::PoolWithoutLimits,
    &karp::infra_pool_without_budget::InfraPoolWithoutBudget,
    &ord::custom_resource_before_crd::CustomResourceBeforeCrd,
    &ord::crd_dependency_not_awaited::CrdDependencyNotAwaited,
    &ord::dependency_cycle_or_missing::DependencyCycleOrMissing,
    &ord::argo_wave_before_crd::ArgoWaveBeforeCrd,
    &tf::manifest_planned_before_cluster::ManifestPlannedBeforeCluster,
];

/// The rule with this ID.
#[must_use]
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().id == id)
}

pub use crate::diagnostic::Subject;

/// One finding of one rule, before severity overrides and suppression.
#[derive(Debug, Clone)]
pub struct Violation<'a> {
    pub rule: &'static RuleMeta,
    pub subject: Subject<'a>,
    /// The rule's default severity, unless this finding has its own (ORD003's missing
    /// dependency is a warning, its cycle an error).
    pub severity: Severity,
    pub span: Span,
    pub pointer: String,
    pub message: String,
    pub help: Option<String>,
}

/// Findings of one rule in one document past this many are counted, not kept: the report
/// stays readable and the run linear when a document repeats one mistake a hundred thousand
/// times. The engine adds one line saying how many were left out.
pub const FINDINGS_PER_RULE_AND_DOCUMENT: usize = 100;

/// Where rules put what they find.
#[derive(Debug)]
pub struct Findings<'a> {
    pub(crate) rule: &'static RuleMeta,
    pub(crate) violations: Vec<Violation<'a>>,
    /// Per (file, document): findings kept, findings left out past the cap, and the subject.
    per_document: std::collections::HashMap<(usize, usize), (usize, usize, Subject<'a>)>,
    /// Where findings past the cap are written, so `report(..).help(..)` still works.
    discarded: Option<Violation<'a>>,
}

impl<'a> Findings<'a> {
    #[must_use]
    pub fn new(rule: &'static RuleMeta) -> Self {
        Self {
            rule,
            violations: Vec::new(),
            per_document: std::collections::HashMap::new(),
            discarded: None,
        }
    }

    /// Reports `message` at `node` (a key or value of `doc`). Returns the violation so that
    /// `help` can be attached.
    pub fn report(
        &mut self,
        doc: &'a Document,
        node: &Node,
        message: impl Into<String>,
    ) -> &mut Violation<'a> {
        let subject = Subject::of(doc);
        if self.is_capped(&subject) {
            // Past the cap nothing is computed (a JSON pointer costs a walk of the document).
            return self.discard(subject, node.span);
        }
        let pointer = doc.pointer(node);
        self.report_at(subject, node.span, pointer, message)
    }

    /// Reports `message` at `span` of the subject's file, for rules that work on summaries
    /// rather than document trees. `pointer` is the JSON pointer of the spot, or empty.
    pub fn report_at(
        &mut self,
        subject: Subject<'a>,
        span: Span,
        pointer: String,
        message: impl Into<String>,
    ) -> &mut Violation<'a> {
        if self.is_capped(&subject) {
            return self.discard(subject, span);
        }
        self.per_document
            .entry((subject.file, subject.document))
            .or_insert((0, 0, subject))
            .0 += 1;
        let violation = Violation {
            rule: self.rule,
            subject,
            severity: self.rule.severity,
            span,
            pointer,
            message: message.into(),
            help: None,
        };
        self.violations.push(violation);
        let last = self.violations.len() - 1;
        // `last` was pushed just above.
        #[expect(
            clippy::indexing_slicing,
            reason = "the element was pushed on the line above"
        )]
        &mut self.violations[last]
    }

    fn is_capped(&self, subject: &Subject<'a>) -> bool {
        self.per_document
            .get(&(subject.file, subject.document))
            .is_some_and(|c| c.0 >= FINDINGS_PER_RULE_AND_DOCUMENT)
    }

    fn discard(&mut self, subject: Subject<'a>, span: Span) -> &mut Violation<'a> {
        if let Some(c) = self.per_document.get_mut(&(subject.file, subject.document)) {
            c.1 += 1;
        }
        self.discarded.insert(Violation {
            rule: self.rule,
            subject,
            severity: self.rule.severity,
            span,
            pointer: String::new(),
            message: String::new(),
            help: None,
        })
    }

    /// The violations reported so far.
    #[must_use]
    pub fn violations(&self) -> &[Violation<'a>] {
        &self.violations
    }

    /// One violation per document whose findings were capped, saying how many were left out;
    /// it points at the last finding kept.
    pub(crate) fn overflow(&self) -> Vec<Violation<'a>> {
        let mut out = Vec::new();
        for &(shown, hidden, subject) in self.per_document.values() {
            if hidden == 0 {
                continue;
            }
            let last =
                self.violations.iter().rev().find(|v| {
                    v.subject.file == subject.file && v.subject.document == subject.document
                });
            out.push(Violation {
                rule: self.rule,
                subject,
                severity: last.map_or(self.rule.severity, |v| v.severity),
                span: last.map(|v| v.span).unwrap_or_default(),
                pointer: last.map(|v| v.pointer.clone()).unwrap_or_default(),
                message: format!(
                    "{hidden} more `{}` findings in this document are not shown (the first {shown} are)",
                    self.rule.id
                ),
                help: Some("fix the ones shown and check again".to_string()),
            });
        }
        out
    }
}

impl Violation<'_> {
    /// Attaches advice on what to do.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Gives this finding a severity other than the rule's default.
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}

/// Everything a rule may read: the policy and typed views of every document of the run.
#[derive(Debug)]
pub struct Context<'a> {
    pub policy: &'a Policy,
    /// Schemas from user CRDs (`--crd`); [`Context::schema_for`] falls back to the built-in ones.
    pub schemas: &'a SchemaSet,
    pub documents: &'a [Document],
    pub node_pools: Vec<NodePool<'a>>,
    pub node_classes: Vec<NodeClass<'a>>,
    pub workloads: Vec<Workload<'a>>,
    /// Node class name -> indexes into `node_classes`, in order: lookups by name stay linear
    /// in the classes of that name, not in every class of the run.
    classes_by_name: BTreeMap<&'a str, Vec<usize>>,
    /// `nodeClassRef` name -> indexes into `node_pools`, in order.
    pools_by_ref: BTreeMap<&'a str, Vec<usize>>,
    /// What applies which file, in what order (the ordering rules); `None` outside a run.
    repository: Option<&'a Repository>,
}

impl<'a> Context<'a> {
    #[must_use]
    pub fn new(policy: &'a Policy, documents: &'a [Document]) -> Self {
        static NONE: SchemaSet = SchemaSet { kinds: Vec::new() };
        let node_pools: Vec<NodePool<'a>> = documents
            .iter()
            .filter_map(NodePool::from_document)
            .collect();
        let node_classes: Vec<NodeClass<'a>> = documents
            .iter()
            .filter_map(NodeClass::from_document)
            .collect();
        let mut classes_by_name: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (i, class) in node_classes.iter().enumerate() {
            classes_by_name.entry(class.name).or_default().push(i);
        }
        let mut pools_by_ref: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (i, pool) in node_pools.iter().enumerate() {
            if let Some(name) = pool
                .node_class_ref
                .as_ref()
                .and_then(|r| r.name)
                .and_then(Node::as_str)
            {
                pools_by_ref.entry(name).or_default().push(i);
            }
        }
        Self {
            policy,
            schemas: &NONE,
            documents,
            node_pools,
            node_classes,
            workloads: documents
                .iter()
                .filter_map(Workload::from_document)
                .collect(),
            classes_by_name,
            pools_by_ref,
            repository: None,
        }
    }

    /// Gives the ordering rules the run's repository model.
    #[must_use]
    pub fn with_repository(mut self, repository: &'a Repository) -> Self {
        self.repository = Some(repository);
        self
    }

    /// The run's repository model, when the engine built one.
    #[must_use]
    pub fn repository(&self) -> Option<&'a Repository> {
        self.repository
    }

    /// Uses the schemas of these CRDs (`--crd`) before the built-in ones.
    #[must_use]
    pub fn with_schemas(mut self, schemas: &'a SchemaSet) -> Self {
        self.schemas = schemas;
        self
    }

    /// The schema a document is validated against: a user CRD's, else a built-in one.
    #[must_use]
    pub fn schema_for(&self, doc: &Document) -> Option<&'a KindSchema> {
        let (api_version, kind) = (doc.api_version()?, doc.kind()?);
        self.schemas
            .find(api_version, kind)
            .or_else(|| SchemaSet::builtin().find(api_version, kind))
    }

    /// The class a pool's template labels select (`match.labels`).
    #[must_use]
    pub fn class_by_labels(&self, pool: &NodePool<'_>) -> Option<&'a PoolClass> {
        self.policy.class_by_labels(pool)
    }

    /// The class a pool's name selects (`match.names`).
    #[must_use]
    pub fn class_by_name(&self, pool: &NodePool<'_>) -> Option<&'a PoolClass> {
        self.policy.class_by_name(pool)
    }

    /// Whether the pool carries one of the infrastructure class's taints (any effect).
    #[must_use]
    pub fn has_infra_taint(&self, pool: &NodePool<'_>) -> bool {
        self.policy.has_infra_taint(pool)
    }

    /// The pool's class: by labels, else by name, else by the infrastructure taint.
    #[must_use]
    pub fn pool_class(&self, pool: &NodePool<'_>) -> Option<&'a PoolClass> {
        self.policy.pool_class(pool)
    }

    /// Whether the pool is of the infrastructure class.
    #[must_use]
    pub fn is_infra_pool(&self, pool: &NodePool<'_>) -> bool {
        self.policy.is_infra_pool(pool)
    }

    /// Names of the infrastructure pools in the checked set.
    #[must_use]
    pub fn infra_pool_names(&self) -> Vec<&'a str> {
        self.node_pools
            .iter()
            .filter(|p| self.is_infra_pool(p))
            .map(|p| p.name)
            .collect()
    }

    /// EC2 node classes (Karpenter v1 and v1beta1) with their spec.
    pub fn ec2_node_classes(&self) -> impl Iterator<Item = (&NodeClass<'a>, &'a Node)> {
        self.node_classes.iter().filter_map(|class| {
            if matches!(class.flavor, NodeClassFlavor::Ec2(_)) {
                class.spec.map(|spec| (class, spec))
            } else {
                None
            }
        })
    }

    /// The node class a pool's `nodeClassRef` names, if it is in the run.
    #[must_use]
    pub fn node_class_of(&self, pool: &NodePool<'_>) -> Option<&NodeClass<'a>> {
        let r = pool.node_class_ref.as_ref()?;
        let name = r.name()?;
        let kind = r.kind();
        self.classes_by_name
            .get(name)?
            .iter()
            .filter_map(|&i| self.node_classes.get(i))
            .find(|nc| kind.is_none_or(|k| k == nc.kind()))
    }

    /// The pools whose `nodeClassRef` names this node class.
    #[must_use]
    pub fn pools_of(&self, class: &NodeClass<'_>) -> Vec<&NodePool<'a>> {
        self.pools_by_ref
            .get(class.name)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.node_pools.get(i))
            .filter(|p| {
                p.node_class_ref
                    .as_ref()
                    .is_some_and(|r| r.kind().is_none_or(|k| k == class.kind()))
            })
            .collect()
    }

    /// The class a node class's billing tags say it pays for (see [`Policy::billing_class`]).
    #[must_use]
    pub fn billing_class(&self, class: &NodeClass<'_>) -> Option<&'a PoolClass> {
        self.policy.billing_class(class)
    }

    /// The pool classes whose billing tags a node class must carry (see TAG001's docs), and
    /// the pools that put each one there: the classes of the pools that use it, except pools
    /// of another class than its tags bill (TAG005's finding); the billed class when no pool
    /// uses it.
    #[must_use]
    pub fn billed_classes(&self, class: &NodeClass<'a>) -> Vec<(&'a PoolClass, Vec<String>)> {
        let billing = self.billing_class(class);
        let mut out: Vec<(&'a PoolClass, Vec<String>)> = Vec::new();
        for pool in self.pools_of(class) {
            let Some(pc) = self.pool_class(pool) else {
                continue;
            };
            if billing.is_some_and(|b| b.name != pc.name) {
                continue;
            }
            match out.iter_mut().find(|(c, _)| c.name == pc.name) {
                Some((_, pools)) => {
                    if !pools.iter().any(|p| p == pool.name) {
                        pools.push(pool.name.to_string());
                    }
                }
                None => out.push((pc, vec![pool.name.to_string()])),
            }
        }
        if out.is_empty()
            && self.pools_of(class).is_empty()
            && let Some(b) = billing
        {
            out.push((b, Vec::new()));
        }
        out
    }
}

/// Helpers for the rules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use crate::{CheckOptions, Input, Policy, check};

    /// Messages of `rule` for `text` under the default policy.
    pub(crate) fn findings(rule: &str, text: &str) -> Vec<String> {
        let policy = Policy::default_policy().unwrap();
        check(
            vec![Input::text("t.yaml", text)],
            &policy,
            &CheckOptions::default(),
        )
        .diagnostics
        .into_iter()
        .filter(|d| d.rule == rule)
        .map(|d| d.message)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_rule_in_registry_order() {
        let registry: Vec<&str> = RULES.iter().map(|r| r.meta().id).collect();
        assert_eq!(
            crate::catalogue::BUILTIN_RULE_IDS,
            registry.as_slice(),
            "update `BUILTIN_RULE_IDS` in crates/policy/src/catalogue.rs"
        );
    }
}

//! `eksgate migrate`: Karpenter `v1beta1` NodePools and EC2NodeClasses to `v1`.
//!
//! The YAML reader keeps no comments, so the conversion is not a re-serialisation: it is a set
//! of targeted edits on the source text, placed by the spans of the parsed nodes (replace a
//! scalar, insert an entry at its mapping's indentation, remove an entry's lines, move an
//! entry's lines to another mapping). Lines no edit touches keep their bytes, comments and
//! layout; documents that need nothing stay byte-identical.
//!
//! Every edit also states what it means for the object (set or remove a field). The result is
//! parsed again and each document is compared with the original plus those changes; a document
//! whose text edits do not give exactly that (YAML anchors, merge keys, odd layouts) is left as
//! it was, with a note that says so. What cannot be converted automatically (Ubuntu AMIs,
//! kubelet settings whose EC2NodeClass is not in the input, ...) is explained in an error note.
//!
//! The method, one file each: [`edit`] applies `{span, replacement}` edits all or nothing (the
//! engine `eksgate check --fix` shares); `planner` gathers what conversions ask for, `text`
//! reads the layout around a node, `layout` renders mapping changes in the mapping's own style,
//! `verify` checks the result. `kinds` says which conversions each kind gets, and each
//! conversion is a file: `api_version`, `node_class_ref`, `kubelet`, `resources`, `disruption`
//! (NodePool disruption and expiry), `ami_selection`, `imds_hop_limit`, `tags`, `annotations`,
//! `disruption_taint`. The next Karpenter migration is one more file and a line in `kinds`.
//!
//! ```
//! use eksgate_policy::{SourceFile, migrate};
//!
//! let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata:\n  name: default\nspec:\n  template:\n    spec:\n      nodeClassRef:\n        name: default # the EC2NodeClass\n      requirements: []\n  disruption:\n    consolidationPolicy: WhenUnderutilized\n    expireAfter: 720h\n";
//! let migration = migrate::to_v1(&SourceFile::new("pool.yaml", text));
//! assert!(migration.is_complete());
//! assert!(migration.text.contains("apiVersion: karpenter.sh/v1\n"));
//! assert!(migration.text.contains("name: default # the EC2NodeClass\n"));
//! assert!(migration.text.contains("      expireAfter: 720h\n"));
//! ```

mod ami_selection;
mod annotations;
mod api_version;
mod disruption;
mod disruption_taint;
pub use crate::fix::edit;
mod imds_hop_limit;
mod kinds;
mod kubelet;
mod layout;
mod node_class_ref;
mod planner;
mod resources;
mod tags;
mod text;
mod verify;

use std::collections::BTreeMap;

use crate::source::{self, Document, Limits, Origin, ParseNoteKind, SourceFile};

use self::planner::{Planned, Planner};
use self::verify::{Mismatch, verify};

/// How much a note asks of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// A change that was made.
    Info,
    /// A change that was made and deserves a look: a default that was filled in, a guess, a
    /// behaviour that changes.
    Warning,
    /// Something that was not converted: the user has to do it.
    Error,
}

impl Level {
    /// `note`, `warning` or `error`, as compilers print them.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One remark on the conversion, at a position of the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// 1-based line of the original text.
    pub line: usize,
    /// 1-based column (in characters) of the original text.
    pub column: usize,
    pub level: Level,
    pub message: String,
}

/// The result of [`to_v1`].
#[derive(Clone, Debug)]
pub struct Migration {
    /// The converted text (the original text when nothing changed).
    pub text: String,
    /// What was changed and what was not, in the order of the original text.
    pub notes: Vec<Note>,
    /// Whether `text` differs from the original.
    pub changed: bool,
    /// How many objects (documents, or `List` items) were changed.
    pub objects: usize,
}

impl Migration {
    /// Whether everything that needed converting was converted (no [`Level::Error`] note).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        !self.notes.iter().any(|n| n.level == Level::Error)
    }
}

/// Converts the `v1beta1` Karpenter objects of a source to `v1`.
#[must_use]
pub fn to_v1(source: &SourceFile) -> Migration {
    to_v1_with(source, &Limits::default())
}

/// [`to_v1`] with explicit parsing limits.
#[must_use]
pub fn to_v1_with(source: &SourceFile, limits: &Limits) -> Migration {
    let text: &str = &source.text;
    let loaded = source::load(0, source, limits);
    if let Some(fault) = loaded
        .notes
        .iter()
        .find(|n| n.kind == ParseNoteKind::Syntax)
    {
        let note = (
            fault.span.start,
            Level::Error,
            format!(
                "cannot read the file ({}); nothing was converted",
                fault.message
            ),
        );
        return unchanged(source, vec![note]);
    }
    let docs = &loaded.documents;
    let mut manual: BTreeMap<usize, String> = BTreeMap::new();
    for (di, doc) in docs.iter().enumerate() {
        if let Origin::TerraformPlan { address } = &doc.origin {
            manual.insert(
                di,
                format!(
                    "manifests inside a Terraform plan are not converted: convert `{address}` in \
                     the Terraform source and plan again"
                ),
            );
        }
        if let Origin::TerraformSource { address } = &doc.origin {
            manual.insert(
                di,
                format!(
                    "manifests in Terraform source are not converted: convert `{address}` by hand"
                ),
            );
        }
    }
    // Plan, apply, verify; a document whose edits do not verify is left alone and planned again.
    for _ in 0..=docs.len() {
        let (planned, verdict) = attempt(text, docs, &manual, limits);
        let notes = planned.notes;
        let Some(new_text) = planned.text else {
            return unchanged(source, notes);
        };
        let changed = planned
            .semantics
            .keys()
            .copied()
            .filter(|di| !manual.contains_key(di));
        let culprits: Vec<usize> = match verdict {
            Ok(()) => {
                return Migration {
                    changed: new_text != text,
                    objects: planned.semantics.len(),
                    text: new_text,
                    notes: positioned(source, notes),
                };
            }
            Err(Mismatch::Documents(bad)) => changed.filter(|di| bad.contains(di)).collect(),
            // Which document broke the file: try each one alone.
            Err(Mismatch::Whole) => {
                let changed: Vec<usize> = changed.collect();
                changed
                    .iter()
                    .copied()
                    .filter(|&di| {
                        let mut alone = manual.clone();
                        for &other in changed.iter().filter(|&&o| o != di) {
                            alone.insert(other, String::new());
                        }
                        attempt(text, docs, &alone, limits).1.is_err()
                    })
                    .collect()
            }
        };
        if culprits.is_empty() {
            break;
        }
        for di in culprits {
            manual.insert(
                di,
                "eksgate could not edit this object safely (YAML anchors, aliases or merge keys \
                 in the fields to convert?): it was left as it was; convert it by hand"
                    .to_string(),
            );
        }
    }
    let note = (
        0,
        Level::Error,
        "eksgate could not edit this file safely: nothing was converted; convert it by hand \
         (and please report the file)"
            .to_string(),
    );
    unchanged(source, vec![note])
}

/// Plans the conversion with the documents of `manual` left alone, and verifies the result.
fn attempt(
    text: &str,
    docs: &[Document],
    manual: &BTreeMap<usize, String>,
    limits: &Limits,
) -> (Planned, Result<(), Mismatch>) {
    let mut planner = Planner::new(text, docs, manual);
    for (di, doc) in docs.iter().enumerate() {
        planner.document(di, doc);
    }
    planner.kubelets();
    let planned = planner.finish();
    let verdict = match &planned.text {
        Some(new_text) if new_text != text => verify(new_text, docs, &planned.semantics, limits),
        _ => Ok(()),
    };
    (planned, verdict)
}

fn unchanged(source: &SourceFile, notes: Vec<RawNote>) -> Migration {
    Migration {
        text: source.text.to_string(),
        notes: positioned(source, notes),
        changed: false,
        objects: 0,
    }
}

/// `(offset, level, message)`.
pub(super) type RawNote = (u32, Level, String);

fn positioned(source: &SourceFile, mut notes: Vec<RawNote>) -> Vec<Note> {
    notes.sort_by_key(|(at, _, _)| *at);
    notes.dedup();
    notes
        .into_iter()
        .map(|(at, level, message)| {
            let (line, column) = source.line_col(at);
            Note {
                line,
                column,
                level,
                message,
            }
        })
        .collect()
}

/// What the tests of every conversion use: run a migration, check it, list its errors.
#[cfg(test)]
pub(crate) mod testing {
    #![expect(clippy::unwrap_used, reason = "tests")]

    pub(crate) use super::{Level, Migration, to_v1};
    use crate::{CheckOptions, Input, Policy, SourceFile, check};

    pub(crate) fn migrate(text: &str) -> Migration {
        to_v1(&SourceFile::new("t.yaml", text))
    }

    /// The API001 messages a check of `text` gives.
    pub(crate) fn api001(text: &str) -> Vec<String> {
        let report = check(
            vec![Input::text("t.yaml", text)],
            &Policy::default_policy().unwrap(),
            &CheckOptions::default(),
        );
        report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "API001" || d.rule == "YAML001")
            .map(|d| format!("{} {}", d.rule, d.message))
            .collect()
    }

    /// A complete conversion: checks clean of API001, and converting again changes nothing.
    pub(crate) fn converted(text: &str) -> Migration {
        let m = migrate(text);
        assert!(m.changed, "nothing changed:\n{text}");
        assert!(m.is_complete(), "{:#?}\n{}", m.notes, m.text);
        assert_eq!(api001(&m.text), Vec::<String>::new(), "\n{}", m.text);
        let again = migrate(&m.text);
        assert!(!again.changed, "not idempotent:\n{}", again.text);
        m
    }

    pub(crate) fn errors(m: &Migration) -> Vec<&str> {
        m.notes
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.message.as_str())
            .collect()
    }

    pub(crate) const POOL_BLOCK: &str = "\
# Platform pools
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default # the default pool
spec:
  template:
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1 # the AWS provider
        kind: EC2NodeClass
        name: default
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [\"on-demand\"]
  limits:
    cpu: 1000
  disruption:
    consolidationPolicy: WhenUnderutilized # be frugal
    # nodes live a month
    expireAfter: 720h
";
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::testing::{self, *};
    use super::*;

    #[test]
    fn other_documents_stay_byte_identical() {
        let other = "---\n# a ConfigMap\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}\ndata: {a: b}   # untouched\n---\napiVersion: karpenter.sh/v1\nkind: NodePool   # already v1\nmetadata: {name: v1}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n";
        let text = format!("{POOL_BLOCK}{other}");
        let m = converted(&text);
        assert!(m.text.ends_with(other), "{}", m.text);
        assert_eq!(m.objects, 1);
    }

    #[test]
    fn nothing_to_do() {
        let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n---\napiVersion: v1\nkind: ConfigMap\n";
        let m = migrate(text);
        assert!(!m.changed);
        assert_eq!(m.text, text);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert!(m.is_complete());
    }

    #[test]
    fn kind_list_items_are_converted_in_place() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: karpenter.sh/v1beta1
  kind: NodePool
  metadata:
    name: listed
  spec:
    template:
      spec:
        nodeClassRef:
          apiVersion: karpenter.k8s.aws/v1beta1
          kind: EC2NodeClass
          name: default
        requirements: []
    disruption:
      consolidationPolicy: WhenEmpty
      consolidateAfter: 30s
      expireAfter: 720h
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: v1
kind: List
items:
- apiVersion: karpenter.sh/v1
  kind: NodePool
  metadata:
    name: listed
  spec:
    template:
      spec:
        nodeClassRef:
          group: karpenter.k8s.aws
          kind: EC2NodeClass
          name: default
        requirements: []
        expireAfter: 720h
    disruption:
      consolidationPolicy: WhenEmpty
      consolidateAfter: 30s
"
        );
    }

    #[test]
    fn crlf_and_missing_final_line_break() {
        let text = "apiVersion: karpenter.sh/v1beta1\r\nkind: NodePool\r\nmetadata:\r\n  name: a\r\nspec:\r\n  template:\r\n    spec:\r\n      nodeClassRef:\r\n        name: a\r\n      requirements: []\r\n  disruption:\r\n    consolidationPolicy: WhenUnderutilized";
        let m = converted(text);
        assert_eq!(
            m.text,
            "apiVersion: karpenter.sh/v1\r\nkind: NodePool\r\nmetadata:\r\n  name: a\r\nspec:\r\n  template:\r\n    spec:\r\n      nodeClassRef:\r\n        name: a\r\n        group: karpenter.k8s.aws\r\n        kind: EC2NodeClass\r\n      requirements: []\r\n  disruption:\r\n    consolidationPolicy: WhenEmptyOrUnderutilized\r\n    consolidateAfter: 0s"
        );
    }

    #[test]
    fn a_byte_order_mark_is_kept_and_not_indentation() {
        let text = "\u{feff}apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {name: a}\n      requirements: []\n  disruption:\n    expireAfter: 720h\n";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\u{feff}apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {name: a, group: karpenter.k8s.aws, kind: EC2NodeClass}\n      requirements: []\n      expireAfter: 720h\n  disruption:\n    consolidateAfter: 0s\n"
        );
        assert_eq!((m.notes[0].line, m.notes[0].column), (1, 13));
    }

    #[test]
    fn anchors_and_merge_keys_are_not_edited() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: a}
x-defaults: &disruption
  consolidationPolicy: WhenUnderutilized
  expireAfter: 720h
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
  disruption:
    <<: *disruption
";
        let m = migrate(text);
        assert!(!m.is_complete());
        assert!(
            m.notes
                .iter()
                .any(|n| n.level == Level::Error && n.message.contains("alias or merge key")),
            "{:?}",
            m.notes
        );
        // Whatever was converted verifies: no silent half-edit of the anchor.
        let reloaded = source::load(
            0,
            &SourceFile::new("x", m.text.as_str()),
            &Limits::default(),
        );
        assert!(
            reloaded
                .notes
                .iter()
                .all(|n| n.kind != ParseNoteKind::Syntax)
        );
    }

    #[test]
    fn an_anchored_mapping_used_elsewhere_is_left_alone() {
        // Editing `disruption` would edit its alias too: the document is left as it was.
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: anchored}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
  disruption: &d
    consolidationPolicy: WhenUnderutilized
    consolidateAfter: Never
metadata2: *d
---
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: plain}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
";
        let m = migrate(text);
        assert!(m.changed);
        let errors = testing::errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("NodePool `anchored`: eksgate could not edit this object safely")
        );
        let (first, second) = m.text.split_once("---\n").unwrap();
        assert_eq!(first, text.split_once("---\n").unwrap().0);
        assert!(
            second.starts_with("apiVersion: karpenter.sh/v1\n"),
            "{second}"
        );
    }

    #[test]
    fn unparsable_input_is_returned_unchanged() {
        let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nspec: {template: [\n";
        let m = migrate(text);
        assert!(!m.changed);
        assert_eq!(m.text, text);
        assert!(errors(&m)[0].starts_with("cannot read the file"));
    }

    #[test]
    fn older_kinds_and_node_claims_are_explained() {
        let text = "apiVersion: karpenter.sh/v1alpha5\nkind: Provisioner\nmetadata: {name: p}\n---\napiVersion: karpenter.sh/v1beta1\nkind: NodeClaim\nmetadata: {name: c}\n";
        let m = migrate(text);
        assert!(!m.changed);
        let errors = testing::errors(&m);
        assert!(errors[0].contains("karpenter-convert"));
        assert!(errors[1].contains("Karpenter creates NodeClaims itself"));
    }

    #[test]
    fn terraform_plans_are_not_edited() {
        let text = r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
  {"address": "kubernetes_manifest.pool", "type": "kubernetes_manifest", "values": {"manifest": {
    "apiVersion": "karpenter.sh/v1beta1", "kind": "NodePool", "metadata": {"name": "tf"},
    "spec": {"template": {"spec": {"nodeClassRef": {"name": "x"}, "requirements": []}}}}}}
]}}}
"#;
        let m = migrate(text);
        assert!(!m.changed);
        let errors = testing::errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("kubernetes_manifest.pool"), "{errors:?}");
    }
}

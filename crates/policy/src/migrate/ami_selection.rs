//! EC2NodeClass AMI selection: v1 selects AMIs only with `amiSelectorTerms`, so `amiFamily:
//! AL2023` without terms becomes `amiSelectorTerms: [{alias: al2023@latest}]`, in place and in
//! the mapping's style (with a warning to pin a release; Windows aliases take only `latest`).
//! Ubuntu (removed in v1) and families without an alias are explained, not converted.

use super::Level;
use super::edit::Edit;
use super::kinds::NodeClass;
use super::planner::Planner;
use crate::node::{Entry, Node};
use crate::rules::api::alias_family;

impl<'a> Planner<'a> {
    pub(super) fn ami_selection(&mut self, class: &NodeClass<'a>) {
        let &NodeClass {
            di,
            spec,
            has_terms,
            ..
        } = class;
        if let Some((_, entry)) = self.field(spec, "amiFamily") {
            let family = entry.value.as_str().unwrap_or_default();
            if family == "Ubuntu" {
                self.note(
                    &entry.value,
                    Level::Error,
                    "`amiFamily: Ubuntu` was removed in v1 and cannot be converted automatically: \
                     select your Ubuntu AMIs with `amiSelectorTerms` and set `amiFamily: Custom` \
                     with your own bootstrap `userData`, or move to \
                     `amiSelectorTerms: [{alias: al2023@v20240625}]`",
                );
            } else if !has_terms {
                match alias_family(family) {
                    Some((alias, pinned)) => self.alias(di, spec, entry, family, alias, pinned),
                    None => self.note(
                        &entry.value,
                        Level::Error,
                        format!(
                            "`amiFamily: {family}` without `amiSelectorTerms` cannot be converted: \
                             v1 requires `amiSelectorTerms` that select your AMIs; add them by hand"
                        ),
                    ),
                }
            }
        } else if !has_terms {
            self.note(
                spec,
                Level::Error,
                "v1 requires `amiSelectorTerms` (and this EC2NodeClass has no `amiFamily` to \
                 derive an alias from); add them by hand",
            );
        }
    }

    /// `amiFamily: AL2023` -> `amiSelectorTerms: [{alias: al2023@latest}]`, in place.
    pub(super) fn alias(
        &mut self,
        di: usize,
        spec: &'a Node,
        entry: &'a Entry,
        family: &str,
        alias: &str,
        pinned: &str,
    ) {
        let value = format!("{alias}@latest");
        let start = entry.key.span.start as usize;
        let end = self.content_end(&entry.value);
        let text = if self.is_flow(spec) {
            if self.json_style(spec) {
                format!("\"amiSelectorTerms\": [{{\"alias\": \"{value}\"}}]")
            } else {
                format!("amiSelectorTerms: [{{alias: {value}}}]")
            }
        } else {
            let col = self.column(start);
            let indent = self.sequence_indent(spec).unwrap_or(2);
            format!(
                "amiSelectorTerms:{}{}- alias: {value}",
                self.eol,
                " ".repeat(col + indent)
            )
        };
        if self.slice(&entry.value).contains('\n') {
            self.note(
                &entry.value,
                Level::Error,
                "cannot rewrite `amiFamily`; convert it by hand",
            );
            return;
        }
        self.edits.push(Edit::replace(start..end, text));
        self.unset(di, &["spec", "amiFamily"]);
        self.set(
            di,
            &["spec", "amiSelectorTerms"],
            serde_json::json!([{ "alias": value }]),
        );
        if pinned == "latest" {
            self.note(
                &entry.key,
                Level::Info,
                format!(
                    "`amiFamily: {family}` is now `amiSelectorTerms: [{{alias: {value}}}]` \
                     (Windows aliases accept only `latest`)"
                ),
            );
        } else {
            self.note(
                &entry.key,
                Level::Warning,
                format!(
                    "`amiFamily: {family}` is now `amiSelectorTerms: [{{alias: {value}}}]`: \
                     `@latest` replaces every node when a new AMI is released; pin the release you \
                     run (`{alias}@{pinned}`, say)"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use crate::migrate::Level;
    use crate::migrate::testing::{self, *};

    #[test]
    fn ubuntu_and_custom_cannot_be_converted() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: ubuntu}
spec:
  amiFamily: Ubuntu
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: custom}
spec:
  amiFamily: Custom
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
";
        let m = migrate(text);
        let errors = testing::errors(&m);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("Ubuntu"));
        assert!(errors[1].contains("`amiFamily: Custom` without `amiSelectorTerms`"));
        assert!(m.text.contains("amiFamily: Ubuntu"));
        assert_eq!(m.notes[1].line, 5);
    }

    #[test]
    fn ami_family_with_selector_terms_stays() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiFamily: AL2023
  amiSelectorTerms:
    - name: hardened-al2023-*
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
";
        let m = converted(text);
        assert_eq!(m.text, text.replacen("/v1beta1", "/v1", 1));
        // The hop limit default changes: a warning, no edit.
        assert!(m.notes.iter().any(|n| n.level == Level::Warning
            && n.message.contains("httpPutResponseHopLimit")
            && n.line == 4));
    }

    #[test]
    fn windows_alias_is_latest_without_a_warning() {
        let text = "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: w}\nspec:\n  amiFamily: Windows2022\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n  metadataOptions: {httpPutResponseHopLimit: 1}\n";
        let m = converted(text);
        assert!(
            m.text
                .contains("  amiSelectorTerms:\n    - alias: windows2022@latest\n")
        );
        assert!(
            m.notes.iter().all(|n| n.level == Level::Info),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn a_quoted_family_keeps_its_comment() {
        let text = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: c}\nspec:\n  amiFamily: \"AL2023\" # the family\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n";
        let m = converted(text);
        assert!(
            m.text.contains(
                "spec:\n  amiSelectorTerms:\n    - alias: al2023@latest # the family\n  role: r\n"
            ),
            "{}",
            m.text
        );
    }
}

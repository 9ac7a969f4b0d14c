//! `apiVersion`: `karpenter.sh/v1beta1` -> `karpenter.sh/v1` (NodePool) and
//! `karpenter.k8s.aws/v1beta1` -> `karpenter.k8s.aws/v1` (EC2NodeClass), in place.

use serde_json::Value as Json;

use super::Level;
use super::planner::Planner;
use crate::source::Document;

impl<'a> Planner<'a> {
    /// Rewrites the document's `apiVersion` to `to`, keeping its quotes and comment.
    pub(super) fn api_version(&mut self, di: usize, doc: &'a Document, to: &str) {
        let kind = doc.kind().unwrap_or_default();
        let name = doc.name().unwrap_or("");
        let Some((_, entry)) = self.field(&doc.root, "apiVersion") else {
            return;
        };
        if self.replace_scalar(&entry.value, to) {
            self.set(di, &["apiVersion"], Json::from(to));
            self.note(
                &entry.value,
                Level::Info,
                format!("{kind} `{name}`: `apiVersion` is now `{to}`"),
            );
        } else {
            self.note(
                &entry.value,
                Level::Error,
                format!("cannot rewrite `apiVersion`; write `{to}`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use crate::migrate::testing::*;

    #[test]
    fn the_api_version_is_rewritten_in_place_with_its_quotes_and_comment() {
        let text = "apiVersion: \"karpenter.k8s.aws/v1beta1\" # provider\nkind: EC2NodeClass\nmetadata: {name: c}\nspec:\n  amiSelectorTerms: [{alias: al2023@v20240625}]\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n  metadataOptions: {httpPutResponseHopLimit: 1}\n";
        let m = converted(text);
        assert!(
            m.text.starts_with(
                "apiVersion: \"karpenter.k8s.aws/v1\" # provider\nkind: EC2NodeClass\n"
            ),
            "{}",
            m.text
        );
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
        assert_eq!(
            m.notes[0].message,
            "EC2NodeClass `c`: `apiVersion` is now `karpenter.k8s.aws/v1`"
        );
        assert_eq!((m.notes[0].line, m.notes[0].column), (1, 13));
    }

    #[test]
    fn an_aliased_api_version_is_left_to_the_user() {
        let text = "x: &v karpenter.sh/v1beta1\napiVersion: *v\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      requirements: []\n";
        let m = migrate(text);
        assert!(
            errors(&m)
                .iter()
                .any(|e| e.contains("`apiVersion` comes from a YAML alias")),
            "{:?}",
            m.notes
        );
        assert!(m.text.contains("apiVersion: *v\n"));
    }
}

//! `nodeClassRef`: v1beta1's `apiVersion: karpenter.k8s.aws/v1beta1` becomes `group:
//! karpenter.k8s.aws` in place (the comment on the line stays), and `group` and `kind:
//! EC2NodeClass`, both required in v1, are added when missing.

use serde_json::Value as Json;

use super::Level;
use super::kinds::Pool;
use super::planner::{Anchor, Planner, scalar};

impl<'a> Planner<'a> {
    pub(super) fn node_class_ref(&mut self, pool: &Pool<'a>) {
        let &Pool {
            di,
            name,
            v1beta1,
            spec,
            template_spec,
            class_ref,
            ..
        } = pool;
        if let Some(class_ref) = class_ref.filter(|r| r.as_map().is_some()) {
            let rpath = ["spec", "template", "spec", "nodeClassRef"];
            let has_group = class_ref.get("group").is_some();
            let mut group_at = class_ref
                .entries()
                .iter()
                .position(|e| e.key_str() == Some("group"));
            if let Some((index, entry)) = self.field(class_ref, "apiVersion") {
                let value = entry.value.as_str().unwrap_or_default();
                let group = value.split_once('/').map_or(value, |(g, _)| g).trim();
                let group = if group.is_empty() {
                    "karpenter.k8s.aws"
                } else {
                    group
                };
                if has_group {
                    if self.remove(class_ref, index) {
                        self.unset(di, &[&rpath[..], &["apiVersion"]].concat());
                        self.note(
                            &entry.key,
                            Level::Info,
                            "removed `nodeClassRef.apiVersion` (`group` is set)",
                        );
                    }
                } else if self.replace_scalar(&entry.key, "group")
                    && self.replace_scalar(&entry.value, group)
                {
                    group_at = Some(index);
                    self.unset(di, &[&rpath[..], &["apiVersion"]].concat());
                    self.set(di, &[&rpath[..], &["group"]].concat(), Json::from(group));
                    self.note(
                        &entry.key,
                        Level::Info,
                        format!("`nodeClassRef.apiVersion: {value}` is now `group: {group}`"),
                    );
                    if group != "karpenter.k8s.aws" {
                        self.note(
                            &entry.value,
                            Level::Warning,
                            format!(
                                "`nodeClassRef.group` is `{group}`, not Karpenter's AWS group \
                                 `karpenter.k8s.aws`"
                            ),
                        );
                    }
                } else {
                    self.edits
                        .retain(|e| e.span.start != entry.key.span.start as usize);
                    self.note(
                        &entry.key,
                        Level::Error,
                        "cannot rewrite `nodeClassRef.apiVersion`; write `group: karpenter.k8s.aws`",
                    );
                }
            } else if !has_group
                && self.insert(
                    class_ref,
                    Anchor::End,
                    scalar("group", "karpenter.k8s.aws"),
                    class_ref.span.start,
                )
            {
                self.set(
                    di,
                    &[&rpath[..], &["group"]].concat(),
                    Json::from("karpenter.k8s.aws"),
                );
                self.note(
                    class_ref,
                    Level::Info,
                    "added `nodeClassRef.group: karpenter.k8s.aws` (required in v1)",
                );
            }
            let kind_at = group_at.map_or(Anchor::End, Anchor::After);
            if class_ref.get("kind").is_none()
                && self.insert(
                    class_ref,
                    kind_at,
                    scalar("kind", "EC2NodeClass"),
                    class_ref.span.start,
                )
            {
                self.set(
                    di,
                    &[&rpath[..], &["kind"]].concat(),
                    Json::from("EC2NodeClass"),
                );
                self.note(
                    class_ref,
                    Level::Info,
                    "added `nodeClassRef.kind: EC2NodeClass` (required in v1)",
                );
            }
        } else if v1beta1 && template_spec.and_then(|s| s.get("nodeClassRef")).is_none() {
            let at = template_spec.unwrap_or(spec);
            self.note(
                at,
                Level::Error,
                format!(
                    "NodePool `{name}` has no `spec.template.spec.nodeClassRef` mapping to convert; \
                     v1 requires `group`, `kind` and `name`"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use crate::migrate::Level;
    use crate::migrate::testing::*;

    fn pool(class_ref: &str) -> String {
        format!(
            "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {{name: p}}\nspec:\n  template:\n    spec:\n      nodeClassRef:\n{class_ref}      requirements: []\n"
        )
    }

    #[test]
    fn api_version_becomes_group_and_kind_is_added() {
        let m = converted(&pool(
            "        apiVersion: karpenter.k8s.aws/v1beta1 # AWS\n        name: c\n",
        ));
        assert!(
            m.text.contains(
                "      nodeClassRef:\n        group: karpenter.k8s.aws # AWS\n        kind: EC2NodeClass\n        name: c\n"
            ),
            "{}",
            m.text
        );
    }

    #[test]
    fn an_api_version_beside_a_group_is_removed() {
        let m = converted(&pool(
            "        group: karpenter.k8s.aws\n        apiVersion: karpenter.k8s.aws/v1beta1\n        kind: EC2NodeClass\n        name: c\n",
        ));
        assert!(
            m.text.contains(
                "      nodeClassRef:\n        group: karpenter.k8s.aws\n        kind: EC2NodeClass\n        name: c\n"
            ),
            "{}",
            m.text
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.message.contains("removed `nodeClassRef.apiVersion`"))
        );
    }

    #[test]
    fn another_group_is_kept_with_a_warning() {
        let m = migrate(&pool(
            "        apiVersion: example.com/v1\n        kind: EC2NodeClass\n        name: c\n",
        ));
        assert!(
            m.text.contains("        group: example.com\n"),
            "{}",
            m.text
        );
        let warnings: Vec<&str> = m
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.message.as_str())
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("not Karpenter's AWS group"));
    }

    #[test]
    fn missing_node_class_ref_and_template_are_explained() {
        let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: bare}\nspec:\n  disruption:\n    expireAfter: 720h\n";
        let m = migrate(text);
        let errors = errors(&m);
        assert!(
            errors.iter().any(|e| e.contains("no `spec.template.spec`")),
            "{errors:?}"
        );
    }
}

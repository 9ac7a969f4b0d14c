//! Karpenter's old pod and node annotations (`karpenter.sh/do-not-evict`,
//! `karpenter.sh/do-not-consolidate`) become `karpenter.sh/do-not-disrupt`, in NodePool
//! templates and pod templates: renamed in place, or removed where the new one is already set.

use super::Level;
use super::planner::Planner;
use crate::node::Entry;
use crate::rules::api::{DO_NOT_DISRUPT, OLD_ANNOTATIONS};
use crate::source::Document;

impl<'a> Planner<'a> {
    /// Old Karpenter annotations in the `annotations` of the metadata at `path`.
    pub(super) fn annotations(&mut self, di: usize, doc: &'a Document, path: &[&str], whose: &str) {
        let Some(metadata) = doc.root.path(path) else {
            return;
        };
        let Some(annotations) = metadata.get("annotations").filter(|a| a.as_map().is_some()) else {
            return;
        };
        let old: Vec<(usize, &'a Entry)> = annotations
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key_str().is_some_and(|k| OLD_ANNOTATIONS.contains(&k)))
            .collect();
        if old.is_empty() {
            return;
        }
        let apath: Vec<&str> = path.iter().copied().chain(["annotations"]).collect();
        let mut has_new = annotations.get(DO_NOT_DISRUPT).is_some();
        for (index, entry) in old {
            let key = entry.key_str().unwrap_or_default();
            if !self.local(annotations, entry) {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!("rename the annotation `{key}` to `{DO_NOT_DISRUPT}` by hand"),
                );
                continue;
            }
            let old_path: Vec<&str> = apath.iter().copied().chain([key]).collect();
            if has_new {
                if !self.remove(annotations, index) {
                    continue;
                }
                self.unset(di, &old_path);
                self.note(
                    &entry.key,
                    Level::Info,
                    format!(
                        "removed the {whose} annotation `{key}` (`{DO_NOT_DISRUPT}` is set; \
                         Karpenter v1 ignores `{key}`)"
                    ),
                );
            } else if self.replace_scalar(&entry.key, DO_NOT_DISRUPT) {
                has_new = true;
                let new_path: Vec<&str> = apath.iter().copied().chain([DO_NOT_DISRUPT]).collect();
                self.unset(di, &old_path);
                self.set(di, &new_path, entry.value.to_json());
                self.note(
                    &entry.key,
                    Level::Info,
                    format!("the {whose} annotation `{key}` is now `{DO_NOT_DISRUPT}`"),
                );
            } else {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!("rename the annotation `{key}` to `{DO_NOT_DISRUPT}` by hand"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use crate::migrate::testing::*;

    #[test]
    fn a_node_pool_template_annotation_is_renamed() {
        let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    metadata:\n      annotations:\n        karpenter.sh/do-not-evict: \"true\" # batch\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      requirements: []\n";
        let m = converted(text);
        assert_eq!(
            m.text,
            text.replace("karpenter.sh/do-not-evict", "karpenter.sh/do-not-disrupt")
        );
        assert!(
            m.notes[0].message.contains("NodePool template annotation"),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn an_old_annotation_beside_the_new_one_is_removed() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: job\n  annotations:\n    karpenter.sh/do-not-consolidate: \"true\"\n    karpenter.sh/do-not-disrupt: \"true\"\nspec:\n  containers: [{name: job, image: job}]\n";
        let m = converted(text);
        assert_eq!(
            m.text,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: job\n  annotations:\n    karpenter.sh/do-not-disrupt: \"true\"\nspec:\n  containers: [{name: job, image: job}]\n"
        );
    }
}

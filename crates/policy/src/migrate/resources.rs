//! `spec.template.spec.resources`: gone in v1 (v1beta1 accepted it only empty), so removed.

use super::Level;
use super::kinds::Pool;
use super::planner::Planner;

impl<'a> Planner<'a> {
    pub(super) fn template_resources(&mut self, pool: &Pool<'a>) {
        let &Pool { di, tspec, .. } = pool;
        let tpath = ["spec", "template", "spec"];
        if let Some(ts) = tspec
            && let Some((index, entry)) = self.field(ts, "resources")
            && self.remove(ts, index)
        {
            self.unset(di, &[&tpath[..], &["resources"]].concat());
            self.note(
                &entry.key,
                Level::Info,
                "removed `spec.template.spec.resources` (gone in v1; v1beta1 accepted it only empty)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::migrate::testing::*;

    #[test]
    fn empty_resources_are_removed() {
        let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      resources: {}\n      requirements: []\n";
        let m = converted(text);
        assert!(!m.text.contains("resources"), "{}", m.text);
        assert!(m.text.contains("      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      requirements: []\n"));
        assert!(m.notes.iter().any(|n| {
            n.message
                .starts_with("removed `spec.template.spec.resources`")
        }));
    }
}

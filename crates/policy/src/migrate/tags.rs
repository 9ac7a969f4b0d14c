//! Tags Karpenter v1 restricts: `eks:eks-cluster-name` is removed (v1 sets it to the cluster
//! name itself); `karpenter.sh/managed-by`, which v1 no longer sets, is kept with a warning for
//! the IAM conditions and cost reports that match it.

use super::Level;
use super::kinds::NodeClass;
use super::planner::Planner;

impl<'a> Planner<'a> {
    pub(super) fn restricted_tags(&mut self, class: &NodeClass<'a>) {
        let &NodeClass {
            di, spec, v1beta1, ..
        } = class;
        if v1beta1 && let Some(tags) = self.reach(spec, &["tags"]).filter(|t| t.as_map().is_some())
        {
            for (index, entry) in tags.entries().iter().enumerate() {
                match entry.key_str() {
                    Some("karpenter.sh/managed-by") => self.note(
                        &entry.key,
                        Level::Warning,
                        "Karpenter v1 no longer sets the `karpenter.sh/managed-by` tag (it tags \
                         `eks:eks-cluster-name`); this tag is kept: update IAM conditions and cost \
                         reports that match it",
                    ),
                    Some("eks:eks-cluster-name") => {
                        if self.local(tags, entry) && self.remove(tags, index) {
                            self.unset(di, &["spec", "tags", "eks:eks-cluster-name"]);
                            self.note(
                                &entry.key,
                                Level::Warning,
                                "removed the tag `eks:eks-cluster-name`: v1 restricts it and sets \
                                 it to the cluster name itself",
                            );
                        } else {
                            self.note(
                                &entry.key,
                                Level::Error,
                                "remove the tag `eks:eks-cluster-name` (restricted in v1)",
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::migrate::Level;
    use crate::migrate::testing::*;

    #[test]
    fn restricted_tags_change() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiSelectorTerms: [{id: ami-0123456789abcdef0}]
  amiFamily: AL2023
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
  tags:
    team: platform
    eks:eks-cluster-name: prod # set by Karpenter v1
    karpenter.sh/managed-by: prod
";
        let m = migrate(text);
        assert!(m.is_complete());
        assert!(!m.text.contains("eks:eks-cluster-name"), "{}", m.text);
        assert!(
            m.text
                .contains("    team: platform\n    karpenter.sh/managed-by: prod\n")
        );
        let warnings: Vec<usize> = m
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.line)
            .collect();
        assert_eq!(warnings, vec![13, 14]);
    }
}

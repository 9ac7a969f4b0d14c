//! The kubelet move: v1 keeps kubelet settings on the EC2NodeClass (`spec.kubelet`), not on the
//! NodePool (`spec.template.spec.kubelet`). Each NodePool's block is collected while its
//! document is planned, and moved once every document is read: into the EC2NodeClass its
//! `nodeClassRef` names, when that is in the input, and only if every NodePool of the input
//! that uses the class agrees on the settings (they apply to all of them).

use std::collections::BTreeMap;

use super::Level;
use super::kinds::Pool;
use super::planner::{Anchor, NewEntry, Planner};
use crate::node::{Entry, Node};
use crate::source::Document;

/// A NodePool's `kubelet`, waiting for its EC2NodeClass.
pub(super) struct PoolKubelet<'a> {
    pub(super) di: usize,
    pub(super) doc: &'a Document,
    pub(super) template_spec: &'a Node,
    pub(super) index: usize,
    pub(super) entry: &'a Entry,
}

impl<'a> Planner<'a> {
    /// Keeps the NodePool's `kubelet` entry for [`Planner::kubelets`].
    pub(super) fn collect_kubelet(&mut self, pool: &Pool<'a>) {
        let &Pool { di, doc, tspec, .. } = pool;
        if let Some(ts) = tspec
            && let Some((index, entry)) = self.field(ts, "kubelet")
        {
            self.kubelets.push(PoolKubelet {
                di,
                doc,
                template_spec: ts,
                index,
                entry,
            });
        }
    }

    /// Moves each NodePool's `kubelet` to the EC2NodeClass it references, when that is in the
    /// input and every NodePool that references it agrees on the settings.
    pub(super) fn kubelets(&mut self) {
        let pending = std::mem::take(&mut self.kubelets);
        let mut by_class: BTreeMap<String, Vec<PoolKubelet<'a>>> = BTreeMap::new();
        for pk in pending {
            let class_ref = pk.template_spec.get("nodeClassRef");
            let kind = class_ref.and_then(|r| r.get("kind")).and_then(Node::as_str);
            let name = class_ref.and_then(|r| r.get("name")).and_then(Node::as_str);
            match (kind, name) {
                (Some(kind), _) if kind != "EC2NodeClass" => self.note(
                    &pk.entry.key,
                    Level::Error,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: the NodePool references a \
                         `{kind}`, which has no kubelet settings"
                    ),
                ),
                (_, Some(name)) => by_class.entry(name.to_string()).or_default().push(pk),
                (_, None) => self.note(
                    &pk.entry.key,
                    Level::Error,
                    "`spec.template.spec.kubelet` cannot move: `nodeClassRef` names no \
                     EC2NodeClass; move it to that EC2NodeClass's `spec.kubelet` by hand",
                ),
            }
        }
        for (class, pools) in by_class {
            self.move_kubelets(&class, &pools);
        }
    }

    pub(super) fn move_kubelets(&mut self, class: &str, pools: &[PoolKubelet<'a>]) {
        let fail = |this: &mut Self, message: String| {
            for pk in pools {
                this.note(&pk.entry.key, Level::Error, message.clone());
            }
        };
        let classes: Vec<(usize, &'a Document)> = self
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.kind() == Some("EC2NodeClass")
                    && d.group() == "karpenter.k8s.aws"
                    && d.name() == Some(class)
            })
            .collect();
        let (cdi, cdoc) = match classes.as_slice() {
            [] => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` must move to `spec.kubelet` of EC2NodeClass \
                         `{class}`, which is not in this input: move it there by hand (v1 drops it \
                         from the NodePool), or migrate the NodePool and its EC2NodeClass together \
                         in one file"
                    ),
                );
            }
            [one] => *one,
            _ => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` is in \
                         this input more than once"
                    ),
                );
            }
        };
        let value = pools
            .first()
            .map(|pk| pk.entry.value.to_json())
            .unwrap_or_default();
        // Every NodePool of the input that uses this class gets its kubelet settings.
        let users: Vec<&Document> = self
            .docs
            .iter()
            .filter(|d| {
                d.kind() == Some("NodePool")
                    && d.group() == "karpenter.sh"
                    && d.root
                        .path(&["spec", "template", "spec", "nodeClassRef", "name"])
                        .and_then(Node::as_str)
                        == Some(class)
            })
            .collect();
        let disagree: Vec<&str> = users
            .iter()
            .filter(|d| {
                d.root
                    .path(&["spec", "template", "spec", "kubelet"])
                    .map(Node::to_json)
                    != Some(value.clone())
            })
            .map(|d| d.name().unwrap_or("?"))
            .collect();
        if !disagree.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|d| format!("`{}`", d.name().unwrap_or("?")))
                .collect();
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: NodePools {} share EC2NodeClass \
                     `{class}` but not their kubelet settings, and v1 keeps them on the \
                     EC2NodeClass: give each group of NodePools its own EC2NodeClass with its \
                     `spec.kubelet`",
                    names.join(", ")
                ),
            );
        }
        if !self.editable(cdi) {
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` is not \
                     edited (see its note); move it to its `spec.kubelet` by hand"
                ),
            );
        }
        let Some(cspec) = cdoc
            .root
            .get("spec")
            .filter(|s| s.as_map().is_some())
            .filter(|_| {
                cdoc.root
                    .entry("spec")
                    .is_some_and(|e| self.local(&cdoc.root, e))
            })
        else {
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` has no \
                     `spec` mapping to move it into"
                ),
            );
        };
        let moved = match cspec.get("kubelet") {
            Some(existing) if existing.to_json() == value => false,
            Some(_) => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` has \
                         other `spec.kubelet` settings; merge them by hand"
                    ),
                );
            }
            None => true,
        };
        let Some(first) = pools.first() else {
            return;
        };
        // The class and every pool must take the change, or none does.
        let mut all_local = self.all_local(cspec);
        for pk in pools {
            all_local &= self.all_local(pk.template_spec);
        }
        if !all_local {
            return;
        }
        if moved {
            if self.is_flow(cspec)
                && self
                    .capture(first.template_spec, first.entry)
                    .inline
                    .is_none()
            {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` writes \
                         `spec` in flow style (`{{...}}`) and the kubelet block is in block style; \
                         move it by hand"
                    ),
                );
            }
            let captured = self.capture(first.template_spec, first.entry);
            let _ = self.insert(
                cspec,
                Anchor::End,
                NewEntry::Captured(captured),
                first.entry.key.span.start,
            );
            self.set(cdi, &["spec", "kubelet"], value);
            let names: Vec<String> = pools
                .iter()
                .map(|pk| format!("`{}`", pk.doc.name().unwrap_or("?")))
                .collect();
            if let Some(at) = cdoc.root.entry("spec") {
                self.note(
                    &at.key,
                    Level::Warning,
                    format!(
                        "EC2NodeClass `{class}` now carries the kubelet settings of NodePool {}: \
                         they apply to every NodePool that uses it, in other files too",
                        names.join(", ")
                    ),
                );
            }
        }
        for pk in pools {
            let _ = self.remove(pk.template_spec, pk.index);
            self.unset(pk.di, &["spec", "template", "spec", "kubelet"]);
            let message = if moved {
                format!(
                    "moved `spec.template.spec.kubelet` to EC2NodeClass `{class}` (`spec.kubelet`)"
                )
            } else {
                format!(
                    "removed `spec.template.spec.kubelet`: EC2NodeClass `{class}` has the same \
                     `spec.kubelet`"
                )
            };
            self.note(&pk.entry.key, Level::Info, message);
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use serde_json::Value as Json;

    use crate::migrate::testing::{self, *};
    use crate::migrate::{Level, Note};

    #[test]
    fn kubelet_moves_to_the_node_class_in_the_input() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiFamily: AL2023
  role: KarpenterNodeRole-platform
  subnetSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  securityGroupSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  metadataOptions:
    httpPutResponseHopLimit: 1
---
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        name: default
      # dense nodes
      kubelet:
        maxPods: 110 # prefix delegation
        evictionHard:
          memory.available: 5%
      requirements: []
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms:
  - alias: al2023@latest
  role: KarpenterNodeRole-platform
  subnetSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  securityGroupSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  metadataOptions:
    httpPutResponseHopLimit: 1
  # dense nodes
  kubelet:
    maxPods: 110 # prefix delegation
    evictionHard:
      memory.available: 5%
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        name: default
        group: karpenter.k8s.aws
        kind: EC2NodeClass
      requirements: []
"
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.level == Level::Warning && n.message.contains("every NodePool"))
        );
    }

    #[test]
    fn json_kubelet_moves_with_its_lines() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {
    "apiVersion": "karpenter.sh/v1beta1",
    "kind": "NodePool",
    "metadata": {"name": "p"},
    "spec": {
      "template": {
        "spec": {
          "nodeClassRef": {"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass", "name": "c"},
          "kubelet": {
            "maxPods": 20
          },
          "requirements": []
        }
      }
    }
  },
  {
    "apiVersion": "karpenter.k8s.aws/v1beta1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "c"},
    "spec": {
      "amiFamily": "AL2",
      "role": "r",
      "subnetSelectorTerms": [{"tags": {"a": "b"}}],
      "securityGroupSelectorTerms": [{"tags": {"a": "b"}}],
      "metadataOptions": {"httpPutResponseHopLimit": 1}
    }
  }
]}
"#;
        let m = converted(text);
        let json: Json = serde_json::from_str(&m.text).unwrap();
        assert_eq!(json["items"][1]["spec"]["kubelet"]["maxPods"], 20);
        assert_eq!(
            json["items"][1]["spec"]["amiSelectorTerms"][0]["alias"],
            "al2@latest"
        );
        assert!(
            json["items"][0]["spec"]["template"]["spec"]
                .get("kubelet")
                .is_none()
        );
        assert!(
            m.text.contains(
                "      \"metadataOptions\": {\"httpPutResponseHopLimit\": 1},\n      \"kubelet\": {\n        \"maxPods\": 20\n      }\n"
            ),
            "{}",
            m.text
        );
    }

    #[test]
    fn kubelet_without_its_node_class_is_explained() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1
        kind: EC2NodeClass
        name: elsewhere
      kubelet:
        maxPods: 110
      requirements: []
";
        let m = migrate(text);
        assert!(m.changed);
        assert!(!m.is_complete());
        let errors: Vec<&Note> = m.notes.iter().filter(|n| n.level == Level::Error).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (12, 7));
        assert!(
            errors[0].message.contains("EC2NodeClass `elsewhere`")
                && errors[0].message.contains("not in this input"),
            "{}",
            errors[0].message
        );
        // The rest is converted; the kubelet block stays where it was, for the user to move.
        assert!(m.text.contains("apiVersion: karpenter.sh/v1\n"));
        assert!(m.text.contains("      kubelet:\n        maxPods: 110\n"));
    }

    #[test]
    fn pools_that_share_a_class_must_agree_on_kubelet() {
        let class = "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: shared}\nspec:\n  amiFamily: AL2023\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n";
        let pool = |name: &str, kubelet: &str| {
            format!(
                "---\napiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      nodeClassRef: {{name: shared}}\n{kubelet}      requirements: []\n"
            )
        };
        // Different settings: not moved.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "      kubelet: {maxPods: 20}\n")
        );
        let m = migrate(&text);
        let errors = errors(&m);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("NodePools `a`, `b` share EC2NodeClass `shared`"));
        assert!(
            m.text.contains("kubelet: {maxPods: 10}") && m.text.contains("kubelet: {maxPods: 20}")
        );
        // A pool without kubelet would get the other's settings: not moved either.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "")
        );
        assert_eq!(testing::errors(&migrate(&text)).len(), 1);
        // The same settings: moved once, removed from both.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "      kubelet: {maxPods: 10}\n")
        );
        let m = converted(&text);
        assert_eq!(m.text.matches("kubelet").count(), 1, "{}", m.text);
        assert!(
            m.text.contains("  kubelet: {maxPods: 10}\n---"),
            "{}",
            m.text
        );
    }

    #[test]
    fn kubelet_already_on_the_class() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiSelectorTerms: [{alias: al2023@v20240625}]
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  kubelet:
    maxPods: 10
---
# half migrated: the apiVersion is v1 but kubelet is still here
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: p}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}
      kubelet:
        maxPods: 10
      requirements: []
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 1m
";
        let m = converted(text);
        assert!(!m.text.contains("      kubelet:"), "{}", m.text);
        assert_eq!(m.text.matches("maxPods").count(), 1);
        // Different settings on the class: left for the user.
        let m = migrate(&text.replacen("maxPods: 10", "maxPods: 99", 1));
        assert!(errors(&m)[0].contains("other `spec.kubelet` settings"));
    }

    #[test]
    fn block_kubelet_cannot_go_into_a_flow_class() {
        // `maxPods: 20` is one line, but a block mapping all the same.
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: p}
spec:
  template:
    spec:
      nodeClassRef: {name: c}
      kubelet:
        maxPods: 20
      requirements: []
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec: {amiFamily: AL2, role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}]}
";
        let m = migrate(text);
        assert!(m.changed);
        let errors = errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("flow style"), "{errors:?}");
        assert!(m.text.contains("      kubelet:\n        maxPods: 20\n"));
        assert!(
            m.text
                .contains("spec: {amiSelectorTerms: [{alias: al2@latest}], role: r,")
        );
    }
}

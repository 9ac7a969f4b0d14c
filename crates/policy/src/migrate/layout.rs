//! Rendering a mapping's planned changes into text edits, in the mapping's own layout: a block
//! mapping gains and loses whole lines at its indentation (with the comments that belong to an
//! entry); a flow mapping (`{a: 1}`, JSON) gains and loses entries with their separators, and
//! new keys are JSON-quoted where its keys are.

use std::collections::BTreeMap;

use super::Level;
use super::edit::Edit;
use super::planner::{Anchor, MapPlan, NewEntry, Planner};

impl<'a> Planner<'a> {
    /// A block mapping: entries are whole lines.
    pub(super) fn render_block(&mut self, plan: &MapPlan<'a>) {
        let entries = plan.map.entries();
        let Some(first) = entries.first() else {
            return;
        };
        let col = self.column(first.key.span.start as usize);
        for &index in &plan.removes {
            let Some(entry) = entries.get(index) else {
                continue;
            };
            let key_at = entry.key.span.start as usize;
            let end = self.after_entry(entry);
            let start = if self.first_on_line(key_at) {
                let comments = self.leading_comments(key_at, col).len();
                let mut start = self.line_start(key_at);
                for _ in 0..comments {
                    start = self.line_start(start.saturating_sub(1));
                }
                start
            } else if let Some(next) = entries.get(index + 1) {
                // `- key: value` opens a list item: the next key takes its place.
                self.edits
                    .push(Edit::delete(key_at..next.key.span.start as usize));
                continue;
            } else {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!(
                        "cannot remove `{}` here; delete it by hand",
                        entry.key_str().unwrap_or("?")
                    ),
                );
                continue;
            };
            self.edits.push(Edit::delete(start..end));
        }
        // Inserts at the same place keep the order they were planned in.
        let mut groups: BTreeMap<usize, String> = BTreeMap::new();
        for (anchor, entry, _) in &plan.inserts {
            let after = match anchor {
                Anchor::After(i) => entries.get(*i),
                Anchor::End => entries.last(),
            };
            let Some(after) = after else {
                continue;
            };
            let lines = match entry {
                NewEntry::Scalar { key, value } => vec![format!("{key}: {value}")],
                NewEntry::Captured(c) => c.block.clone(),
            };
            let text = groups.entry(self.after_entry(after)).or_default();
            for line in lines {
                if !line.is_empty() {
                    text.push_str(&" ".repeat(col));
                    text.push_str(&line);
                }
                text.push_str(self.eol);
            }
        }
        for (at, mut text) in groups {
            // At the end of a file without a final line break, the break goes first.
            if at == self.text.len() && !self.text.ends_with('\n') {
                text.truncate(text.len() - self.eol.len());
                text.insert_str(0, self.eol);
            }
            self.edits.push(Edit::insert(at, text));
        }
    }

    /// A flow mapping (`{a: 1, b: 2}`, JSON): entries are separated by commas.
    pub(super) fn render_flow(&mut self, plan: &MapPlan<'a>) {
        let entries = plan.map.entries();
        let n = entries.len();
        let json = self.json_style(plan.map);
        let value_end = |this: &Self, i: usize| entries.get(i).map(|e| this.entry_end(e));
        let key_start = |i: usize| entries.get(i).map(|e| e.key.span.start as usize);
        let sep = match (value_end(self, 0), key_start(1)) {
            (Some(a), Some(b)) => self
                .text
                .get(a..b)
                .filter(|s| !s.contains('#') && s.contains(','))
                .map_or_else(|| ", ".to_string(), str::to_string),
            _ => ", ".to_string(),
        };
        let key_col = entries
            .first()
            .map(|e| e.key.span.start as usize)
            .filter(|at| self.first_on_line(*at))
            .map_or(0, |at| self.column(at));
        let kept = |i: usize| !plan.removes.contains(&i);

        // Removals: runs of removed entries, with the separator on the right side.
        let mut i = 0;
        while i < n {
            if kept(i) {
                i += 1;
                continue;
            }
            let p = i;
            while i < n && !kept(i) {
                i += 1;
            }
            let q = i - 1;
            let range = if i < n {
                key_start(p).zip(key_start(i))
            } else if p > 0 {
                value_end(self, p - 1).zip(value_end(self, q))
            } else {
                key_start(0).zip(value_end(self, q))
            };
            if let Some((start, end)) = range {
                self.edits.push(Edit::delete(start..end));
            }
        }

        // Inserts: after the anchor, or the last kept entry before it.
        let mut groups: BTreeMap<(usize, u8), Vec<String>> = BTreeMap::new();
        for (anchor, entry, note_at) in &plan.inserts {
            let text = match entry {
                NewEntry::Scalar { key, value } if json => format!("\"{key}\": \"{value}\""),
                NewEntry::Scalar { key, value } => format!("{key}: {value}"),
                NewEntry::Captured(c) => match &c.inline {
                    Some(lines) => {
                        let pad = format!("{}{}", self.eol, " ".repeat(key_col));
                        lines.join(&pad)
                    }
                    None => {
                        self.notes.push((
                            *note_at,
                            Level::Error,
                            "cannot write a block-style value into a flow-style mapping; move it \
                             by hand"
                                .to_string(),
                        ));
                        continue;
                    }
                },
            };
            let wanted = match anchor {
                Anchor::After(i) => Some(*i),
                Anchor::End => n.checked_sub(1),
            };
            let before = wanted.and_then(|w| (0..=w).rev().find(|&j| kept(j)));
            // (offset, 0: separator before the text, 1: after, 2: none)
            let place = match before {
                Some(j) => value_end(self, j).map(|at| (at, 0)),
                None => match (0..n).find(|&j| kept(j)) {
                    Some(k) => key_start(k).map(|at| (at, 1)),
                    None if n > 0 => key_start(0).map(|at| (at, 2)),
                    None => Some((
                        plan.map.span.start as usize
                            + self.slice(plan.map).find('{').map_or(0, |i| i + 1),
                        2,
                    )),
                },
            };
            if let Some(place) = place {
                groups.entry(place).or_default().push(text);
            }
        }
        for ((at, side), texts) in groups {
            let joined = texts.join(&sep);
            let text = match side {
                0 => format!("{sep}{joined}"),
                1 => format!("{joined}{sep}"),
                _ => joined,
            };
            self.edits.push(Edit::insert(at, text));
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use serde_json::Value as Json;

    use crate::migrate::Note;
    use crate::migrate::testing::*;

    #[test]
    fn block_style_keeps_comments_and_layout() {
        let m = converted(POOL_BLOCK);
        assert_eq!(
            m.text,
            "\
# Platform pools
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default # the default pool
spec:
  template:
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws # the AWS provider
        kind: EC2NodeClass
        name: default
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [\"on-demand\"]
      # nodes live a month
      expireAfter: 720h
  limits:
    cpu: 1000
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized # be frugal
    consolidateAfter: 0s
"
        );
        assert_eq!(m.objects, 1);
        let warnings: Vec<&Note> = m
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("consolidateAfter: 0s"));
        assert_eq!((warnings[0].line, warnings[0].column), (19, 3));
    }

    #[test]
    fn flow_style_is_edited_in_place() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: flow}
spec:
  template:
    spec:
      nodeClassRef: {name: flow}
      kubelet: {maxPods: 50}
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
  disruption: {consolidationPolicy: WhenUnderutilized, expireAfter: 168h}
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: flow}
spec: {amiFamily: Bottlerocket, role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}], metadataOptions: {httpPutResponseHopLimit: 1}}
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: flow}
spec:
  template:
    spec:
      nodeClassRef: {name: flow, group: karpenter.k8s.aws, kind: EC2NodeClass}
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
      expireAfter: 168h
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 0s}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: flow}
spec: {amiSelectorTerms: [{alias: bottlerocket@latest}], role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}], metadataOptions: {httpPutResponseHopLimit: 1}, kubelet: {maxPods: 50}}
"
        );
        assert_eq!(m.objects, 2);
    }

    #[test]
    fn flow_mapping_that_loses_its_only_entry() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: a}
spec:
  template: {spec: {nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: x}, requirements: []}}
  disruption: {expireAfter: Never}
";
        let m = converted(text);
        assert!(m.text.contains(
            "  template: {spec: {nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}, requirements: [], expireAfter: Never}}\n  disruption: {consolidateAfter: 0s}\n"
        ), "{}", m.text);
    }

    #[test]
    fn json_keeps_its_layout_and_quotes() {
        let text = r#"{
  "apiVersion": "karpenter.sh/v1beta1",
  "kind": "NodePool",
  "metadata": {
    "name": "json"
  },
  "spec": {
    "template": {
      "spec": {
        "nodeClassRef": {
          "apiVersion": "karpenter.k8s.aws/v1beta1",
          "name": "json"
        },
        "requirements": []
      }
    },
    "disruption": {
      "consolidationPolicy": "WhenUnderutilized",
      "expireAfter": "720h"
    }
  }
}
"#;
        let m = converted(text);
        assert_eq!(
            m.text,
            r#"{
  "apiVersion": "karpenter.sh/v1",
  "kind": "NodePool",
  "metadata": {
    "name": "json"
  },
  "spec": {
    "template": {
      "spec": {
        "nodeClassRef": {
          "group": "karpenter.k8s.aws",
          "kind": "EC2NodeClass",
          "name": "json"
        },
        "requirements": [],
        "expireAfter": "720h"
      }
    },
    "disruption": {
      "consolidationPolicy": "WhenEmptyOrUnderutilized",
      "consolidateAfter": "0s"
    }
  }
}
"#
        );
        assert!(serde_json::from_str::<Json>(&m.text).is_ok());
    }
}

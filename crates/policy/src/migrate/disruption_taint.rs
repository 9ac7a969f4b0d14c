//! The disruption taint: Karpenter v1 taints nodes it disrupts with `karpenter.sh/disrupted`
//! (no value) instead of `karpenter.sh/disruption=disrupting`, so a pod template's toleration of
//! the old taint becomes `{key: karpenter.sh/disrupted, operator: Exists}`, in place.

use serde_json::Value as Json;

use super::Level;
use super::edit::Edit;
use super::planner::Planner;
use crate::rules::api::{DISRUPTED_TAINT, OLD_DISRUPTION_TAINT, pod_spec_path};
use crate::source::Document;

impl<'a> Planner<'a> {
    /// Tolerations of the old disruption taint in the pod template of a `kind`.
    pub(super) fn disruption_taint(&mut self, di: usize, doc: &'a Document, kind: &str) {
        let spec_path = pod_spec_path(kind);
        let Some(tolerations) = doc.root.path(spec_path).and_then(|s| s.get("tolerations")) else {
            return;
        };
        for (i, toleration) in tolerations.items().iter().enumerate() {
            let Some(key) = toleration.get("key") else {
                continue;
            };
            if key.as_str() != Some(OLD_DISRUPTION_TAINT) {
                continue;
            }
            let index = i.to_string();
            let tpath: Vec<&str> = spec_path
                .iter()
                .copied()
                .chain(["tolerations", index.as_str()])
                .collect();
            let path = |field: &'static str| -> Vec<&str> {
                tpath.iter().copied().chain([field]).collect()
            };
            let local = toleration
                .entries()
                .iter()
                .all(|e| self.local(toleration, e));
            if !local || !self.replace_scalar(key, DISRUPTED_TAINT) {
                self.note(
                    key,
                    Level::Error,
                    format!(
                        "tolerate `{DISRUPTED_TAINT}` instead of `{OLD_DISRUPTION_TAINT}` by hand"
                    ),
                );
                continue;
            }
            self.set(di, &path("key"), Json::from(DISRUPTED_TAINT));
            let operator = toleration.entry("operator");
            let value = toleration
                .entries()
                .iter()
                .enumerate()
                .find(|(_, e)| e.key_str() == Some("value"));
            let mut ok = true;
            if let Some((vi, ventry)) = value
                && !ventry.value.scalar_text().unwrap_or_default().is_empty()
            {
                match operator.map(|o| o.value.as_str()) {
                    None => {
                        // `value: disrupting` -> `operator: Exists`, in place.
                        let start = ventry.key.span.start as usize;
                        let end = self.content_end(&ventry.value);
                        let text = if self.json_style(toleration) {
                            "\"operator\": \"Exists\"".to_string()
                        } else {
                            "operator: Exists".to_string()
                        };
                        if self.slice(&ventry.value).contains('\n') {
                            ok = false;
                        } else {
                            self.edits.push(Edit::replace(start..end, text));
                        }
                    }
                    Some(Some("Equal")) => {
                        if let Some(op) = operator
                            && self.replace_scalar(&op.value, "Exists")
                        {
                            ok = self.remove(toleration, vi);
                        } else {
                            ok = false;
                        }
                    }
                    _ => ok = false,
                }
                if ok {
                    self.unset(di, &path("value"));
                    self.set(di, &path("operator"), Json::from("Exists"));
                }
            }
            if ok {
                self.note(
                    key,
                    Level::Info,
                    format!(
                        "the toleration of `{OLD_DISRUPTION_TAINT}` now tolerates Karpenter v1's \
                         `{DISRUPTED_TAINT}` taint"
                    ),
                );
            } else {
                self.note(
                    key,
                    Level::Error,
                    format!(
                        "make this toleration `{{key: {DISRUPTED_TAINT}, operator: Exists, effect: \
                         NoSchedule}}` by hand"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::migrate::testing::*;

    #[test]
    fn workloads_get_the_new_annotation_and_taint() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    karpenter.sh/do-not-evict: \"true\" # not a pod annotation: stays
spec:
  template:
    metadata:
      annotations:
        karpenter.sh/do-not-evict: \"true\" # keep the batch running
    spec:
      tolerations:
        - key: karpenter.sh/disruption
          value: disrupting
          effect: NoSchedule
        - {key: karpenter.sh/disruption, operator: Equal, value: disrupting, effect: NoSchedule}
        - key: karpenter.sh/disruption
          operator: Exists
      containers: [{name: api, image: api}]
---
apiVersion: v1
kind: Pod
metadata:
  name: job
  annotations:
    karpenter.sh/do-not-disrupt: \"true\"
    karpenter.sh/do-not-consolidate: \"true\"
spec:
  containers: [{name: job, image: job}]
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    karpenter.sh/do-not-evict: \"true\" # not a pod annotation: stays
spec:
  template:
    metadata:
      annotations:
        karpenter.sh/do-not-disrupt: \"true\" # keep the batch running
    spec:
      tolerations:
        - key: karpenter.sh/disrupted
          operator: Exists
          effect: NoSchedule
        - {key: karpenter.sh/disrupted, operator: Exists, effect: NoSchedule}
        - key: karpenter.sh/disrupted
          operator: Exists
      containers: [{name: api, image: api}]
---
apiVersion: v1
kind: Pod
metadata:
  name: job
  annotations:
    karpenter.sh/do-not-disrupt: \"true\"
spec:
  containers: [{name: job, image: job}]
"
        );
    }

    #[test]
    fn first_entry_of_a_list_item_can_be_removed() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          tolerations:\n          - value: disrupting\n            operator: Equal\n            key: karpenter.sh/disruption\n";
        let m = converted(text);
        assert!(
            m.text.ends_with(
                "          - operator: Exists\n            key: karpenter.sh/disrupted\n"
            ),
            "{}",
            m.text
        );
    }
}

//! NodePool disruption and expiry: `consolidationPolicy: WhenUnderutilized` becomes
//! `WhenEmptyOrUnderutilized`; `consolidateAfter`, required in v1, is added as `0s` (the
//! v1beta1 behaviour) with a warning; `spec.disruption.expireAfter` moves to
//! `spec.template.spec.expireAfter` with its comments (or is dropped when that has the same
//! value; a different one is left to the user).

use serde_json::Value as Json;

use super::Level;
use super::kinds::Pool;
use super::planner::{Anchor, NewEntry, Planner, scalar};
use crate::node::{Entry, Node};

impl<'a> Planner<'a> {
    pub(super) fn disruption(&mut self, pool: &Pool<'a>) {
        let &Pool {
            di,
            spec,
            tspec,
            disruption,
            ..
        } = pool;
        let disruption_entry = spec.entry("disruption");
        if let Some(d) = disruption.filter(|d| d.as_map().is_some()) {
            let dpath = ["spec", "disruption"];
            let mut policy_at = None;
            if let Some((index, entry)) = self.field(d, "consolidationPolicy") {
                policy_at = Some(index);
                if entry.value.as_str() == Some("WhenUnderutilized") {
                    if self.replace_scalar(&entry.value, "WhenEmptyOrUnderutilized") {
                        self.set(
                            di,
                            &[&dpath[..], &["consolidationPolicy"]].concat(),
                            Json::from("WhenEmptyOrUnderutilized"),
                        );
                        self.note(
                            &entry.value,
                            Level::Info,
                            "`consolidationPolicy: WhenUnderutilized` is now `WhenEmptyOrUnderutilized`",
                        );
                    } else {
                        self.note(
                            &entry.value,
                            Level::Error,
                            "cannot rewrite `WhenUnderutilized`; write `WhenEmptyOrUnderutilized`",
                        );
                    }
                }
            }
            if let Some((index, entry)) = self.field(d, "expireAfter") {
                self.move_expire_after(di, tspec, d, index, entry);
            }
            let anchor = policy_at.map_or(Anchor::End, Anchor::After);
            let at = disruption_entry.map_or(d, |e| &e.key);
            if d.get("consolidateAfter").is_none()
                && self.insert(d, anchor, scalar("consolidateAfter", "0s"), at.span.start)
            {
                self.set(
                    di,
                    &[&dpath[..], &["consolidateAfter"]].concat(),
                    Json::from("0s"),
                );
                self.note(
                    at,
                    Level::Warning,
                    "added `consolidateAfter: 0s` (required in v1): `0s` keeps the v1beta1 \
                     behaviour of consolidating as soon as a node is empty or underused; raise it \
                     (say `5m`) to consolidate less eagerly",
                );
            }
        }
    }

    pub(super) fn move_expire_after(
        &mut self,
        di: usize,
        tspec: Option<&'a Node>,
        disruption: &'a Node,
        index: usize,
        entry: &'a Entry,
    ) {
        let value = entry.value.to_json();
        let shown = entry.value.scalar_text().unwrap_or_default();
        let Some(ts) = tspec else {
            self.note(
                &entry.key,
                Level::Error,
                format!(
                    "cannot move `spec.disruption.expireAfter`: there is no `spec.template.spec` \
                     mapping; add `expireAfter: {shown}` under `spec.template.spec` by hand"
                ),
            );
            return;
        };
        let src = ["spec", "disruption", "expireAfter"];
        let dst = ["spec", "template", "spec", "expireAfter"];
        match ts.get("expireAfter") {
            Some(existing) if existing.to_json() == value => {
                if !self.remove(disruption, index) {
                    return;
                }
                self.unset(di, &src);
                self.note(
                    &entry.key,
                    Level::Info,
                    "removed `spec.disruption.expireAfter` (`spec.template.spec.expireAfter` has the same value)",
                );
            }
            Some(_) => {
                self.note(
                    &entry.key,
                    Level::Error,
                    "`spec.disruption.expireAfter` and `spec.template.spec.expireAfter` differ; \
                     v1 reads only the second: keep the one you mean and delete the other",
                );
            }
            None => {
                // Both mappings must take the change, or neither does.
                if !(self.all_local(disruption) && self.all_local(ts)) {
                    return;
                }
                let captured = self.capture(disruption, entry);
                let removed = self.remove(disruption, index);
                let inserted = self.insert(
                    ts,
                    Anchor::End,
                    NewEntry::Captured(captured),
                    entry.key.span.start,
                );
                debug_assert!(removed && inserted, "both mappings were checked");
                self.unset(di, &src);
                self.set(di, &dst, value);
                self.note(
                    &entry.key,
                    Level::Info,
                    "moved `spec.disruption.expireAfter` to `spec.template.spec.expireAfter`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]

    use crate::migrate::Level;
    use crate::migrate::testing::*;

    #[test]
    fn when_underutilized_is_renamed_and_consolidate_after_added() {
        let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      requirements: []\n  disruption:\n    consolidationPolicy: \"WhenUnderutilized\"\n    budgets: [{nodes: 10%}]\n";
        let m = converted(text);
        assert!(
            m.text.ends_with(
                "  disruption:\n    consolidationPolicy: \"WhenEmptyOrUnderutilized\"\n    consolidateAfter: 0s\n    budgets: [{nodes: 10%}]\n"
            ),
            "{}",
            m.text
        );
        let levels: Vec<Level> = m.notes.iter().map(|n| n.level).collect();
        assert_eq!(levels, [Level::Warning, Level::Info], "{:?}", m.notes);
    }

    #[test]
    fn expire_after_conflict_is_left_to_the_user() {
        let text = POOL_BLOCK.replace(
            "      requirements:",
            "      expireAfter: 24h\n      requirements:",
        );
        let m = migrate(&text);
        assert!(errors(&m)[0].contains("differ"));
        assert!(m.text.contains("    expireAfter: 720h\n"));
        let same = POOL_BLOCK.replace(
            "      requirements:",
            "      expireAfter: 720h\n      requirements:",
        );
        let m = converted(&same);
        assert_eq!(m.text.matches("expireAfter").count(), 1);
    }
}

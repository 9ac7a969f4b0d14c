//! Rule selection from the command line, ruff-style: `--select`, `--extend-select`, `--ignore`
//! and `--severity-override`, applied on top of the policy file's `spec.overrides`.
//!
//! A selector is a rule ID (`IMDS001`), a prefix of IDs (`SEP`, `TAG0`), a rule name
//! (`imdsv1-allowed`) or `ALL`; custom rules of the policy are selected by their IDs the same
//! way. The order, each step over the result of the one before:
//!
//! 1. the policy file: `spec.overrides.<ID>.enabled` and `.severity`;
//! 2. `--select`: when given, exactly the rules it matches are on (a rule the policy turned off
//!    is on again if selected), plus `YAML001`, so a file that cannot be read never passes
//!    silently;
//! 3. `--extend-select`: adds rules;
//! 4. `--ignore`: turns rules off, whatever selected them (`YAML001` too, when named);
//! 5. `--severity-override RULE=LEVEL`: re-grades the matching rules, the last flag winning.
//!
//! A selector that matches no rule is an error that names the closest IDs.

use crate::diagnostic::Severity;
use crate::model::policy::Policy;
use crate::node::Span;
use crate::reader::Spanned;
use crate::rules::RULES;

/// The rule whose findings must never be lost to a `--select`.
const ALWAYS_SELECTED: &str = "YAML001";

/// The command line's rule selection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSelection {
    /// `--select`: when set, only these rules (and `YAML001`).
    pub select: Option<Vec<String>>,
    /// `--extend-select`: rules added to the selection.
    pub extend_select: Vec<String>,
    /// `--ignore`: rules taken out.
    pub ignore: Vec<String>,
    /// `--severity-override RULE=LEVEL`, in the order given.
    pub severity_overrides: Vec<(String, Severity)>,
}

/// A selector that matches no rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{flag} {selector}` matches no rule{}", suggestion(.suggestions))]
pub struct UnknownSelector {
    pub flag: &'static str,
    pub selector: String,
    /// The closest rule IDs, best first.
    pub suggestions: Vec<String>,
}

fn suggestion(suggestions: &[String]) -> String {
    match suggestions {
        [] => "; `eksgate rules` lists them all".to_string(),
        ids => format!(
            "; did you mean {}?",
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

impl RuleSelection {
    /// Whether nothing was asked for on the command line.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Writes the selection into `policy.overrides` (what the engine reads), in the order of the
    /// module documentation.
    ///
    /// # Errors
    /// [`UnknownSelector`] for a selector that matches no built-in or custom rule.
    pub fn apply(&self, policy: &mut Policy) -> Result<(), UnknownSelector> {
        let ids: Vec<String> = all_rule_ids(policy);
        let resolve =
            |flag: &'static str, selectors: &[String]| -> Result<Vec<String>, UnknownSelector> {
                let mut matched = Vec::new();
                for selector in selectors {
                    let hits = matching(selector, &ids);
                    if hits.is_empty() {
                        return Err(UnknownSelector {
                            flag,
                            selector: selector.clone(),
                            suggestions: nearest_rule_ids(selector, &ids),
                        });
                    }
                    matched.extend(hits);
                }
                Ok(matched)
            };
        let selected = match &self.select {
            Some(selectors) => Some(resolve("--select", selectors)?),
            None => None,
        };
        let extended = resolve("--extend-select", &self.extend_select)?;
        let ignored = resolve("--ignore", &self.ignore)?;
        let mut regraded = Vec::new();
        for (selector, severity) in &self.severity_overrides {
            for id in resolve("--severity-override", std::slice::from_ref(selector))? {
                regraded.push((id, *severity));
            }
        }
        for id in &ids {
            let policy_enabled = policy
                .overrides
                .get(id)
                .and_then(|o| o.enabled)
                .unwrap_or(true);
            let mut enabled = match &selected {
                Some(selected) => selected.contains(id) || id == ALWAYS_SELECTED,
                None => policy_enabled,
            };
            if extended.contains(id) {
                enabled = true;
            }
            if ignored.contains(id) {
                enabled = false;
            }
            if enabled != policy_enabled {
                policy
                    .overrides
                    .get_or_insert_with(id, || Spanned::new(id.clone(), Span::default()))
                    .enabled = Some(enabled);
            }
        }
        for (id, severity) in regraded {
            policy
                .overrides
                .get_or_insert_with(&id, || Spanned::new(id.clone(), Span::default()))
                .severity = Some(severity);
        }
        Ok(())
    }
}

/// Built-in rule IDs in registry order, then the policy's custom rules.
fn all_rule_ids(policy: &Policy) -> Vec<String> {
    RULES
        .iter()
        .map(|r| r.meta().id.to_string())
        .chain(policy.rules.iter().map(|r| r.id.value.clone()))
        .collect()
}

/// The IDs a selector names: `ALL`, an ID prefix (any case), or a built-in rule's name.
fn matching(selector: &str, ids: &[String]) -> Vec<String> {
    let upper = selector.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return Vec::new();
    }
    if upper == "ALL" {
        return ids.to_vec();
    }
    if let Some(rule) = RULES.iter().find(|r| r.meta().name == selector.trim()) {
        return vec![rule.meta().id.to_string()];
    }
    ids.iter()
        .filter(|id| id.starts_with(&upper))
        .cloned()
        .collect()
}

/// Up to three rule IDs (or names) closest to `query` by edit distance, best first: for
/// "did you mean" after a typo (`IMDS01` -> `IMDS001`).
#[must_use]
pub fn nearest_rule_ids(query: &str, ids: &[String]) -> Vec<String> {
    let upper = query.trim().to_ascii_uppercase();
    let mut scored: Vec<(usize, String)> = ids
        .iter()
        .map(|id| (crate::text::edit_distance(&upper, id), id.clone()))
        .chain(RULES.iter().map(|r| {
            let m = r.meta();
            (
                crate::text::edit_distance(&query.trim().to_lowercase(), m.name),
                m.id.to_string(),
            )
        }))
        .filter(|(distance, id)| *distance <= (id.len() / 3).max(2))
        .collect();
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, id) in scored {
        if !out.contains(&id) && out.len() < 3 {
            out.push(id);
        }
    }
    out
}

/// [`nearest_rule_ids`] over the built-in rules.
#[must_use]
pub fn nearest_builtin_rules(query: &str) -> Vec<String> {
    let ids: Vec<String> = RULES.iter().map(|r| r.meta().id.to_string()).collect();
    nearest_rule_ids(query, &ids)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn policy() -> Policy {
        Policy::default_policy().unwrap()
    }

    fn enabled(policy: &Policy, id: &str) -> bool {
        policy
            .overrides
            .get(id)
            .and_then(|o| o.enabled)
            .unwrap_or(true)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn select_by_prefix_keeps_yaml001() {
        let mut p = policy();
        let selection = RuleSelection {
            select: Some(strings(&["sep", "TAG00"])),
            ..RuleSelection::default()
        };
        selection.apply(&mut p).unwrap();
        assert!(enabled(&p, "SEP001") && enabled(&p, "SEP006") && enabled(&p, "TAG005"));
        assert!(enabled(&p, "YAML001"));
        assert!(!enabled(&p, "IMDS001") && !enabled(&p, "YAML002"));
    }

    #[test]
    fn ignore_wins_and_extend_select_adds() {
        let mut p = policy();
        let selection = RuleSelection {
            select: Some(strings(&["IMDS"])),
            extend_select: strings(&["enc001"]),
            ignore: strings(&["IMDS002", "YAML001"]),
            ..RuleSelection::default()
        };
        selection.apply(&mut p).unwrap();
        assert!(enabled(&p, "IMDS001") && enabled(&p, "ENC001"));
        assert!(!enabled(&p, "IMDS002") && !enabled(&p, "YAML001") && !enabled(&p, "ENC002"));
    }

    #[test]
    fn select_turns_on_a_rule_the_policy_turned_off() {
        let mut p = policy();
        p.overrides
            .get_or_insert_with("KARP002", || {
                Spanned::new("KARP002".to_string(), Span::default())
            })
            .enabled = Some(false);
        RuleSelection::default().apply(&mut p).unwrap();
        assert!(!enabled(&p, "KARP002"), "no flags: the policy stands");
        let selection = RuleSelection {
            select: Some(strings(&["KARP"])),
            ..RuleSelection::default()
        };
        selection.apply(&mut p).unwrap();
        assert!(enabled(&p, "KARP002"));
    }

    #[test]
    fn severity_override_by_prefix_last_wins() {
        let mut p = policy();
        let selection = RuleSelection {
            severity_overrides: vec![
                ("KARP".to_string(), Severity::Error),
                ("KARP001".to_string(), Severity::Info),
            ],
            ..RuleSelection::default()
        };
        selection.apply(&mut p).unwrap();
        let severity = |id: &str| p.overrides.get(id).and_then(|o| o.severity);
        assert_eq!(severity("KARP002"), Some(Severity::Error));
        assert_eq!(severity("KARP001"), Some(Severity::Info));
    }

    #[test]
    fn an_unknown_selector_suggests_the_nearest_ids() {
        let mut p = policy();
        let selection = RuleSelection {
            ignore: strings(&["IMDS01"]),
            ..RuleSelection::default()
        };
        let err = selection.apply(&mut p).err();
        let err = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.starts_with("`--ignore IMDS01` matches no rule; did you mean `IMDS001`"),
            "{err}"
        );
        assert_eq!(nearest_builtin_rules("imdsv1-alowed"), ["IMDS001"]);
        assert!(nearest_builtin_rules("XYZ").is_empty());
    }
}

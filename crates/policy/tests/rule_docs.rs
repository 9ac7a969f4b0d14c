//! `docs/rules/<ID>.md`, one page per rule, generated from the rules' doc comments (SARIF's
//! `helpUri` links them). This test fails when a page drifts, is missing or has no rule.
//! Regenerate with `EKSGATE_UPDATE=1 cargo test -p eksgate-policy --test rule_docs`.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    reason = "tests read and regenerate repository files"
)]

use std::collections::BTreeMap;
use std::path::Path;

use eksgate_policy::render::rule_page;
use eksgate_policy::rules::RULES;

#[test]
fn rule_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let update = std::env::var_os("EKSGATE_UPDATE").is_some();
    let wanted: BTreeMap<String, String> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.meta().id), rule_page(r.meta())))
        .collect();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !wanted.contains_key(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                problems.push(format!("docs/rules/{name} names no rule"));
            }
        }
    }
    for (name, text) in &wanted {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                std::fs::write(&path, text).unwrap();
            } else {
                problems.push(format!("docs/rules/{name} is missing or out of date"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{problems:#?}\nrun `EKSGATE_UPDATE=1 cargo test -p eksgate-policy --test rule_docs`"
    );
}

#[test]
fn fixable_rules_say_how_and_others_do_not_pretend() {
    for rule in RULES {
        let meta = rule.meta();
        let documented = meta.docs().contains("\n## Fix\n");
        assert_eq!(
            documented,
            meta.fix.is_some(),
            "{}: a rule with `fix:` in its declaration documents it under `## Fix`, and only then",
            meta.id
        );
    }
}

#[test]
fn every_rule_url_names_its_page() {
    for rule in RULES {
        let meta = rule.meta();
        assert!(meta.url().ends_with(&format!("/docs/rules/{}.md", meta.id)));
    }
}

//! Rule fixtures, executable rule docs, and registry guards.
//!
//! `tests/fixtures/<RULE>/{fail,pass}/<case>.yaml`: every `fail` case must raise its rule, every
//! `pass` case must raise nothing at all, and each case has a snapshot beside it
//! (`<case>.yaml.snap`: the input, then the human rendering). A `policy.yaml` in a `fail` or
//! `pass` directory replaces the default policy for its cases. Update snapshots with
//! `INSTA_UPDATE=always cargo test -p eksgate-policy --test rules` and review the diff.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use eksgate_policy::render::{RenderOptions, human};
use eksgate_policy::rules::RULES;
use eksgate_policy::{CheckOptions, Input, Policy, Report, SourceFile, check};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn policy_for(dir: &Path) -> Policy {
    let custom = dir.join("policy.yaml");
    if custom.exists() {
        let text = std::fs::read_to_string(&custom).unwrap();
        Policy::from_source(&SourceFile::new(custom.display().to_string(), text))
            .unwrap_or_else(|e| panic!("{e}"))
    } else {
        Policy::default_policy().unwrap()
    }
}

fn run(name: &str, text: &str, policy: &Policy) -> Report {
    check(
        vec![Input::text(name, text)],
        policy,
        &CheckOptions::default(),
    )
}

/// A docs example as the files of one run: `# file: PATH` lines start a new file (examples of
/// the ordering rules need a repository); without them the block is `default`.
fn example_inputs(default: &str, body: &str) -> Vec<Input> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(path) = line.strip_prefix("# file: ") {
            files.push((path.trim().to_string(), String::new()));
            continue;
        }
        if files.is_empty() {
            files.push((default.to_string(), String::new()));
        }
        let (_, text) = files.last_mut().unwrap();
        text.push_str(line);
        text.push('\n');
    }
    files
        .into_iter()
        .map(|(name, text)| Input::text(name, text))
        .collect()
}

/// Every file below a directory case, as the CLI walks it (sorted, names relative to the
/// case); `policy.yaml` at the case's top is its policy, not an input.
fn directory_inputs(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
                continue;
            }
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let known = [".yaml", ".yml", ".json", ".tf"]
                .iter()
                .any(|ext| name.ends_with(ext));
            if known && name != "policy.yaml" {
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn language(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "json"
    } else if name.ends_with(".tf") {
        "hcl"
    } else {
        "yaml"
    }
}

/// The cases of a `fail` or `pass` directory: files, and directories (one run of every file
/// below, for rules about a repository's layout).
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().to_string();
                    p.is_dir()
                        || name != "policy.yaml"
                            && (name.ends_with(".yaml")
                                || name.ends_with(".yml")
                                || name.ends_with(".json")
                                || name.ends_with(".tf"))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Rules that may point at the same text for different causes: a missing field is reported
/// at its parent key, where another rule may report another missing field.
const DISTINCT_CAUSES: &[(&str, &str, &str)] = &[
    (
        "API001",
        "IMDS002",
        "the v1 hop-limit default changes; the current default breaks the policy",
    ),
    (
        "API001",
        "TAG001",
        "both anchored at the node class's `spec`: a v1 default, a missing tag",
    ),
    (
        "IMDS002",
        "TAG001",
        "both anchored at the node class's `spec`: a hop limit, a missing tag",
    ),
    (
        "API001",
        "KARP003",
        "both anchored at `disruption`: `consolidateAfter`, the budget",
    ),
    (
        "KARP002",
        "KARP003",
        "both anchored at the pool's `spec`: no limits, no budget",
    ),
];

/// Findings of one report that point at the same text for what may be the same cause: one
/// problem should be one finding (the more specific rule wins, `rules::YIELDS_TO`). Two
/// findings of one rule with different messages (two CEL rules, two objects sharing an
/// anchor) and the pairs of [`DISTINCT_CAUSES`] are different problems.
fn same_span(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in report.diagnostics.iter().enumerate() {
        for b in report.diagnostics.iter().skip(i + 1) {
            let distinct = a.rule == b.rule
                || DISTINCT_CAUSES.iter().any(|(x, y, _)| {
                    (a.rule == *x && b.rule == *y) || (a.rule == *y && b.rule == *x)
                });
            if a.file == b.file && a.span == b.span && !distinct {
                out.push(format!(
                    "{} `{}` and {} `{}` at the same span",
                    a.rule, a.message, b.rule, b.message
                ));
            }
        }
    }
    out
}

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    let mut overlaps = Vec::new();
    for rule in RULES {
        let id = rule.meta().id;
        for outcome in ["fail", "pass"] {
            let dir = fixtures_dir().join(id).join(outcome);
            let dir_policy = policy_for(&dir);
            for case in cases(&dir) {
                let file_name = case.file_name().unwrap().to_string_lossy().to_string();
                let shown = format!("{outcome}/{file_name}");
                let (report, input) = if case.is_dir() {
                    let policy = if case.join("policy.yaml").exists() {
                        policy_for(&case)
                    } else {
                        dir_policy.clone()
                    };
                    let files = directory_inputs(&case);
                    assert!(!files.is_empty(), "{id}/{shown}: an empty case directory");
                    let mut input = String::new();
                    for (name, text) in &files {
                        input.push_str(&format!("## {name}\n```{}\n{text}```\n", language(name)));
                    }
                    let inputs = files
                        .into_iter()
                        .map(|(name, text)| Input::text(name, text))
                        .collect();
                    (check(inputs, &policy, &CheckOptions::default()), input)
                } else {
                    let text = std::fs::read_to_string(&case).unwrap();
                    let report = run(&shown, &text, &dir_policy);
                    let lang = language(&file_name);
                    (report, format!("```{lang}\n{text}```\n"))
                };
                overlaps.extend(
                    same_span(&report)
                        .into_iter()
                        .map(|o| format!("{id}/{shown}: {o}")),
                );
                let hits = report.diagnostics.iter().filter(|d| d.rule == id).count();
                if outcome == "fail" && hits == 0 {
                    failures.push(format!("{id}/{shown}: expected a {id} finding, got none"));
                }
                if outcome == "pass" && !report.diagnostics.is_empty() {
                    let got: Vec<String> = report
                        .diagnostics
                        .iter()
                        .map(|d| format!("{} {}", d.rule, d.message))
                        .collect();
                    failures.push(format!("{id}/{shown}: expected no findings, got {got:?}"));
                }
                let rendered = human(&report, RenderOptions::default());
                let snapshot = format!("# Input\n{input}\n# Diagnostics\n```text\n{rendered}```\n");
                insta::with_settings!({
                    snapshot_path => dir.clone(),
                    prepend_module_to_snapshot => false,
                    omit_expression => true,
                }, {
                    insta::assert_snapshot!(file_name.clone(), snapshot);
                });
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
    assert!(
        overlaps.is_empty(),
        "one problem, one finding; these share a span:\n{}",
        overlaps.join("\n")
    );
}

/// ```yaml,fail / ```yaml,pass (or ```hcl,...: Terraform) blocks of a rule's docs:
/// (tag, body, the file name to run the body as).
fn example_blocks(docs: &str) -> Vec<(String, String, &'static str)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String, &'static str)> = None;
    for line in docs.lines() {
        match &mut current {
            None => {
                if let Some(tag) = line.trim().strip_prefix("```yaml,") {
                    current = Some((tag.to_string(), String::new(), "example.yaml"));
                } else if let Some(tag) = line.trim().strip_prefix("```hcl,") {
                    current = Some((tag.to_string(), String::new(), "main.tf"));
                }
            }
            Some((tag, body, name)) => {
                if line.trim() == "```" {
                    blocks.push((tag.clone(), std::mem::take(body), *name));
                    current = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    blocks
}

#[test]
fn docs_examples_give_the_findings_they_claim() {
    let default_policy = Policy::default_policy().unwrap();
    let mut failures = Vec::new();
    for rule in RULES {
        let meta = rule.meta();
        for (tag, body, name) in example_blocks(&meta.docs()) {
            // An example that carries a `kind: Policy` document runs with that policy (for rules
            // that the default policy leaves off, such as ENC002).
            let policy = if body.contains("kind: Policy") {
                Policy::from_source(&SourceFile::new("example.yaml", body.clone()))
                    .unwrap_or_else(|e| panic!("{}: example policy: {e}", meta.id))
            } else {
                default_policy.clone()
            };
            let report = check(
                example_inputs(name, &body),
                &policy,
                &CheckOptions::default(),
            );
            let hits: Vec<_> = report
                .diagnostics
                .iter()
                .filter(|d| d.rule == meta.id)
                .collect();
            match tag.as_str() {
                "fail" if hits.len() != 1 => failures.push(format!(
                    "{}: a `fail` example gives {} {} findings, expected exactly 1:\n{body}",
                    meta.id,
                    hits.len(),
                    meta.id
                )),
                "pass" if !hits.is_empty() => failures.push(format!(
                    "{}: a `pass` example gives {}:\n{body}",
                    meta.id, hits[0].message
                )),
                "fail" | "pass" => {}
                other => failures.push(format!("{}: unknown example tag `yaml,{other}`", meta.id)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn registry_is_well_formed() {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for rule in RULES {
        let m = rule.meta();
        assert!(ids.insert(m.id), "duplicate rule ID {}", m.id);
        assert!(names.insert(m.name), "duplicate rule name {}", m.name);
        let letters = m.id.trim_end_matches(|c: char| c.is_ascii_digit());
        assert!(
            !letters.is_empty()
                && letters.chars().all(|c| c.is_ascii_uppercase())
                && m.id.len() - letters.len() == 3,
            "rule ID {} is not LETTERS + 3 digits",
            m.id
        );
        assert!(
            m.name.split('-').all(|w| !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
            "rule name {} is not kebab-case",
            m.name
        );
        let docs = m.docs();
        assert!(
            !m.summary().is_empty() && m.summary().ends_with('.'),
            "{}: the first doc line is a one-sentence summary",
            m.id
        );
        assert!(docs.contains("\n## Why\n"), "{}: docs lack `## Why`", m.id);
        assert!(
            docs.contains("\n## Example\n"),
            "{}: docs lack `## Example`",
            m.id
        );
        let blocks = example_blocks(&docs);
        assert!(
            blocks.iter().any(|(t, _, _)| t == "fail"),
            "{}: docs lack a yaml,fail example",
            m.id
        );
        assert!(
            blocks.iter().any(|(t, _, _)| t == "pass"),
            "{}: docs lack a yaml,pass example",
            m.id
        );
        for outcome in ["fail", "pass"] {
            let dir = fixtures_dir().join(m.id).join(outcome);
            assert!(
                !cases(&dir).is_empty(),
                "{}: no fixtures in {}",
                m.id,
                dir.display()
            );
        }
    }
}

#[test]
fn no_orphan_fixtures_or_snapshots() {
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let id = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            eksgate_policy::rules::find(&id).is_some(),
            "fixture directory {id} names no rule"
        );
        for outcome in std::fs::read_dir(&path).unwrap() {
            let outcome = outcome.unwrap().path();
            let o = outcome.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                o == "fail" || o == "pass",
                "{id}/{o}: only fail/ and pass/ belong here"
            );
            for file in std::fs::read_dir(&outcome).unwrap() {
                let file = file.unwrap().path();
                let name = file.file_name().unwrap().to_string_lossy().to_string();
                if let Some(input) = name.strip_suffix(".snap") {
                    assert!(
                        outcome.join(input).exists(),
                        "{id}/{o}/{name}: snapshot without its input (delete it)"
                    );
                }
            }
        }
    }
}

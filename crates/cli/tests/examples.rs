//! The bundled examples, checked through the built binary.
//!
//! - `examples/platform`: a compliant platform; the default policy finds nothing to report.
//! - `examples/broken/**`: every finding is marked on its line with `# expect: RULE[, RULE]`
//!   (or `# expect-next-line: RULE` alone on the line above); each file must give exactly the
//!   marked `(rule, line)` pairs and, run with `--fail-on warning`, exit 1. A `policy.yaml` in
//!   a file's directory is passed with `--policy`.
//! - `examples/upstream`: shapes of Karpenter's and EKS's own examples under a permissive
//!   policy; nothing may fire.
//!
//! See examples/README.md.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{describe, eksgate, rule_lines, workspace_root};

const EXPECT: &str = "# expect:";
const EXPECT_NEXT_LINE: &str = "# expect-next-line:";

/// `(rule, 1-based line)`.
type Finding = (String, u64);

fn is_rule_id(token: &str) -> bool {
    let letters = token.trim_end_matches(|c: char| c.is_ascii_digit());
    !letters.is_empty()
        && letters.bytes().all(|b| b.is_ascii_uppercase())
        && token.len() - letters.len() == 3
}

/// The `(rule, line)` pairs a file's `# expect:` marks promise.
fn expectations(text: &str) -> Result<BTreeSet<Finding>, String> {
    let mut out = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        let (marks, target) = if let Some(at) = line.find(EXPECT_NEXT_LINE) {
            (&line[at + EXPECT_NEXT_LINE.len()..], number + 1)
        } else if let Some(at) = line.find(EXPECT) {
            (&line[at + EXPECT.len()..], number)
        } else {
            continue;
        };
        let marks = marks.split('#').next().unwrap_or_default();
        let ids: Vec<&str> = marks
            .split([',', ' ', '\t'])
            .filter(|t| !t.is_empty())
            .collect();
        if ids.is_empty() {
            return Err(format!("line {number}: `# expect:` names no rule"));
        }
        for id in ids {
            if !is_rule_id(id) {
                return Err(format!("line {number}: `{id}` is not a rule ID"));
            }
            out.insert((id.to_string(), target));
        }
    }
    Ok(out)
}

fn broken_dir() -> PathBuf {
    workspace_root().join("examples/broken")
}

/// Every manifest below `dir` (policy files excluded), sorted.
fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable examples dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "policy.yaml")
                && path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json" || e == "tf")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Checks a directory of `examples/broken` (a repository: the ordering rules need several
/// files) as one run against the marks of all its files.
fn check_broken_repository(relative: &str) {
    let dir = broken_dir().join(relative);
    let mut expected: BTreeSet<(String, String, u64)> = BTreeSet::new();
    for path in manifests(&dir) {
        let text = std::fs::read_to_string(&path).expect("readable example");
        let file = format!(
            "examples/broken/{relative}{}",
            path.strip_prefix(&dir)
                .expect("below the case")
                .to_string_lossy()
                .replace('\\', "/")
        );
        for (rule, line) in expectations(&text).unwrap_or_else(|e| panic!("{file}: {e}")) {
            expected.insert((file.clone(), rule, line));
        }
    }
    assert!(!expected.is_empty(), "{relative} marks no finding");
    let shown = format!("examples/broken/{relative}");
    let run = eksgate(["check", "--format", "json", "--fail-on", "warning", &shown]).run();
    run.assert_no_panic();
    let report = run.json();
    let actual: BTreeSet<(String, String, u64)> = common::diagnostics(&report)
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_string(),
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{shown}: findings differ from the `# expect:` marks\n\
         missing (marked, not reported): {missing:?}\n\
         unexpected (reported, not marked): {extra:?}\n\
         eksgate reported:\n{}",
        describe(&report)
    );
    assert_eq!(
        run.code, 1,
        "{shown}: must exit 1 under `--fail-on warning`"
    );
}

/// Checks one file of `examples/broken` against its marks (a directory: as one repository).
fn check_broken(relative: &str) {
    if relative.ends_with('/') {
        check_broken_repository(relative);
        return;
    }
    let path = broken_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let expected = expectations(&text).unwrap_or_else(|e| panic!("{relative}: {e}"));
    assert!(!expected.is_empty(), "{relative} marks no finding");

    let shown = format!("examples/broken/{relative}");
    let mut args: Vec<String> = ["check", "--format", "json", "--fail-on", "warning"]
        .map(String::from)
        .to_vec();
    let policy = path.parent().map(|d| d.join("policy.yaml"));
    if let Some(policy) = policy.filter(|p| p.exists()) {
        args.push("--policy".into());
        args.push(policy.display().to_string());
    }
    args.push(shown.clone());
    let run = eksgate(&args).run();
    run.assert_no_panic();
    let report = run.json();
    let actual: BTreeSet<Finding> = rule_lines(&report).into_iter().collect();

    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{shown}: findings differ from the `# expect:` marks\n\
         missing (marked, not reported): {missing:?}\n\
         unexpected (reported, not marked): {extra:?}\n\
         eksgate reported:\n{}",
        describe(&report)
    );
    assert_eq!(
        run.code, 1,
        "{shown}: a file with findings must exit 1 under `--fail-on warning`\n{}",
        run.stderr
    );
}

macro_rules! broken {
    ($($test:ident => $file:literal,)+) => {
        $(
            #[test]
            fn $test() {
                check_broken($file);
            }
        )+

        /// The files the tests above cover.
        const BROKEN_FILES: &[&str] = &[$($file),+];
    };
}

broken! {
    broken_imds => "imds.yaml",
    broken_encryption => "encryption.yaml",
    broken_kms_required => "kms-required/nodeclasses.yaml",
    broken_rendered_only => "rendered-only/nodeclass.yaml",
    broken_separation => "separation.yaml",
    broken_tags => "tags.yaml",
    broken_references => "references.yaml",
    broken_karpenter => "karpenter.yaml",
    broken_deprecated => "deprecated.yaml",
    broken_malformed => "malformed.yaml",
    broken_duplicate_keys => "duplicate-keys.yaml",
    broken_document_stream => "document-stream.yaml",
    broken_yaml11 => "yaml11.yaml",
    broken_suppression => "suppression.yaml",
    broken_cluster_request => "cluster-request.yaml",
    broken_ordering_flux => "ordering/flux/",
    broken_ordering_argo => "ordering/argo/",
    broken_ordering_terraform => "ordering/terraform/",
}

#[test]
fn every_broken_file_has_a_test() {
    let root = broken_dir();
    let on_disk: BTreeSet<String> = manifests(&root)
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .expect("below examples/broken")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    // A listed directory (`ordering/flux/`) covers every file below it.
    let on_disk: BTreeSet<String> = on_disk
        .into_iter()
        .map(|file| {
            BROKEN_FILES
                .iter()
                .find(|listed| listed.ends_with('/') && file.starts_with(*listed))
                .map_or(file, |dir| (*dir).to_string())
        })
        .collect();
    let listed: BTreeSet<String> = BROKEN_FILES.iter().map(|s| (*s).to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "add a line to the `broken!` list for each file (or repository directory) of examples/broken"
    );
}

/// The rule IDs `eksgate rules` prints.
fn registry() -> Vec<String> {
    let run = eksgate(["rules"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_rule_is_exercised_by_a_broken_example() {
    let mut marked = BTreeSet::new();
    for path in manifests(&broken_dir()) {
        let text = std::fs::read_to_string(&path).expect("readable example");
        let found = expectations(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        marked.extend(found.into_iter().map(|(rule, _)| rule));
    }
    let registry = registry();
    assert!(registry.len() >= 20, "`eksgate rules` printed {registry:?}");
    // Schema and CEL rules are checked against the upstream CRDs by their own tests.
    let uncovered: Vec<&String> = registry
        .iter()
        .filter(|id| !id.starts_with("SCH") && !id.starts_with("CEL"))
        .filter(|id| !marked.contains(*id))
        .collect();
    assert!(
        uncovered.is_empty(),
        "rules no file of examples/broken marks with `# expect:`: {uncovered:?}"
    );
    let unknown: Vec<&String> = marked.iter().filter(|id| !registry.contains(id)).collect();
    assert!(
        unknown.is_empty(),
        "`# expect:` names rules that do not exist: {unknown:?}"
    );
}

#[test]
fn platform_is_clean() {
    let run = eksgate(["check", "--format", "json", "examples/platform"]).run();
    run.assert_no_panic();
    let report = run.json();
    let summary = &report["summary"];
    assert!(
        summary["errors"] == 0 && summary["warnings"] == 0,
        "examples/platform must raise no error and no warning, got:\n{}",
        describe(&report)
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every file is read: YAML, the JSON manifest, the Terraform plan, the Auto Mode folder.
    let files = summary["files"].as_u64().unwrap_or_default();
    assert!(files >= 12, "only {files} files read: {summary}");
    assert!(summary["documents"].as_u64().unwrap_or_default() >= 30);
}

#[test]
fn platform_human_output_has_no_error_or_warning() {
    let run = eksgate(["check", "examples/platform"]).run();
    run.assert_no_panic();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains("error") && !run.stdout.contains("warning"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.starts_with("No findings in "), "{}", run.stdout);
}

#[test]
fn platform_terraform_plan_yields_both_manifests() {
    // The plan alone: a kubernetes_manifest NodePool and the kubectl_manifest EC2NodeClass it
    // references. Were the yaml_body not read, REF001 would report the missing node class.
    let run = eksgate([
        "check",
        "--format",
        "json",
        "examples/platform/terraform/plan.json",
    ])
    .run();
    let report = run.json();
    assert_eq!(report["summary"]["documents"], 2, "{report}");
    assert_eq!(report["summary"]["skipped_documents"], 0, "{report}");
    assert!(
        report["summary"]["errors"] == 0 && report["summary"]["warnings"] == 0,
        "{}",
        describe(&report)
    );
}

#[test]
fn upstream_examples_raise_nothing() {
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--policy",
        "examples/upstream/policy.yaml",
        "examples/upstream",
    ])
    .run();
    run.assert_no_panic();
    let report = run.json();
    assert!(
        common::diagnostics(&report).is_empty(),
        "upstream-shaped manifests must raise nothing under the permissive policy:\n{}",
        describe(&report)
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn expectation_marks_are_parsed() {
    let text = "a: 1  # expect: IMDS001\n\
                b: 2  # expect: YAML001, IMDS001 # a note\n\
                # expect-next-line: SUP001\n\
                # eksgate:ignore IMDS001\n";
    let found = expectations(text).unwrap();
    let want: BTreeSet<Finding> = [
        ("IMDS001".to_string(), 1),
        ("YAML001".to_string(), 2),
        ("IMDS001".to_string(), 2),
        ("SUP001".to_string(), 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, want);
    assert!(expectations("x: 1 # expect: imds001\n").is_err());
    assert!(expectations("x: 1 # expect:\n").is_err());
}

//! The command line's edges (issue 12): rule selection (`--select`, `--ignore`,
//! `--extend-select`, `--severity-override`) with the policy file, `--quiet`, `--statistics`,
//! `--exit-zero`, missing paths reported while the rest is checked, an empty run that says
//! so, the github format's summary notice; and (issue 8) no line eksgate prints in GitHub
//! Actions can start a workflow command, whatever the file names or arguments.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::{diagnostics, eksgate};

const FIXTURES: &str = "crates/cli/tests/fixtures";

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn rules_of(report: &serde_json::Value) -> BTreeSet<String> {
    diagnostics(report)
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

/// The broken examples fire many rules: IMDS, ENC, SEP, TAG, KARP, YAML001...
const BROKEN: &str = "examples/broken";

#[test]
fn select_runs_only_the_named_rules_and_prefixes() {
    let all = rules_of(&eksgate(["check", "--format", "json", BROKEN]).run().json());
    assert!(all.len() > 8, "{all:?}");
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--select",
        "SEP00,IMDS001",
        BROKEN,
    ])
    .run();
    let got = rules_of(&run.json());
    let want: BTreeSet<String> = all
        .iter()
        .filter(|r| r.starts_with("SEP00") || *r == "IMDS001" || *r == "YAML001")
        .cloned()
        .collect();
    assert_eq!(
        got, want,
        "YAML001 stays on: an unparsable file never passes"
    );
    // Repeated flags and lower case work the same.
    let again = eksgate([
        "check", "--format", "json", "--select", "sep00", "--select", "imds001", BROKEN,
    ])
    .run();
    assert_eq!(rules_of(&again.json()), want);
}

#[test]
fn ignore_wins_over_select_and_extend_select_adds() {
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--select",
        "TAG",
        "--extend-select",
        "IMDS",
        "--ignore",
        "TAG004,YAML001",
        BROKEN,
    ])
    .run();
    let got = rules_of(&run.json());
    assert!(
        got.iter()
            .all(|r| r.starts_with("TAG") || r.starts_with("IMDS")),
        "{got:?}"
    );
    assert!(got.contains("IMDS001") && got.contains("TAG001"), "{got:?}");
    assert!(
        !got.contains("TAG004") && !got.contains("YAML001"),
        "{got:?}"
    );
    let ignored = eksgate(["check", "--format", "json", "--ignore", "IMDS", BROKEN]).run();
    assert!(
        !rules_of(&ignored.json())
            .iter()
            .any(|r| r.starts_with("IMDS"))
    );
}

#[test]
fn selection_combines_with_the_policy_file_in_the_documented_order() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("policy.yaml"),
        "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nmetadata: {name: p}\nspec:\n  overrides:\n    IMDS001: {enabled: false}\n    YAML002: {severity: error}\n",
    )
    .unwrap();
    let policy = tmp.path().join("policy.yaml");
    let policy = policy.to_str().unwrap();
    let imds = fixture("imdsv1.yaml");
    let warning = fixture("warning-only.yaml");
    // The policy alone: IMDS001 off, YAML002 an error.
    let run = eksgate([
        "check", "--format", "json", "--policy", policy, &imds, &warning,
    ])
    .run();
    let report = run.json();
    assert_eq!(rules_of(&report), set(&["YAML002"]));
    assert_eq!(diagnostics(&report)[0]["severity"], "error");
    assert_eq!(run.code, 1);
    // --select comes after the policy: it turns IMDS001 on again; --severity-override comes
    // after the policy's severity.
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--policy",
        policy,
        "--select",
        "IMDS001,YAML002",
        "--severity-override",
        "YAML=info",
        "--severity-override",
        "IMDS001=warning",
        &imds,
        &warning,
    ])
    .run();
    let report = run.json();
    assert_eq!(rules_of(&report), set(&["IMDS001", "YAML002"]));
    for d in diagnostics(&report) {
        let want = if d["rule"] == "IMDS001" {
            "warning"
        } else {
            "info"
        };
        assert_eq!(d["severity"], want, "{d}");
    }
    assert_eq!(run.code, 0, "nothing at error any more");
}

#[test]
fn an_unknown_selector_is_a_usage_error_with_suggestions() {
    let run = eksgate(["check", "--select", "IMDS01", &fixture("clean.yaml")]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`--select IMDS01` matches no rule; did you mean `IMDS001`"),
        "{}",
        run.stderr
    );
    let run = eksgate(["check", "--severity-override", "IMDS001=fatal", "x.yaml"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown level `fatal`"),
        "{}",
        run.stderr
    );
}

#[test]
fn quiet_prints_the_findings_and_nothing_else() {
    let run = eksgate(["check", "--quiet", &fixture("imdsv1.yaml")]).run();
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("error[IMDS001]"), "{}", run.stdout);
    assert!(!run.stdout.contains("Found "), "{}", run.stdout);
    let clean = eksgate(["check", "-q", &fixture("clean.yaml")]).run();
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""));
    let github = eksgate(["check", "-q", "--format", "github", &fixture("imdsv1.yaml")]).run();
    assert!(!github.stdout.contains("::notice"), "{}", github.stdout);
    assert!(github.stdout.starts_with("::error "), "{}", github.stdout);
}

#[test]
fn statistics_count_findings_per_rule() {
    let run = eksgate(["check", "--statistics", BROKEN]).run();
    assert_eq!(run.code, 1);
    let json = eksgate(["check", "--format", "json", BROKEN]).run().json();
    let mut counts = std::collections::BTreeMap::new();
    for d in diagnostics(&json) {
        *counts
            .entry(d["rule"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), counts.len() + 1, "{}", run.stdout);
    for line in &lines[..counts.len()] {
        let mut cols = line.split_whitespace();
        let count: usize = cols.next().unwrap().parse().unwrap();
        let rule = cols.next().unwrap();
        assert_eq!(counts.get(rule), Some(&count), "{line}");
    }
    assert!(
        lines.last().unwrap().starts_with("Found "),
        "{}",
        run.stdout
    );
    let stats = eksgate(["check", "--statistics", "--format", "json", BROKEN])
        .run()
        .json();
    let total: u64 = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, diagnostics(&json).len());
}

#[test]
fn exit_zero_exits_0_with_findings_but_not_on_io_errors() {
    let run = eksgate(["check", "--exit-zero", &fixture("imdsv1.yaml")]).run();
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("IMDS001"));
    let run = eksgate([
        "check",
        "--exit-zero",
        &fixture("imdsv1.yaml"),
        "no/such.yaml",
    ])
    .run();
    assert_eq!(run.code, 2);
}

#[test]
fn a_missing_path_is_reported_and_the_rest_still_checked() {
    let run = eksgate([
        "check",
        "--format",
        "json",
        "no/such/dir",
        &fixture("imdsv1.yaml"),
        "missing.yaml",
    ])
    .run();
    assert_eq!(run.code, 2, "a path could not be read: 2, at the end");
    let report = run.json();
    assert_eq!(
        rules_of(&report),
        set(&["IMDS001"]),
        "the good file was checked"
    );
    assert_eq!(report["summary"]["files"], 1);
    assert!(
        run.stderr
            .contains("eksgate: error: `no/such/dir`: No such file")
            && run
                .stderr
                .contains("eksgate: error: `missing.yaml`: No such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_run_warns_and_names_what_was_searched() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("k8s")).unwrap();
    fs::write(tmp.path().join("k8s/notes.txt"), "not yaml").unwrap();
    let run = eksgate(["check", "k8s"]).current_dir(tmp.path()).run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr.trim_end(),
        "eksgate: warning: no files to check: searched `k8s` for *.yaml, *.yml and *.json \
         (hidden files and directories, target and node_modules are skipped)"
    );
    fs::write(tmp.path().join("k8s/pool.yaml"), "a: 1\n").unwrap();
    let run = eksgate(["check", "--exclude", "pool.yaml", "k8s"])
        .current_dir(tmp.path())
        .run();
    assert!(
        run.stderr.contains("; 1 path excluded by --exclude)"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_github_format_ends_with_a_summary_notice_even_when_clean() {
    let run = eksgate(["check", "--format", "github", &fixture("clean.yaml")]).run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        "::notice title=eksgate::No findings in 1 file (1 document).\n"
    );
    let run = eksgate(["check", "--format", "github", &fixture("imdsv1.yaml")]).run();
    let last = run.stdout.lines().last().unwrap();
    assert_eq!(
        last,
        "::notice title=eksgate::Found 1 error in 1 file (1 document)."
    );
}

#[test]
fn help_shows_every_option_the_readme_uses() {
    let readme = fs::read_to_string(common::workspace_root().join("README.md")).unwrap();
    let help = eksgate(["check", "--help"]).run().stdout;
    let mut checked = 0;
    for line in readme.lines() {
        let Some(at) = line.find("eksgate check ") else {
            continue;
        };
        for word in line[at..].split_whitespace() {
            let flag = word.trim_matches(|c: char| c == '`' || c == ',' || c == ')');
            let flag = flag.split('=').next().unwrap_or(flag);
            if flag.starts_with("--") && flag.len() > 2 {
                assert!(
                    help.contains(flag),
                    "`eksgate check --help` lacks {flag}:\n{help}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "only {checked} flags found in the README");
    assert!(help.contains("--parse-only"), "{help}");
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions: nothing from input may start a workflow command (issue 8).

/// Every line of stdout and stderr, split as the runner splits them (LF, CR).
fn assert_no_command_but(run: &common::Output, allowed: &[&str]) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for line in text.split(['\n', '\r']) {
            let trimmed = line.trim_start();
            if trimmed.starts_with("::") {
                assert!(
                    allowed.iter().any(|a| trimmed.starts_with(a)),
                    "{}: {stream} has a forged workflow command: {line:?}\n{text}",
                    run.shown
                );
            }
        }
    }
}

const HOSTILE_NODE_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: \"optional\\n::stop-commands::tok\", httpPutResponseHopLimit: 3}\n  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}\n";

fn hostile_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "a\n::stop-commands::tok.yaml",
        "b\r::add-mask::x.yaml",
        "c\n  ::error::forged.yaml",
    ] {
        fs::write(tmp.path().join(name), HOSTILE_NODE_CLASS).unwrap();
    }
    tmp
}

#[test]
fn in_actions_no_format_prints_a_forged_command() {
    let tmp = hostile_dir();
    for format in ["human", "json", "sarif", "github", "markdown", "junit"] {
        let run = eksgate(["check", "--format", format, "."])
            .current_dir(tmp.path())
            .env("GITHUB_ACTIONS", "true")
            .run();
        assert_eq!(run.code, 1, "{}: {}", run.shown, run.stderr);
        let allowed: &[&str] = if format == "github" {
            &[
                "::error file=",
                "::warning file=",
                "::notice title=eksgate::",
            ]
        } else {
            &[]
        };
        assert_no_command_but(&run, allowed);
    }
    // Also the statistics and the stderr summary with -o.
    let out = tmp.path().join("report.txt");
    let run = eksgate(["check", "--statistics", "."])
        .current_dir(tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert_no_command_but(&run, &[]);
    let run = eksgate(["check", "-o", out.to_str().unwrap(), "."])
        .current_dir(tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert_no_command_but(&run, &[]);
}

#[test]
fn in_actions_errors_naming_hostile_paths_and_arguments_are_defused() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = "gone\n::stop-commands::tok.yaml";
    let policy = "p\r::add-mask::x.yaml";
    for args in [
        vec!["check", missing],
        vec!["check", "--policy", policy, "."],
        vec!["check", "--format", "xml\n::stop-commands::tok", "."],
        vec!["check", "--select", "X\n::error::y", "."],
        vec!["explain", "IMDS\n::stop-commands::tok"],
        vec!["migrate", missing],
    ] {
        let run = eksgate(&args)
            .current_dir(tmp.path())
            .env("GITHUB_ACTIONS", "true")
            .run();
        assert_eq!(run.code, 2, "{}: {}", run.shown, run.stderr);
        assert_no_command_but(&run, &[]);
        run.assert_no_panic();
    }
    // Outside Actions the same errors are one line each, control characters shown escaped.
    let run = eksgate(["check", missing]).current_dir(tmp.path()).run();
    assert_eq!(
        run.stderr,
        "eksgate: error: `gone\\n::stop-commands::tok.yaml`: No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_hostile_file_name_is_one_line_in_human_output() {
    let tmp = hostile_dir();
    let run = eksgate(["check", "."]).current_dir(tmp.path()).run();
    assert!(
        run.stdout.contains("--> a\\n::stop-commands::tok.yaml:5:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("optional\\n::stop-commands::tok"),
        "{}",
        run.stdout
    );
    assert_no_command_but(&run, &[]);
}

/// A JUnit report about hostile input is still read by a real JUnit parser (`junitparser`,
/// on Python's XML parser, which rejects any character XML 1.0 forbids).
#[test]
fn junit_with_control_characters_is_accepted_by_a_junit_parser() {
    let tmp = tempfile::tempdir().unwrap();
    let text = HOSTILE_NODE_CLASS.replace("::stop-commands::tok", "\\u0001\\u001b[2J\\u0000");
    fs::write(tmp.path().join("ctl\u{1}\n.yaml"), text).unwrap();
    let xml = tmp.path().join("out.xml");
    let run = eksgate([
        "check",
        "--report",
        &format!("junit={}", xml.display()),
        ".",
    ])
    .current_dir(tmp.path())
    .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let script = "import sys\nfrom junitparser import JUnitXml, Failure\nxml = JUnitXml.fromfile(sys.argv[1])\ncases = [c for s in xml for c in s]\nfailed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]\nprint(len(cases), len(failed))\nprint(failed[0].classname)\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&xml)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser rejected the report: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        fs::read_to_string(&xml).unwrap()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("1 1"), "{stdout}");
    assert_eq!(lines.next(), Some("ctl\\u{1}\\n.yaml"), "{stdout}");
}

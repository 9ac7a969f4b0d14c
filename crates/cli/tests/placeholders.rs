//! Templates (issue 13): placeholders are unknown values unless `--var`/`--vars-file` fill
//! them in, and then positions still point into the file as written; `--placeholders strict`
//! flags each one.

mod common;

use common::{diagnostics, eksgate, rule_lines};

const TEMPLATE: &str = "crates/cli/tests/fixtures/templates/nodeclass.yaml";
const VARS: &str = "crates/cli/tests/fixtures/templates/vars.yaml";

#[test]
fn an_unrendered_template_gets_no_verdict_on_its_placeholders() {
    let run = eksgate(["check", "--format", "json", TEMPLATE]).run();
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(diagnostics(&run.json()).is_empty(), "{}", run.stdout);
}

#[test]
fn strict_mode_reports_every_placeholder() {
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--placeholders",
        "strict",
        TEMPLATE,
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.transcript());
    let lines: Vec<u64> = rule_lines(&run.json())
        .into_iter()
        .filter(|(rule, _)| rule == "YAML005")
        .map(|(_, line)| line)
        .collect();
    assert_eq!(lines, [5, 7, 9, 10, 12, 13, 15], "{}", run.stdout);
}

#[test]
fn substituted_values_are_judged_at_their_placeholders_in_the_original() {
    // hop_limit 3 (from the ConfigMap) is above the default policy's 1, and the command line's
    // http_tokens wins over the default in `${http_tokens:=required}`.
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--vars-file",
        VARS,
        "--vars-file",
        "crates/cli/tests/fixtures/templates/configmap.yaml",
        "--var",
        "http_tokens=optional",
        TEMPLATE,
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.transcript());
    let report = run.json();
    let found: Vec<(String, u64, u64)> = diagnostics(&report)
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("IMDS001".to_string(), 12, 17),
            ("IMDS002".to_string(), 13, 30)
        ],
        "{}",
        run.stdout
    );
    // The code frame shows the file as written, not the substituted text.
    let human = eksgate([
        "check",
        "--color",
        "never",
        "--vars-file",
        VARS,
        "--var",
        "http_tokens=optional",
        TEMPLATE,
    ])
    .run();
    assert!(
        human
            .stdout
            .contains("httpTokens: ${http_tokens:=required}"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("much-longer"), "{}", human.stdout);
}

#[test]
fn a_defaulted_placeholder_takes_its_default_when_vars_are_given() {
    let run = eksgate(["check", "--format", "json", "--vars-file", VARS, TEMPLATE]).run();
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(diagnostics(&run.json()).is_empty(), "{}", run.stdout);
}

#[test]
fn bad_vars_are_clear_errors() {
    let run = eksgate(["check", "--var", "9x=1", TEMPLATE]).run();
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("`9x` is not a variable name"),
        "{}",
        run.stderr
    );
    let run = eksgate(["check", "--vars-file", TEMPLATE, TEMPLATE]).run();
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("nodeclass.yaml:5:3: a variable's value must be"),
        "{}",
        run.stderr
    );
    let run = eksgate(["check", "--vars-file", "missing.env", TEMPLATE]).run();
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("missing.env"), "{}", run.stderr);
    run.assert_no_panic();
}

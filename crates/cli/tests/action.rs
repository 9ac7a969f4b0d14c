//! The GitHub Action's `mode: check` step, run as the runner would: the `run:` script of
//! action.yml with its `env:` (inputs substituted the way Actions does), the built `eksgate` on
//! PATH, and a job summary file. The runner itself cannot run here; this is its contract.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use eksgate_policy::source::{Limits, load};
use eksgate_policy::{SourceFile, node::Node};

mod common;
use common::workspace_root;

struct Step {
    env: BTreeMap<String, String>,
    run: String,
}

/// The check step, with `${{ inputs.x }}` resolved from `inputs` or the input's default.
fn check_step(inputs: &[(&str, &str)]) -> Step {
    let text = std::fs::read_to_string(workspace_root().join("action.yml")).unwrap();
    let source = SourceFile::new("action.yml", text);
    let loaded = load(0, &source, &Limits::default());
    let root = &loaded.documents[0].root;
    let defaults: BTreeMap<String, String> = root
        .get("inputs")
        .unwrap()
        .entries()
        .iter()
        .map(|e| {
            let default = e
                .value
                .get("default")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            (e.key_str().unwrap().to_string(), default)
        })
        .collect();
    let step = root
        .path(&["runs", "steps"])
        .unwrap()
        .items()
        .iter()
        .find(|s| s.get("name").and_then(Node::as_str) == Some("eksgate check"))
        .expect("action.yml has an `eksgate check` step");
    let run = step.get("run").and_then(Node::as_str).unwrap().to_string();
    assert!(
        !run.contains("${{"),
        "inputs must reach the script through env:, never inline"
    );
    let env = step
        .get("env")
        .unwrap()
        .entries()
        .iter()
        .map(|e| {
            let raw = e.value.as_str().unwrap();
            let name = raw
                .trim_start_matches("${{ inputs.")
                .trim_end_matches(" }}")
                .to_string();
            let value = inputs
                .iter()
                .find(|(k, _)| *k == name)
                .map_or_else(|| defaults[&name].clone(), |(_, v)| (*v).to_string());
            (e.key_str().unwrap().to_string(), value)
        })
        .collect();
    Step { env, run }
}

fn run_step(step: &Step, cwd: &Path, summary: &Path) -> (i32, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_eksgate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&step.run)
        .envs(&step.env)
        .env("PATH", path)
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("GITHUB_ACTIONS", "true")
        .env_remove("EKSGATE_POLICY")
        .env_remove("EKSGATE_FORMAT")
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_mode_annotates_summarises_and_writes_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let sarif = tmp.path().join("eksgate.sarif");
    let step = check_step(&[
        ("paths", "examples/broken/imds.yaml\nexamples/platform\n"),
        ("sarif-file", sarif.to_str().unwrap()),
    ]);
    let (code, stdout, stderr) = run_step(&step, &workspace_root(), &summary);
    assert_eq!(code, 1, "findings fail the step\n{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=examples/broken/imds.yaml,line=")),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n### eksgate"),
        "the summary is appended: {summary}"
    );
    assert!(summary.contains("`IMDS001`"));
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn check_mode_passes_on_a_compliant_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let step = check_step(&[("paths", "examples/platform")]);
    let (code, stdout, stderr) = run_step(&step, &workspace_root(), &summary);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains("::error"), "{stdout}");
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("No findings")
    );
}

#[test]
fn check_mode_takes_a_policy_and_fail_on() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let step = check_step(&[
        ("paths", "examples/broken/yaml11.yaml"),
        ("fail-on", "never"),
        ("summary", "false"),
        ("policy", "policies/default.yaml"),
    ]);
    let (code, stdout, _) = run_step(&step, &workspace_root(), &summary);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("::warning"), "{stdout}");
    assert!(!summary.exists());
}

//! `eksgate render` through the built binary: every example request renders into a set that
//! `eksgate check` passes with the same policy, byte for byte the same each time; existing files
//! are never replaced without `--force`; a request with errors renders nothing.

mod common;

use std::path::Path;

use common::{eksgate, workspace_root};

fn requests() -> Vec<String> {
    let dir = workspace_root().join("examples/requests");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/requests exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("examples/requests/{n}"))
        .collect();
    out.sort();
    assert!(out.len() >= 2, "{out:?}");
    out
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("below")
                    .to_string_lossy()
                    .into_owned();
                out.push((name, std::fs::read(&path).expect("readable")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_request_renders_a_set_that_passes_check() {
    for request in requests() {
        let temp = tempfile::tempdir().expect("temp dir");
        let out = temp.path().join("out");
        let run = eksgate(["render", &request, "-o", &shown(&out)]).run();
        assert_eq!(run.code, 0, "{}", run.transcript());
        assert!(
            run.stdout.contains("a ceiling, not a forecast"),
            "{}",
            run.transcript()
        );
        let written = files(&out);
        assert!(
            written.iter().any(|(n, _)| n == "deploy.yaml"),
            "{written:?}"
        );
        assert!(written.iter().any(|(n, _)| n == "terraform.tfvars.json"));
        let check = eksgate([
            "check",
            "--format",
            "json",
            "--fail-on",
            "warning",
            &shown(&out),
        ])
        .run();
        assert_eq!(check.code, 0, "{request}: {}", check.transcript());
        let report = check.json();
        assert_eq!(report["summary"]["errors"], 0);
        assert_eq!(report["summary"]["warnings"], 0);

        // The same bytes every time; and nothing replaced without --force.
        let again = temp.path().join("again");
        let run = eksgate(["render", &request, "-o", &shown(&again)]).run();
        assert_eq!(run.code, 0, "{}", run.transcript());
        assert_eq!(files(&again), written, "{request}: not deterministic");
        let plan = out.join("deploy.yaml");
        std::fs::write(&plan, "mine\n").expect("writable");
        let run = eksgate(["render", &request, "-o", &shown(&out)]).run();
        assert_eq!(run.code, 2, "{}", run.transcript());
        assert!(run.stderr.contains("--force"), "{}", run.transcript());
        assert_eq!(std::fs::read_to_string(&plan).expect("readable"), "mine\n");
        let run = eksgate(["render", "--force", &request, "-o", &shown(&out)]).run();
        assert_eq!(run.code, 0, "{}", run.transcript());
        assert_eq!(files(&out), written);
    }
}

#[test]
fn a_request_with_errors_renders_nothing_and_says_where() {
    let temp = tempfile::tempdir().expect("temp dir");
    let out = temp.path().join("out");
    let run = eksgate([
        "render",
        "examples/broken/cluster-request.yaml",
        "-o",
        &shown(&out),
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("examples/broken/cluster-request.yaml:18:13"),
        "{}",
        run.transcript()
    );
    assert!(run.stderr.contains("REQ001") && run.stderr.contains("TAG002"));
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn a_spot_only_infra_pool_is_refused_with_the_policys_message() {
    let temp = tempfile::tempdir().expect("temp dir");
    let example =
        std::fs::read_to_string(workspace_root().join("examples/requests/acme-prod.yaml"))
            .expect("example request");
    let spot = example.replacen("capacityTypes: [on-demand]", "capacityTypes: [spot]", 1);
    assert_ne!(
        spot, example,
        "the example's infra pool lists its capacity types"
    );
    let request = temp.path().join("spot.yaml");
    std::fs::write(&request, spot).expect("write request");
    let out = temp.path().join("out");
    let run = eksgate(["render", &shown(&request), "-o", &shown(&out)]).run();
    assert_eq!(run.code, 1, "{}", run.transcript());
    // On the request's own line (16: `capacityTypes: [spot]`), with SEP003's message.
    assert!(run.stderr.contains("spot.yaml:16:"), "{}", run.transcript());
    assert!(run.stderr.contains("SEP003"), "{}", run.transcript());
    assert!(
        run.stderr.contains("the policy allows only `on-demand`"),
        "{}",
        run.transcript()
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn a_custom_policy_changes_the_render_and_the_verdict() {
    let temp = tempfile::tempdir().expect("temp dir");
    let policy = temp.path().join("policy.yaml");
    // The client's cost centre must be `acme-apps`: the example's `client-projects` is refused,
    // on the request's line.
    let text = std::fs::read_to_string(workspace_root().join("policies/default.yaml"))
        .expect("default policy")
        .replace(
            "cost-center: {allowed: [client-projects]}",
            "cost-center: {allowed: [acme-apps]}",
        );
    std::fs::write(&policy, text).expect("writable");
    let run = eksgate([
        "render",
        "--policy",
        &shown(&policy),
        "examples/requests/acme-prod.yaml",
        "-o",
        &shown(&temp.path().join("out")),
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("TAG002"), "{}", run.transcript());
    assert!(
        run.stderr.contains("examples/requests/acme-prod.yaml:35:"),
        "{}",
        run.transcript()
    );
}

/// The rendered DeployPlan is one `eksgate deploy` reads, with the staged order, and its policy
/// gate passes the rendered manifests; the tfvars are JSON.
#[cfg(feature = "deploy")]
#[test]
fn the_rendered_plan_runs_as_a_dry_run() {
    for request in requests() {
        let temp = tempfile::tempdir().expect("temp dir");
        let out = temp.path().join("out");
        let run = eksgate(["render", &request, "-o", &shown(&out)]).run();
        assert_eq!(run.code, 0, "{}", run.transcript());
        let plan = shown(&out.join("deploy.yaml"));
        let run = eksgate(["deploy", "--plan", &plan, "--dry-run"]).run();
        assert_eq!(run.code, 0, "{}", run.transcript());
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(text.contains("5 of 5 stages"), "{text}");
        assert!(text.contains("0 error(s), 0 warning(s) - passed"), "{text}");
        let order: Vec<usize> = ["`network`", "`cluster`", "`crds`", "`node-pools`", "`apps`"]
            .iter()
            .map(|s| {
                text.find(s)
                    .unwrap_or_else(|| panic!("no stage {s}: {text}"))
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        let vars: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("terraform.tfvars.json")).expect("written"),
        )
        .expect("tfvars are JSON");
        assert!(vars["cluster_name"].is_string());
    }
}

//! Deploy ordering end to end with the built binary: Flux, Argo CD and Terraform repositories
//! walked from a directory, findings at their exact positions, suppression, and `eksgate graph`
//! in its three formats. The repositories are the policy core's fixture cases.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::fs;
use std::path::Path;

use common::{diagnostics, eksgate, workspace_root};

fn case(rule: &str, outcome: &str, name: &str) -> std::path::PathBuf {
    workspace_root().join(format!(
        "crates/policy/tests/fixtures/{rule}/{outcome}/{name}"
    ))
}

/// A copy of a fixture case to edit.
fn copy_case(rule: &str, outcome: &str, name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&case(rule, outcome, name), dir.path());
    dir
}

fn positions(report: &serde_json::Value, rule: &str) -> Vec<(String, u64, u64)> {
    diagnostics(report)
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_seed_layout_fails_at_the_kind_of_each_custom_resource() {
    let out = eksgate(["check", "--format", "json", "."])
        .current_dir(case(
            "ORD001",
            "fail",
            "seed-flux-system-applies-chart-and-pools",
        ))
        .run();
    out.assert_no_panic();
    assert_eq!(out.code, 1, "{}", out.transcript());
    let report = out.json();
    assert_eq!(
        positions(&report, "ORD001"),
        vec![
            ("clusters/my-cluster/nodepools.yaml".to_string(), 2, 7),
            ("clusters/my-cluster/nodepools.yaml".to_string(), 30, 7),
        ]
    );
    let first = diagnostics(&report)
        .iter()
        .find(|d| d["rule"] == "ORD001")
        .unwrap();
    assert_eq!(first["path"], "/kind");
    assert_eq!(first["kind"], "NodePool");
}

#[test]
fn the_fixed_layout_and_the_upstream_example_are_silent() {
    let out = eksgate(["check", "."])
        .current_dir(case(
            "ORD001",
            "pass",
            "seed-fixed-controllers-then-configs",
        ))
        .run();
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = eksgate([
        "check",
        "--policy",
        "policy.yaml",
        "--exclude",
        "policy.yaml",
        ".",
    ])
    .current_dir(case("ORD001", "pass", "flux2-kustomize-helm-example"))
    .run();
    assert_eq!(out.code, 0, "{}", out.transcript());
}

#[test]
fn ordering_findings_are_suppressed_like_any_other() {
    // ORD002 points at the dependsOn entry: a comment on the line above silences it.
    let dir = copy_case("ORD002", "fail", "controllers-without-wait");
    let path = dir.path().join("clusters/prod/infrastructure.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "    - name: infra-controllers\n",
        "    # eksgate:ignore ORD002 the CRDs are baked into our cluster image\n    - name: infra-controllers\n",
        1,
    );
    fs::write(&path, text).unwrap();
    let out = eksgate(["check", "--format", "json", "."])
        .current_dir(dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert_eq!(out.json()["summary"]["suppressed"], 1);

    // ORD001 points at the object: its annotation silences it.
    let dir = copy_case("ORD001", "fail", "configs-without-depends-on");
    let path = dir.path().join("infrastructure/configs/nodepools.yaml");
    let text = fs::read_to_string(&path).unwrap().replacen(
        "metadata:\n  name: apps\nspec:\n  template:",
        "metadata:\n  name: apps\n  annotations:\n    eksgate.dev/ignore: \"ORD001: applied by hand after bootstrap\"\nspec:\n  template:",
        1,
    );
    fs::write(&path, text).unwrap();
    let out = eksgate(["check", "--format", "json", "."])
        .current_dir(dir.path())
        .run();
    let report = out.json();
    assert_eq!(
        positions(&report, "ORD001"),
        vec![("infrastructure/configs/nodepools.yaml".to_string(), 32, 7)],
        "{}",
        out.stdout
    );
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn terraform_source_is_walked_and_tf001_points_at_the_manifest() {
    let out = eksgate(["check", "--format", "github", "."])
        .current_dir(case(
            "TF001",
            "fail",
            "manifest-inside-the-local-eks-module",
        ))
        .run();
    out.assert_no_panic();
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout.starts_with(
            "::error file=modules/eks/karpenter.tf,line=2,col=3,endLine=2,endColumn=11,title=eksgate TF001"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("module.eks.kubernetes_manifest.nodepool_infra_services"),
        "{}",
        out.stdout
    );
    let out = eksgate(["check", "."])
        .current_dir(case("TF001", "pass", "eks-module-and-kubectl-manifest"))
        .run();
    assert_eq!(out.code, 0, "{}", out.transcript());
}

#[test]
fn graph_prints_the_apply_order_per_cluster() {
    let out = eksgate([
        "graph",
        "--policy",
        "policy.yaml",
        "--exclude",
        "policy.yaml",
    ])
    .current_dir(case("ORD001", "pass", "flux2-kustomize-helm-example"))
    .run();
    out.assert_no_panic();
    assert_eq!(out.code, 0, "{}", out.transcript());
    let steps: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("Kustomization "))
        .map(str::trim)
        .collect();
    assert_eq!(
        steps,
        vec![
            "1  Kustomization flux-system/infra-controllers  (waits)",
            "2  Kustomization flux-system/infra-configs  after flux-system/infra-controllers",
            "3  Kustomization flux-system/apps  (waits)  after flux-system/infra-configs",
            "1  Kustomization flux-system/infra-controllers  (waits)",
            "2  Kustomization flux-system/infra-configs  after flux-system/infra-controllers",
            "3  Kustomization flux-system/apps  (waits)  after flux-system/infra-configs",
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("clusters/production\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("installs CRDs: HelmRelease cert-manager/cert-manager of chart cert-manager")
    );
}

#[test]
fn graph_marks_findings_in_text_mermaid_and_dot() {
    let dir = case("ORD004", "fail", "app-of-apps-same-wave");
    let text = eksgate(["graph"]).current_dir(&dir).run();
    assert_eq!(text.code, 0, "{}", text.transcript());
    assert!(
        text.stdout
            .contains("! ORD004: `NodePool` `apps` is synced by Application `node-pools` (wave 0)"),
        "{}",
        text.stdout
    );
    let mermaid = eksgate(["graph", "--format", "mermaid"])
        .current_dir(&dir)
        .run();
    assert!(
        mermaid.stdout.starts_with("```mermaid\nflowchart TD\n"),
        "{}",
        mermaid.stdout
    );
    assert!(
        mermaid.stdout.contains("⚠ ORD004 (2)"),
        "{}",
        mermaid.stdout
    );
    assert!(mermaid.stdout.contains(" -.-> "), "{}", mermaid.stdout);
    let dot = eksgate(["graph", "--format", "dot"])
        .current_dir(&dir)
        .run();
    assert!(
        dot.stdout.starts_with("digraph eksgate {"),
        "{}",
        dot.stdout
    );
    assert!(dot.stdout.contains("color=red"), "{}", dot.stdout);
}

#[test]
fn graph_labels_carry_no_markup_from_names() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("ks.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: 'x\"]; click n0 \"https://evil\"; %%<b>'\n  namespace: flux-system\nspec:\n  path: ./\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
    )
    .unwrap();
    let mermaid = eksgate(["graph", "--format", "mermaid", "."])
        .current_dir(dir.path())
        .run();
    assert_eq!(mermaid.code, 0, "{}", mermaid.transcript());
    let label = mermaid
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("n0["))
        .unwrap();
    assert!(
        !label.contains("<b>") && !label.contains("\"]; click"),
        "{label}"
    );
    assert_eq!(label.matches('"').count(), 2, "{label}");
    let dot = eksgate(["graph", "--format", "dot", "."])
        .current_dir(dir.path())
        .run();
    let label = dot
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("n0 "))
        .unwrap();
    assert!(
        label.contains("x\\\"]; click n0 \\\"https://evil\\\""),
        "{label}"
    );
}

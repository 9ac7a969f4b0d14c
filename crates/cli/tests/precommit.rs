//! The pre-commit hook, through the real `pre-commit` framework (PyPI) in a throw-away git
//! repository: a commit with a bad NodePool is blocked and shows the finding; a good one passes.
//! scripts/test.sh installs `pre-commit`; the hook repository is this checkout at HEAD.

mod common;

use std::path::Path;
use std::process::Command;

use common::workspace_root;

fn run(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let root = workspace_root();
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", dir.join(".cache-pre-commit"))
        // Reuse compiled dependencies across runs; the hook builds into this directory.
        .env("CARGO_TARGET_DIR", root.join("target/pre-commit-hook"))
        .env("GIT_AUTHOR_NAME", "eksgate test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "eksgate test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env_remove("EKSGATE_POLICY")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}`: {e} (scripts/test.sh installs pre-commit)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

const BAD_POOL: &str = "\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: infra
spec:
  template:
    metadata:
      labels: {node-type: infrastructure}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
      requirements: []
  limits: {cpu: \"64\"}
  disruption:
    consolidateAfter: 5m
    budgets: [{nodes: \"1\"}]
";

#[test]
fn pre_commit_blocks_a_bad_node_pool_and_lets_a_good_one_through() {
    let root = workspace_root();
    let (ok, head) = run(&root, "git", &["rev-parse", "HEAD"]);
    assert!(ok, "the hook repository must be a git checkout: {head}");
    let head = head.trim().to_string();

    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    assert!(run(repo, "git", &["init", "-q", "-b", "main"]).0);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {head}\n    hooks:\n      - id: eksgate-build\n",
        root.display()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    let (ok, out) = run(repo, "pre-commit", &["install"]);
    assert!(ok, "pre-commit install failed: {out}");

    // A NodePool labelled infrastructure without the infra taint: SEP001.
    std::fs::write(repo.join("pool.yaml"), BAD_POOL).unwrap();
    assert!(run(repo, "git", &["add", "."]).0);
    let (committed, out) = run(repo, "git", &["commit", "-q", "-m", "add infra pool"]);
    assert!(!committed, "the commit should have been blocked:\n{out}");
    assert!(
        out.contains("SEP001"),
        "the finding should be shown:\n{out}"
    );
    assert!(out.contains("pool.yaml:"), "with its file and line:\n{out}");

    let fixed = BAD_POOL.replace(
        "      requirements: []\n",
        "      requirements: []\n      taints: [{key: workload-type, value: infrastructure, effect: NoSchedule}]\n",
    );
    std::fs::write(repo.join("pool.yaml"), fixed).unwrap();
    assert!(run(repo, "git", &["add", "."]).0);
    let (committed, out) = run(repo, "git", &["commit", "-q", "-m", "add infra pool"]);
    assert!(committed, "a compliant pool should commit:\n{out}");
}

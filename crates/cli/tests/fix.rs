//! `eksgate check --fix`, `--diff` and `--unsafe-fixes` end to end: `--diff` prints a unified
//! diff, writes nothing and exits 1 when there are fixes; `--fix` rewrites the file (comments
//! and CRLF kept), reports what remains with ruff's summary, and the fixes show in JSON.
#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    reason = "end-to-end tests read and write files and run the binary"
)]

mod common;

use std::fs;

use common::eksgate;

const CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\r
kind: EC2NodeClass\r
metadata:\r
  name: apps # client capacity\r
spec:\r
  role: KarpenterNodeRole-demo\r
  amiSelectorTerms: [{alias: al2023@v20240807}]\r
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]\r
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]\r
  metadataOptions: {httpTokens: optional}\r
  blockDeviceMappings:\r
    - deviceName: /dev/xvda\r
      ebs:\r
        volumeSize: 100Gi\r
        encrypted: false # TODO\r
---\r
apiVersion: karpenter.sh/v1\r
kind: NodePool\r
metadata:\r
  name: infra\r
spec:\r
  template:\r
    spec:\r
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}\r
      requirements: []\r
  limits: {cpu: 10}\r
";

#[test]
fn diff_writes_nothing_and_fix_rewrites_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("class.yaml");
    fs::write(&file, CLASS).unwrap();

    let diff = eksgate(["check", "--diff", "class.yaml"])
        .current_dir(dir.path())
        .run();
    diff.assert_no_panic();
    assert_eq!(diff.code, 1, "{}", diff.transcript());
    assert!(
        diff.stdout
            .starts_with("--- a/class.yaml\n+++ b/class.yaml\n"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("-  metadataOptions: {httpTokens: optional}\r\n+  metadataOptions: {httpTokens: required}\r\n"), "{}", diff.stdout);
    assert!(
        diff.stderr.contains("2 would be fixed in 1 file"),
        "{}",
        diff.stderr
    );
    assert!(
        diff.stderr.contains("more with --unsafe-fixes)"),
        "{}",
        diff.stderr
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        CLASS,
        "--diff wrote the file"
    );

    // A plain check says what --fix would do.
    let plain = eksgate(["check", "class.yaml"])
        .current_dir(dir.path())
        .run();
    assert!(
        plain
            .stderr
            .contains("2 fixable with `--fix` (2 more with `--unsafe-fixes`)"),
        "{}",
        plain.stderr
    );

    // JSON offers the same fixes, with edits.
    let json = eksgate(["check", "--format", "json", "class.yaml"])
        .current_dir(dir.path())
        .run()
        .json();
    let imds = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "IMDS001")
        .unwrap();
    assert_eq!(imds["fix"]["applicability"], "safe");
    let edit = &imds["fix"]["edits"][0];
    assert_eq!(edit["replacement"], "required");
    let start = edit["start"]["offset"].as_u64().unwrap() as usize;
    let end = edit["end"]["offset"].as_u64().unwrap() as usize;
    assert_eq!(&CLASS[start..end], "optional");
    assert_eq!(edit["start"]["line"], 10);

    let fixed = eksgate(["check", "--fix", "--unsafe-fixes", "class.yaml"])
        .current_dir(dir.path())
        .run();
    fixed.assert_no_panic();
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("  metadataOptions: {httpTokens: required}\r\n"),
        "{text}"
    );
    assert!(
        text.contains("        encrypted: true # TODO\r\n"),
        "{text}"
    );
    assert!(text.contains("name: apps # client capacity\r\n"), "{text}");
    assert!(
        text.contains(
            "taints: [{key: workload-type, value: infrastructure, effect: NoSchedule}]\r\n"
        ),
        "{text}"
    );
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a bare LF: {text:?}"
    );
    assert!(
        fixed.stderr.contains("fixed in 1 file"),
        "{}",
        fixed.transcript()
    );
    assert!(
        !fixed.stderr.contains("--unsafe-fixes)"),
        "{}",
        fixed.stderr
    );

    // Nothing left to fix: --diff prints nothing and exits 0.
    let again = eksgate(["check", "--diff", "--unsafe-fixes", "class.yaml"])
        .current_dir(dir.path())
        .run();
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert_eq!(again.stdout, "");
}

#[test]
fn standard_input_is_not_fixed_in_place() {
    let out = eksgate(["check", "--fix", "-"]).stdin(CLASS).run();
    out.assert_no_panic();
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("use `--diff`"), "{}", out.stderr);
    let diff = eksgate(["check", "--diff", "-"]).stdin(CLASS).run();
    assert_eq!(diff.code, 1, "{}", diff.transcript());
    assert!(
        diff.stdout
            .contains("+  metadataOptions: {httpTokens: required}"),
        "{}",
        diff.stdout
    );
}

//! `--fix` round trips: every fix, applied alone, changes only the bytes of its edits, keeps
//! the file readable and makes its finding go away; `check_and_fix` over whole files (block and
//! flow style, JSON, CRLF, several documents) leaves no finding a fix was offered for.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use eksgate_policy::autofix::check_and_fix;
use eksgate_policy::fix::{Applicability, apply};
use eksgate_policy::{CheckOptions, Input, Policy, Report, check};

const CLASS_BLOCK: &str = "\
# the platform's class
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: infra # shared
spec:
  role: KarpenterNodeRole-demo
  detailedMonitoring: \"true\"
  amiSelectorTerms: [{alias: al2023@v20240807}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  metadataOptions:
    httpTokens: 'optional' # legacy agent
    httpPutResponseHopLimit: 3
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 100Gi
        encrypted: false
    - deviceName: /dev/xvdb
      ebs: {volumeSize: 20Gi, encrypted: \"true\"}
    - deviceName: /dev/xvdc
      ebs:
        volumeSize: 20Gi
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: infra
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
      requirements: []
      taints:
        - {key: team, value: x, effect: NoSchedule}
  limits: {cpu: 100}
";

const CLASS_FLOW: &str = "apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: flow}
spec: {role: r, amiSelectorTerms: [{alias: al2023@v20240807}], subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}], metadataOptions: {httpEndpont: enabled, httpTokens: optional}, blockDeviceMappings: [{deviceName: /dev/xvda, ebs: {volumeSize: 20Gi}}]}
";

const CLASS_V1BETA1: &str = "apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata:
  name: old
spec:
  amiFamily: AL2023
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
";

const POOL_JSON: &str = r#"{
  "apiVersion": "karpenter.sh/v1",
  "kind": "NodePool",
  "metadata": {
    "name": "infra-json"
  },
  "spec": {
    "template": {
      "spec": {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "infra"},
        "requirements": []
      }
    },
    "limits": {"cpu": 10}
  }
}
"#;

fn policy() -> Policy {
    Policy::default_policy().unwrap()
}

fn run(name: &str, text: &str) -> Report {
    check(
        vec![Input::text(name, text)],
        &policy(),
        &CheckOptions::default(),
    )
}

fn cases() -> Vec<(&'static str, String)> {
    vec![
        ("block.yaml", CLASS_BLOCK.to_string()),
        ("crlf.yaml", CLASS_BLOCK.replace('\n', "\r\n")),
        ("flow.yaml", CLASS_FLOW.to_string()),
        ("old.yaml", CLASS_V1BETA1.to_string()),
        ("pool.json", POOL_JSON.to_string()),
    ]
}

/// Each fix alone: only its bytes change, the result reads, and its finding is gone.
#[test]
fn every_fix_alone_changes_only_its_bytes_and_removes_its_finding() {
    let mut fixes = 0;
    let mut rules = std::collections::BTreeSet::new();
    for (name, text) in cases() {
        let report = run(name, &text);
        for d in report.diagnostics.iter().filter(|d| d.fix.is_some()) {
            let fix = d.fix.as_ref().unwrap();
            let fixed = apply(&text, &fix.edits).unwrap();
            // Bytes outside the edits are the original's, in order.
            let mut pos = 0;
            let mut rebuilt = String::new();
            for e in &fix.edits {
                rebuilt.push_str(&text[pos..e.span.start]);
                rebuilt.push_str(&e.replacement);
                pos = e.span.end;
            }
            rebuilt.push_str(&text[pos..]);
            assert_eq!(fixed, rebuilt);
            if name == "crlf.yaml" {
                assert!(
                    !fixed.replace("\r\n", "").contains('\n'),
                    "{name}: a bare LF in {fixed:?}"
                );
            }
            let after = run(name, &fixed);
            assert!(
                !after.diagnostics.iter().any(|a| a.rule == "YAML001"),
                "{name}: {} broke the file:\n{fixed}",
                d.rule
            );
            assert!(
                !after
                    .diagnostics
                    .iter()
                    .any(|a| a.rule == d.rule && a.pointer == d.pointer && a.message == d.message),
                "{name}: `{}` ({}) still reported after its fix:\n{fixed}",
                d.message,
                d.rule
            );
            assert_eq!(after.summary.documents, report.summary.documents);
            fixes += 1;
            rules.insert(d.rule.to_string());
        }
    }
    for rule in [
        "IMDS001", "IMDS002", "ENC001", "SCH001", "SCH002", "SEP001", "SEP002",
    ] {
        assert!(
            rules.contains(rule),
            "no fix of {rule} was exercised: {rules:?}"
        );
    }
    assert!(fixes >= 12, "{fixes}");
}

#[test]
fn check_and_fix_leaves_nothing_fixable_and_keeps_comments() {
    for (name, text) in cases() {
        let run = check_and_fix(
            vec![Input::text(name, text.as_str())],
            &policy(),
            &CheckOptions::default(),
            true,
        );
        assert!(run.rejected.is_empty(), "{name}: {:?}", run.rejected);
        assert!(
            run.report.diagnostics.iter().all(|d| d.fix.is_none()),
            "{name}: still fixable: {:?}",
            run.report
                .diagnostics
                .iter()
                .filter(|d| d.fix.is_some())
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        );
        assert!(run.fixed_count() > 0, "{name}");
        let fixed = run.texts[0].as_deref().unwrap();
        for comment in ["# the platform's class", "# shared", "# legacy agent"] {
            assert_eq!(text.contains(comment), fixed.contains(comment), "{name}");
        }
    }
}

#[test]
fn unsafe_fixes_wait_for_the_flag() {
    let text = cases()[0].1.clone();
    let safe = check_and_fix(
        vec![Input::text("block.yaml", text.as_str())],
        &policy(),
        &CheckOptions::default(),
        false,
    );
    let fixed = safe.texts[0].as_deref().unwrap();
    assert!(
        fixed.contains("httpTokens: 'required' # legacy agent"),
        "{fixed}"
    );
    assert!(fixed.contains("httpPutResponseHopLimit: 1\n"), "{fixed}");
    assert!(
        fixed.contains("ebs: {volumeSize: 20Gi, encrypted: true}"),
        "{fixed}"
    );
    assert!(
        !fixed.contains("workload-type"),
        "the taint is an unsafe fix:\n{fixed}"
    );
    assert!(safe.fixable(Applicability::Unsafe) >= 2);
    assert!(safe.fixed.keys().all(|r| !r.starts_with("SEP")));
    // Nothing changed: no text.
    let clean = check_and_fix(
        vec![Input::text("clean.yaml", fixed)],
        &policy(),
        &CheckOptions::default(),
        false,
    );
    assert_eq!(clean.texts, vec![None]);
    assert_eq!(clean.fixed_count(), 0);
}

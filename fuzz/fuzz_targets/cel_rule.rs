//! Any text as the CEL expression of a policy's custom rule and as a CRD-style rule's message
//! expression: the Pratt parser, the macro expansion and depth checks of `cel/program.rs`, the
//! reference check, and evaluation against a NodePool. A compile error is fine; a panic, a stack
//! overflow or a hang is not.
#![no_main]

use eksgate_policy::{CheckOptions, Input, Limits, Policy, SourceFile, check};
use libfuzzer_sys::fuzz_target;

const POOL: &str = "apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: apps, labels: {team: a}}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
      requirements:
        - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
  limits: {cpu: 100}
";

fuzz_target!(|data: &[u8]| {
    let expression = String::from_utf8_lossy(data);
    let Ok(literal) = serde_json::to_string(&expression) else {
        return;
    };
    let text = format!(
        "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nmetadata: {{name: fuzz}}\nspec:\n  rules:\n    - id: FUZZ001\n      expression: {literal}\n      messageExpression: {literal}\n"
    );
    let Ok(source) = SourceFile::from_bytes("policy.yaml", text.into_bytes(), &Limits::default()) else {
        return;
    };
    let Ok(policy) = Policy::from_source(&source) else {
        return;
    };
    let _ = check(vec![Input::text("pool.yaml", POOL.to_string())], &policy, &CheckOptions::default());
});

//! Findings whose message, help, file name and object name are arbitrary text, in every format.
#![no_main]
mod common;

use eksgate_policy::{CheckOptions, Input, Policy, check};
use libfuzzer_sys::fuzz_target;

const NODE_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: x\nspec:\n  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: s}]\n  securityGroupSelectorTerms: [{id: g}]\n  metadataOptions: {httpTokens: optional}\n";

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::default_policy() else {
        return;
    };
    let text = String::from_utf8_lossy(data).into_owned();
    let mut parts = text.splitn(3, '\u{0}');
    let (name, message, help) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut report = check(
        vec![Input::text(name.to_string(), NODE_CLASS)],
        &policy,
        &CheckOptions::default(),
    );
    for d in &mut report.diagnostics {
        d.message = message.to_string();
        d.help = Some(help.to_string());
        d.name = Some(name.to_string());
    }
    common::render_all(&report);
});

//! Any text as the `yaml_body` of a `kubectl_manifest` in a `terraform show -json` plan: the
//! embedded parse, the position mapping through JSON escapes, every rule and renderer.
#![no_main]
mod common;

use eksgate_policy::{CheckOptions, Input, Policy, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::default_policy() else {
        return;
    };
    let body = String::from_utf8_lossy(data);
    let Ok(literal) = serde_json::to_string(&body) else {
        return;
    };
    let plan = format!(
        "{{\"format_version\":\"1.2\",\"planned_values\":{{\"root_module\":{{\"resources\":[{{\"address\":\"kubectl_manifest.x\",\"type\":\"kubectl_manifest\",\"values\":{{\"yaml_body\":{literal}}}}}]}}}}}}"
    );
    let report = check(vec![Input::text("plan.json", plan)], &policy, &CheckOptions::default());
    common::render_all(&report);
});

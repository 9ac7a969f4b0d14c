//! Any bytes as a YAML or JSON file: parse, every rule, every renderer.
#![no_main]
mod common;

use eksgate_policy::{CheckOptions, Input, Limits, Policy, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::default_policy() else {
        return;
    };
    let input = Input::bytes("fuzz.yaml", data.to_vec(), &Limits::default());
    let report = check(vec![input], &policy, &CheckOptions::default());
    common::render_all(&report);
});

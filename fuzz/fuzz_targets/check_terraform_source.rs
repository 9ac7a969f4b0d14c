//! Any bytes as a Terraform `.tf` file: HCL, embedded manifests, the ordering model.
#![no_main]
mod common;

use eksgate_policy::{CheckOptions, Input, Limits, Policy, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::default_policy() else {
        return;
    };
    let input = Input::bytes("main.tf", data.to_vec(), &Limits::default());
    let report = check(vec![input], &policy, &CheckOptions::default());
    common::render_all(&report);
});

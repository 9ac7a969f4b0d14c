//! Any bytes through `eksgate migrate`: the converted text must parse again.
#![no_main]

use eksgate_policy::migrate;
use eksgate_policy::{CheckOptions, Input, Limits, Policy, SourceFile, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = SourceFile::from_bytes("fuzz.yaml", data.to_vec(), &Limits::default()) else {
        return;
    };
    let migration = migrate::to_v1(&source);
    if migration.text == *source.text {
        return;
    }
    let Ok(policy) = Policy::default_policy() else {
        return;
    };
    let before = check(vec![Input::text("a", source.text.to_string())], &policy, &CheckOptions::default());
    let after = check(vec![Input::text("b", migration.text.clone())], &policy, &CheckOptions::default());
    let unparsable = |r: &eksgate_policy::Report| r.diagnostics.iter().any(|d| d.rule == "YAML001");
    assert!(
        unparsable(&before) || !unparsable(&after),
        "migrate turned a readable file into an unreadable one"
    );
});

//! Any text as a Go regular expression (`crates/policy/src/re2.rs`): the translation to the
//! regex crate's syntax, its compilation within the bounds, and matches on a few texts. An
//! error is fine; a panic, a hang or an allocation out of proportion is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pattern = String::from_utf8_lossy(data);
    if let Ok(re) = eksgate_policy::re2::compile(&pattern) {
        for text in ["", "a", "aé λ_1", "{x}", "[&~]", "\n\u{212A}"] {
            let _ = re.find(text);
        }
    }
});

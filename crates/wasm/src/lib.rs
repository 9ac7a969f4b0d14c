//! eksgate for JavaScript: the policy engine compiled to WebAssembly, behind a JSON API.
//!
//! ```js
//! const eksgate = require("./eksgate_wasm.js");           // wasm-bindgen --target nodejs
//! const report = JSON.parse(eksgate.check(yamlText));     // the default policy
//! const custom = JSON.parse(eksgate.check(yamlText, policyText));
//! const rules = JSON.parse(eksgate.rules());
//! ```
//!
//! `check` returns the JSON of `eksgate check --format json` (`{"version": 1, "diagnostics":
//! [...], "summary": {...}}`), or `{"version": 1, "error": {...}}` when the policy cannot be
//! used. Everything is in `eksgate_policy::ffi`, which native tests cover too.

use wasm_bindgen::prelude::wasm_bindgen;

/// Checks manifests (YAML or JSON text) against a policy file's text, or the default policy.
#[wasm_bindgen]
#[must_use]
pub fn check(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::check(text, policy.as_deref())
}

/// Checks a `ClusterRequest` (the form's text) against a policy, or the default policy: the
/// JSON of `{findings: [{pointer, rule, severity, message, line, column, help?}], errors}`
/// (README.md beside this crate).
#[wasm_bindgen(js_name = validateRequest)]
#[must_use]
pub fn validate_request(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::validate_request(text, policy.as_deref())
}

/// Renders a `ClusterRequest`: the JSON of `{files: [{name, content}], report, spend,
/// findings, errors}`, the same files `eksgate render` writes (README.md beside this crate).
#[wasm_bindgen]
#[must_use]
pub fn render(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::render_request(text, policy.as_deref())
}

/// Every built-in rule with its documentation, as a JSON array.
#[wasm_bindgen]
#[must_use]
pub fn rules() -> String {
    eksgate_policy::ffi::rules()
}

/// The version of eksgate this module was built from.
#[wasm_bindgen]
#[must_use]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegates_to_the_ffi_api() {
        let out = check(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            None,
        );
        assert!(out.contains("\"version\": 1"));
        assert!(rules().contains("CEL001"));
        assert!(!version().is_empty());
        assert!(validate_request("kind: X\n", None).contains("\"errors\""));
        assert!(render("kind: X\n", None).contains("\"files\": []"));
    }
}

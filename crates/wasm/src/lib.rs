//! eksgate for JavaScript: the policy engine compiled to WebAssembly, behind a JSON API.
//!
//! ```js
//! import init, { check, rules, version } from "eksgate-wasm";   // --target web (await init())
//! const files = [{ name: "k8s/pools.yaml", text: yamlText },
//!                { name: "k8s/classes.yaml", bytes: new Uint8Array(buffer) }];
//! const report = JSON.parse(check(files));                 // the default policy
//! const custom = JSON.parse(check(files, policyText));
//! const docs = JSON.parse(rules());
//! ```
//!
//! `check` returns the JSON text of `eksgate check --format json` (`{"version": 1,
//! "diagnostics": [...], "summary": {...}}`) for the set of files, byte for byte what the CLI
//! prints for the same files under the same names, or `{"version": 1, "error": {...}}` when
//! the policy cannot be used. A malformed `files` argument throws a `TypeError`. Everything
//! else is in `eksgate_policy::ffi`, which native tests cover too.

use eksgate_policy::ffi::File;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{JsError, JsValue, wasm_bindgen};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One file to check: its name (as reported) and its text, or its raw bytes. */
export interface SourceFile {
  name: string;
  /** The file's text. */
  text?: string;
  /** The file's raw bytes; bytes that are not UTF-8 are a YAML001 finding, as in the CLI. */
  bytes?: Uint8Array;
}

export type Severity = "error" | "warning" | "info";

/** One finding; lines and columns are 1-based, `document` 0-based within its file. */
export interface Diagnostic {
  rule: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  /** JSON pointer of the node at fault, such as `/spec/metadataOptions/httpTokens`. */
  path: string;
  document: number;
  kind?: string;
  name?: string;
  help?: string;
}

export interface Summary {
  files: number;
  documents: number;
  skipped_documents: number;
  errors: number;
  warnings: number;
  infos: number;
  suppressed: number;
}

/** What `check` returns (as JSON text): the report, or why the policy could not be used. */
export type Report =
  | { version: 1; diagnostics: Diagnostic[]; summary: Summary }
  | { version: 1; error: { file: string; line: number; column: number; pointer: string; message: string } };

/** One built-in rule, as `rules` lists them (as JSON text). */
export interface RuleDoc {
  id: string;
  name: string;
  severity: Severity;
  summary: string;
  /** The rule's page (Markdown). */
  docs: string;
}
"#;

/// Checks a set of files together against a policy file's text, or the default policy.
///
/// `files` is an array of `{name, text}` or `{name, bytes}`; a plain string is one file named
/// `input.yaml`. Returns the JSON text of a `Report`.
///
/// # Errors
/// A `TypeError` when `files` is neither an array of such objects nor a string.
#[wasm_bindgen]
pub fn check(
    #[wasm_bindgen(unchecked_param_type = "SourceFile[] | string")] files: JsValue,
    policy: Option<String>,
) -> Result<String, JsError> {
    if let Some(text) = files.as_string() {
        return Ok(eksgate_policy::ffi::check(&text, policy.as_deref()));
    }
    let files = read_files(&files).map_err(|m| JsError::new(&m))?;
    Ok(eksgate_policy::ffi::check_files(files, policy.as_deref()))
}

/// The files of `check`'s first argument, or what is wrong with it.
fn read_files(value: &JsValue) -> Result<Vec<File>, String> {
    if !js_sys::Array::is_array(value) {
        return Err("check: `files` must be an array of {name, text} or {name, bytes}".into());
    }
    let array: &js_sys::Array = value.unchecked_ref();
    let mut files = Vec::with_capacity(array.length() as usize);
    for (index, item) in array.iter().enumerate() {
        let field = |key: &str| js_sys::Reflect::get(&item, &JsValue::from_str(key)).ok();
        let Some(name) = field("name").and_then(|n| n.as_string()) else {
            return Err(format!("check: `files[{index}].name` must be a string"));
        };
        if let Some(text) = field("text").and_then(|t| t.as_string()) {
            files.push(File::text(name, text));
        } else if let Some(bytes) =
            field("bytes").and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
        {
            files.push(File::bytes(name, bytes.to_vec()));
        } else {
            return Err(format!(
                "check: `files[{index}]` needs `text` (a string) or `bytes` (a Uint8Array)"
            ));
        }
    }
    Ok(files)
}

/// Checks a `ClusterRequest` (the form's text) against a policy, or the default policy: the
/// JSON of `{findings: [{pointer, rule, severity, message, line, column, help?}], errors}`
/// (README.md beside this crate).
#[wasm_bindgen(js_name = validateRequest)]
#[must_use]
pub fn validate_request(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::validate_request(text, policy.as_deref())
}

/// The quick check of a `ClusterRequest` as the user types: the JSON of `validateRequest`'s
/// shape with the request reader's findings only (REQ001 and YAML syntax), without the render
/// the policy's rules need (`render` gives those).
#[wasm_bindgen(js_name = validateFields)]
#[must_use]
pub fn validate_fields(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::validate_fields(text, policy.as_deref())
}

/// Renders a `ClusterRequest`: the JSON of `{files: [{name, content}], report, spend,
/// findings, errors}`, the same files `eksgate render` writes (README.md beside this crate).
#[wasm_bindgen]
#[must_use]
pub fn render(text: &str, policy: Option<String>) -> String {
    eksgate_policy::ffi::render_request(text, policy.as_deref())
}

/// Every built-in rule with its documentation: the JSON text of a `RuleDoc[]`.
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
        assert!(rules().contains("CEL001"));
        assert!(!version().is_empty());
        assert!(validate_request("kind: X\n", None).contains("\"errors\""));
        assert!(validate_fields("kind: X\n", None).contains("\"errors\""));
        assert!(render("kind: X\n", None).contains("\"files\": []"));
    }
}

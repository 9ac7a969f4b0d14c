//! A string-in, JSON-out API over the engine, for adapters that cross a language boundary
//! (the WASM build in `crates/wasm`, and anything else that speaks JSON).
//!
//! - [`check`]: manifests (YAML or JSON, several documents) and an optional policy file's
//!   text in; the report out as the JSON contract of `eksgate check --format json`
//!   (`{"version": 1, "diagnostics": [...], "summary": {...}}`), or, when the policy cannot be
//!   used, `{"version": 1, "error": {"file", "line", "column", "pointer", "message"}}`
//!   (`pointer`: the JSON pointer of the policy's node at fault).
//! - [`check_files`]: the same for several named files (the cross-document rules need the
//!   whole set), each given as text or as raw bytes (bytes that are not UTF-8 are a `YAML001`
//!   finding, as in the CLI). Named as the CLI names them, the report is byte for byte the
//!   CLI's.
//! - [`rules`]: every built-in rule as `[{"id", "name", "severity", "summary", "docs"}]`.

use serde_json::json;

use crate::{CheckOptions, Input, Policy, SourceFile, render, rules as registry};

/// The name manifests are reported under.
pub const INPUT_NAME: &str = "input.yaml";
/// The name a policy's errors are reported under.
pub const POLICY_NAME: &str = "policy.yaml";

/// Checks `text` against `policy` (the text of a policy file; `None` = the default policy).
#[must_use]
pub fn check(text: &str, policy: Option<&str>) -> String {
    check_files(vec![File::text(INPUT_NAME, text)], policy)
}

/// One named file for [`check_files`]: its text, or its raw bytes as read from disk.
#[derive(Clone, Debug)]
pub struct File {
    pub name: String,
    pub content: Content,
}

/// What a [`File`] holds.
#[derive(Clone, Debug)]
pub enum Content {
    Text(String),
    /// Raw bytes: decoded as the CLI decodes a file (not UTF-8 = a `YAML001` finding).
    Bytes(Vec<u8>),
}

impl File {
    #[must_use]
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            content: Content::Text(text.into()),
        }
    }

    #[must_use]
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            content: Content::Bytes(bytes),
        }
    }
}

/// Checks the set of `files` together against `policy` (the text of a policy file; `None` =
/// the default policy), in the order given, with the CLI's default limits.
#[must_use]
pub fn check_files(files: Vec<File>, policy: Option<&str>) -> String {
    let options = CheckOptions::default();
    let policy = match policy {
        Some(p) => Policy::from_source(&SourceFile::new(POLICY_NAME, p)),
        None => Policy::default_policy(),
    };
    match policy {
        Ok(policy) => {
            let inputs = files
                .into_iter()
                .map(|f| match f.content {
                    Content::Text(text) if text.len() > options.limits.max_source_bytes => {
                        Input::too_large(f.name, text.len(), &options.limits)
                    }
                    Content::Text(text) => Input::text(f.name, text),
                    Content::Bytes(bytes) => Input::bytes(f.name, bytes, &options.limits),
                })
                .collect();
            render::json(&crate::check(inputs, &policy, &options))
        }
        Err(e) => {
            let value = json!({
                "version": 1,
                "error": {"file": e.file, "line": e.line, "column": e.column, "pointer": e.pointer, "message": e.message},
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    }
}

/// Every built-in rule with its documentation.
#[must_use]
pub fn rules() -> String {
    let list: Vec<serde_json::Value> = registry::RULES
        .iter()
        .map(|rule| {
            let m = rule.meta();
            json!({
                "id": m.id,
                "name": m.name,
                "severity": m.severity.as_str(),
                "summary": m.summary(),
                "docs": m.docs(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    const POOL: &str = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements:\n        - {key: karpenter.sh/capacity-types, operator: Exists}\n";

    #[test]
    fn check_gives_the_json_contract() {
        let out: serde_json::Value = serde_json::from_str(&check(POOL, None)).unwrap();
        assert_eq!(out["version"], 1);
        let cel: Vec<&serde_json::Value> = out["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "CEL001")
            .collect();
        assert_eq!(cel.len(), 1);
        assert_eq!(cel[0]["line"], 9);
        assert_eq!(cel[0]["file"], INPUT_NAME);
    }

    #[test]
    fn custom_rules_and_policy_errors() {
        let policy = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      expression: object.metadata.name != 'x'\n      message: do not call it x\n";
        let out: serde_json::Value = serde_json::from_str(&check(POOL, Some(policy))).unwrap();
        assert!(
            out["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["rule"] == "ACME001")
        );
        let bad = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      expression: object.(\n      message: m\n";
        let out: serde_json::Value = serde_json::from_str(&check(POOL, Some(bad))).unwrap();
        assert_eq!(out["error"]["line"], 6);
        assert_eq!(out["error"]["file"], POLICY_NAME);
        assert_eq!(out["error"]["pointer"], "/spec/rules/0/expression");
    }

    #[test]
    fn check_files_sees_the_whole_set_and_decodes_bytes_like_the_cli() {
        let class = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec: {}\n";
        // Alone, the pool's node class is missing (REF001); with the class beside it, not.
        let alone: serde_json::Value =
            serde_json::from_str(&check_files(vec![File::text("pool.yaml", POOL)], None))
                .unwrap();
        let refs = |v: &serde_json::Value| {
            v["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["rule"] == "REF001")
                .count()
        };
        assert_eq!(refs(&alone), 1);
        let both: serde_json::Value = serde_json::from_str(&check_files(
            vec![
                File::text("pool.yaml", POOL),
                File::bytes("class.yaml", class.as_bytes().to_vec()),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(refs(&both), 0);
        assert_eq!(both["summary"]["files"], 2);
        let bad: serde_json::Value = serde_json::from_str(&check_files(
            vec![File::bytes("bad.yaml", b"a: \xff\n".to_vec())],
            None,
        ))
        .unwrap();
        assert_eq!(bad["diagnostics"][0]["rule"], "YAML001");
        assert_eq!(bad["diagnostics"][0]["file"], "bad.yaml");
    }

    #[test]
    fn rules_lists_the_registry() {
        let out: serde_json::Value = serde_json::from_str(&rules()).unwrap();
        assert!(out.as_array().unwrap().iter().any(|r| r["id"] == "CEL001"));
    }
}

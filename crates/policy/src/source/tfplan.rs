//! Manifests inside `terraform show -json` output (plans and state).
//!
//! `kubernetes_manifest` resources carry the object as `values.manifest`; `kubectl_manifest`
//! resources carry YAML text in `values.yaml_body`. That text is parsed again, and its positions
//! are mapped back through the JSON string's escapes, so a finding points at the exact character
//! of the plan file.

use crate::node::{Node, Span};
use crate::source::{Limits, Loaded, Origin, SourceFile, push_document, remap_spans, yaml};

/// A plan or state: `format_version` plus planned or current values.
pub(crate) fn is_plan(root: &Node) -> bool {
    root.get("format_version").is_some()
        && (root.get("planned_values").is_some() || root.get("values").is_some())
}

pub(crate) fn extract(
    file: usize,
    index: usize,
    source: &SourceFile,
    root: &Node,
    limits: &Limits,
    loaded: &mut Loaded,
) {
    let (section, module) = if let Some(m) = root.path(&["planned_values", "root_module"]) {
        ("/planned_values/root_module", m)
    } else if let Some(m) = root.path(&["values", "root_module"]) {
        ("/values/root_module", m)
    } else {
        return;
    };
    walk_module(
        file,
        index,
        source,
        module,
        section.to_string(),
        limits,
        loaded,
    );
}

fn walk_module(
    file: usize,
    index: usize,
    source: &SourceFile,
    module: &Node,
    pointer: String,
    limits: &Limits,
    loaded: &mut Loaded,
) {
    for (i, resource) in module
        .get("resources")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let address = resource
            .get("address")
            .and_then(Node::as_str)
            .unwrap_or("?")
            .to_string();
        let here = format!("{pointer}/resources/{i}/values");
        match resource.get("type").and_then(Node::as_str) {
            Some("kubernetes_manifest") => {
                if let Some(manifest) = resource.path(&["values", "manifest"])
                    && manifest.as_map().is_some()
                {
                    push_document(
                        file,
                        index,
                        format!("{here}/manifest"),
                        Origin::TerraformPlan { address },
                        manifest.clone(),
                        loaded,
                    );
                }
            }
            Some("kubectl_manifest") => {
                if let Some(body) = resource.path(&["values", "yaml_body"])
                    && body.as_str().is_some()
                {
                    embedded_yaml(file, index, source, body, &here, address, limits, loaded);
                }
            }
            _ => {}
        }
    }
    for (i, child) in module
        .get("child_modules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        walk_module(
            file,
            index,
            source,
            child,
            format!("{pointer}/child_modules/{i}"),
            limits,
            loaded,
        );
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
fn embedded_yaml(
    file: usize,
    index: usize,
    source: &SourceFile,
    body: &Node,
    here: &str,
    address: String,
    limits: &Limits,
    loaded: &mut Loaded,
) {
    let literal = source.slice(body.span);
    let Some((inner, map)) = decode_json_string(literal, body.span.start) else {
        return;
    };
    let parsed = yaml::parse_stream(&inner, limits);
    let remap = |offset: u32| -> u32 {
        map.get(offset as usize)
            .copied()
            .unwrap_or(body.span.end.saturating_sub(1))
    };
    for mut note in parsed.notes {
        note.span = Span::new(remap(note.span.start), remap(note.span.end));
        note.document = index;
        loaded.notes.push(note);
    }
    for mut root in parsed.documents.into_iter().flatten() {
        remap_spans(&mut root, &remap);
        push_document(
            file,
            index,
            format!("{here}/yaml_body"),
            Origin::TerraformPlan {
                address: address.clone(),
            },
            root,
            loaded,
        );
    }
}

/// Decodes a JSON string literal (with its quotes) and maps each byte of the decoded text to
/// the byte of the file it came from (one entry per decoded byte, plus one for the end).
fn decode_json_string(literal: &str, base: u32) -> Option<(String, Vec<u32>)> {
    let body = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(body.len());
    let mut map = Vec::with_capacity(body.len() + 1);
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let origin = base + 1 + at as u32;
        let decoded = if c == '\\' {
            match chars.next()?.1 {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                '/' => '/',
                '\\' => '\\',
                '"' => '"',
                'u' => {
                    let mut code = 0u32;
                    for _ in 0..4 {
                        code = code * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(code).unwrap_or('\u{fffd}')
                }
                _ => return None,
            }
        } else {
            c
        };
        for _ in 0..decoded.len_utf8() {
            map.push(origin);
        }
        out.push(decoded);
    }
    map.push(base + literal.len() as u32 - 1);
    Some((out, map))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    #[test]
    fn escapes_map_back_to_the_file() {
        let literal = r#""a: 1\nb: x""#;
        let (text, map) = decode_json_string(literal, 10).unwrap();
        assert_eq!(text, "a: 1\nb: x");
        let b = text.find('b').unwrap();
        assert_eq!(map[b], 10 + literal.find('b').unwrap() as u32);
    }
}

//! Manifests inside `terraform show -json` output (plans and state).
//!
//! `kubernetes_manifest` resources carry the object as `values.manifest`; `kubectl_manifest`
//! resources carry YAML text in `values.yaml_body`. That text is parsed again, and its positions
//! are mapped back through the JSON string's escapes, so a finding points at the exact character
//! of the plan file.

use crate::node::{Node, Span};
use crate::source::tree::Budget;
use crate::source::{Limits, Loaded, Origin, SourceFile, parse_text, push_document, remap_spans};

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
    budget: &mut Budget,
    loaded: &mut Loaded,
) {
    let (section, module) = if let Some(m) = root.path(&["planned_values", "root_module"]) {
        ("/planned_values/root_module", m)
    } else if let Some(m) = root.path(&["values", "root_module"]) {
        ("/values/root_module", m)
    } else {
        return;
    };
    let mut walk = Walk {
        file,
        index,
        source,
        limits,
        budget,
        loaded,
    };
    walk.module(module, section);
}

/// One plan's walk: where its manifests go, and the file's budget they draw on.
struct Walk<'w> {
    file: usize,
    index: usize,
    source: &'w SourceFile,
    limits: &'w Limits,
    budget: &'w mut Budget,
    loaded: &'w mut Loaded,
}

impl Walk<'_> {
    fn module(&mut self, module: &Node, pointer: &str) {
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
                            self.file,
                            self.index,
                            format!("{here}/manifest"),
                            Origin::TerraformPlan { address },
                            manifest.clone(),
                            self.loaded,
                        );
                    }
                }
                Some("kubectl_manifest") => {
                    if let Some(body) = resource.path(&["values", "yaml_body"])
                        && body.as_str().is_some()
                    {
                        let at = Embedded {
                            file: self.file,
                            index: self.index,
                            here: &here,
                            address,
                        };
                        embedded_yaml(
                            &at,
                            self.source,
                            body,
                            self.limits,
                            self.budget,
                            self.loaded,
                        );
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
            self.module(child, &format!("{pointer}/child_modules/{i}"));
        }
    }
}

/// Where an embedded manifest sits in the plan.
struct Embedded<'h> {
    file: usize,
    index: usize,
    here: &'h str,
    address: String,
}

fn embedded_yaml(
    at: &Embedded<'_>,
    source: &SourceFile,
    body: &Node,
    limits: &Limits,
    budget: &mut Budget,
    loaded: &mut Loaded,
) {
    let Some(value) = body.as_str() else {
        return;
    };
    let literal = source.slice(body.span);
    // A JSON string literal maps exactly through its escapes; any other form (a plan converted
    // to YAML: block, quoted or plain scalars) is aligned character by character.
    let map = decode_json_string(literal, body.span.start)
        .filter(|(decoded, _)| decoded == value)
        .map_or_else(|| align(value, literal, body.span.start), |(_, map)| map);
    let parsed = parse_text(value, limits, budget);
    let remap = |offset: u32| -> u32 {
        map.get(offset as usize)
            .copied()
            .unwrap_or(body.span.end.saturating_sub(1))
    };
    for mut note in parsed.notes {
        note.span = Span::new(remap(note.span.start), remap(note.span.end));
        note.document = at.index;
        loaded.notes.push(note);
    }
    for mut root in parsed.documents.into_iter().flatten() {
        remap_spans(&mut root, &remap);
        push_document(
            at.file,
            at.index,
            format!("{}/yaml_body", at.here),
            Origin::TerraformPlan {
                address: at.address.clone(),
            },
            root,
            loaded,
        );
    }
}

/// Maps each byte of `decoded` to a byte of `literal` (the scalar as written, at `base`) by
/// walking both in order: each character is looked for a short way ahead, so indentation,
/// quotes and folding are skipped over. Exact for block literals, close for the rest.
fn align(decoded: &str, literal: &str, base: u32) -> Vec<u32> {
    const LOOKAHEAD: usize = 64;
    let mut map = Vec::with_capacity(decoded.len() + 1);
    let mut j = 0usize;
    for c in decoded.chars() {
        let window_end = (j + LOOKAHEAD).min(literal.len());
        let found = literal
            .get(j..window_end)
            .and_then(|w| w.find(c))
            .map(|k| j + k);
        let at = found.unwrap_or(j);
        for _ in 0..c.len_utf8() {
            map.push(base + at as u32);
        }
        if let Some(k) = found {
            j = k + c.len_utf8();
        }
    }
    map.push(base + literal.len().saturating_sub(1) as u32);
    map
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
                    let mut hex4 = || -> Option<u32> {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            code = code * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        Some(code)
                    };
                    let first = hex4()?;
                    if (0xD800..0xDC00).contains(&first) {
                        // A surrogate pair takes two escapes; both halves map to the first.
                        let mut ahead = chars.clone();
                        let pair = match (ahead.next(), ahead.next()) {
                            (Some((_, '\\')), Some((_, 'u'))) => {
                                let mut code = 0u32;
                                let mut ok = true;
                                for _ in 0..4 {
                                    match ahead.next().and_then(|(_, d)| d.to_digit(16)) {
                                        Some(d) => code = code * 16 + d,
                                        None => ok = false,
                                    }
                                }
                                (ok && (0xDC00..0xE000).contains(&code)).then_some(code)
                            }
                            _ => None,
                        };
                        match pair {
                            Some(second) => {
                                chars = ahead;
                                char::from_u32(
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                                )
                                .unwrap_or('\u{fffd}')
                            }
                            None => '\u{fffd}',
                        }
                    } else {
                        char::from_u32(first).unwrap_or('\u{fffd}')
                    }
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

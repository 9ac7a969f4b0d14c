//! `eksgate graph`: the apply order as text, Mermaid (for a pull request comment) or DOT.
//!
//! Names come from the user's files, so they are escaped for each format: Mermaid labels carry
//! every character outside a small safe set as an entity code (`#35;`), DOT labels are quoted
//! with `"` and `\` escaped; node IDs are generated (`n0`, `n1`), never user text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::repo::ApplierKind;
use crate::model::repo::graph::{EdgeKind, Graph, GraphNode};

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

/// Renders the graph.
#[must_use]
pub fn graph(graph: &Graph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Text => text(graph),
        GraphFormat::Mermaid => mermaid(graph),
        GraphFormat::Dot => dot(graph),
    }
}

fn scopes(graph: &Graph) -> BTreeMap<&str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        out.entry(n.scope.as_str()).or_default().push(i);
    }
    for list in out.values_mut() {
        list.sort_by_key(|&i| {
            graph
                .nodes
                .get(i)
                .map(|n| (n.step.unwrap_or(usize::MAX), n.name.clone()))
        });
    }
    out
}

fn title(n: &GraphNode) -> String {
    let kind = match n.kind {
        ApplierKind::Flux => "Kustomization",
        ApplierKind::Argo => "Application",
    };
    format!("{kind} {}", n.name)
}

fn notes(n: &GraphNode) -> Vec<String> {
    let mut notes = Vec::new();
    if n.waits {
        notes.push("waits".to_string());
    }
    if n.suspended {
        notes.push("suspended".to_string());
    }
    if let Some(w) = n.wave {
        notes.push(format!("wave {w}"));
    }
    notes
}

/// Plain text, one block per scope (cluster), Kustomizations and Applications in apply order.
fn text(graph: &Graph) -> String {
    if graph.nodes.is_empty() {
        return "No Flux Kustomization or Argo CD Application in the checked files.\n".to_string();
    }
    let mut out = String::new();
    for (scope, nodes) in scopes(graph) {
        let shown = if scope.is_empty() { "." } else { scope };
        let _ = writeln!(out, "{}", sanitize(shown));
        for &i in &nodes {
            let Some(n) = graph.nodes.get(i) else {
                continue;
            };
            let step = n.step.map_or("cycle".to_string(), |s| s.to_string());
            let mut line = format!("  {step:>5}  {}", sanitize(&title(n)));
            let notes = notes(n);
            if !notes.is_empty() {
                line.push_str(&format!("  ({})", notes.join(", ")));
            }
            let after: Vec<String> = graph
                .edges
                .iter()
                .filter(|e| e.to == i)
                .filter_map(|e| {
                    let from = graph.nodes.get(e.from)?;
                    Some(match e.kind {
                        EdgeKind::DependsOn => from.name.clone(),
                        EdgeKind::Parent => format!("{} (parent)", from.name),
                    })
                })
                .collect();
            if !after.is_empty() {
                line.push_str(&format!("  after {}", sanitize(&after.join(", "))));
            }
            let _ = writeln!(out, "{line}");
            let _ = writeln!(
                out,
                "         {} -> {}",
                sanitize(&n.file),
                sanitize(
                    n.path
                        .as_deref()
                        .unwrap_or("(path not in the checked files)")
                )
            );
            for install in &n.installs {
                let _ = writeln!(out, "         installs CRDs: {}", sanitize(install));
            }
            for finding in &n.findings {
                let _ = writeln!(out, "         ! {}", sanitize(finding));
            }
        }
    }
    out
}

/// Mermaid `flowchart`, fenced for Markdown.
fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("```mermaid\nflowchart TD\n");
    for (s, (scope, nodes)) in scopes(graph).into_iter().enumerate() {
        let shown = if scope.is_empty() { "." } else { scope };
        let _ = writeln!(out, "  subgraph s{s}[\"{}\"]", mermaid_text(shown));
        for &i in &nodes {
            let Some(n) = graph.nodes.get(i) else {
                continue;
            };
            let mut label = mermaid_text(&title(n));
            let notes = notes(n);
            if !notes.is_empty() {
                label.push_str(&format!("<br/>{}", mermaid_text(&notes.join(", "))));
            }
            for install in &n.installs {
                label.push_str(&format!("<br/>installs {}", mermaid_text(install)));
            }
            for rule in finding_rules(n) {
                label.push_str(&format!("<br/>⚠ {}", mermaid_text(&rule)));
            }
            let _ = writeln!(out, "    n{i}[\"{label}\"]");
        }
        let _ = writeln!(out, "  end");
    }
    for e in &graph.edges {
        let arrow = match e.kind {
            EdgeKind::DependsOn => "-->",
            EdgeKind::Parent => "-.->",
        };
        let _ = writeln!(out, "  n{} {arrow} n{}", e.from, e.to);
    }
    let flagged: Vec<String> = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.findings.is_empty())
        .map(|(i, _)| format!("n{i}"))
        .collect();
    if !flagged.is_empty() {
        out.push_str("  classDef finding stroke:#d1242f,stroke-width:2px\n");
        let _ = writeln!(out, "  class {} finding", flagged.join(","));
    }
    out.push_str("```\n");
    out
}

/// Graphviz DOT.
fn dot(graph: &Graph) -> String {
    let mut out = String::from("digraph eksgate {\n  rankdir=TB;\n  node [shape=box];\n");
    for (s, (scope, nodes)) in scopes(graph).into_iter().enumerate() {
        let shown = if scope.is_empty() { "." } else { scope };
        let _ = writeln!(
            out,
            "  subgraph cluster_{s} {{\n    label=\"{}\";",
            dot_text(shown)
        );
        for &i in &nodes {
            let Some(n) = graph.nodes.get(i) else {
                continue;
            };
            let mut label = title(n);
            let notes = notes(n);
            if !notes.is_empty() {
                label.push_str(&format!("\n({})", notes.join(", ")));
            }
            for install in &n.installs {
                label.push_str(&format!("\ninstalls {install}"));
            }
            for rule in finding_rules(n) {
                label.push_str(&format!("\n{rule}"));
            }
            let color = if n.findings.is_empty() {
                ""
            } else {
                ", color=red"
            };
            let _ = writeln!(out, "    n{i} [label=\"{}\"{color}];", dot_text(&label));
        }
        out.push_str("  }\n");
    }
    for e in &graph.edges {
        let style = match e.kind {
            EdgeKind::DependsOn => "",
            EdgeKind::Parent => " [style=dashed]",
        };
        let _ = writeln!(out, "  n{} -> n{}{style};", e.from, e.to);
    }
    out.push_str("}\n");
    out
}

/// The rules of a node's findings, each once, with a count: `ORD001 (2)`.
fn finding_rules(n: &GraphNode) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &n.findings {
        *counts
            .entry(finding.split(':').next().unwrap_or(""))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(rule, n)| match n {
            1 => rule.to_string(),
            n => format!("{rule} ({n})"),
        })
        .collect()
}

/// Control characters (terminal escapes, line breaks) out of user text.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Mermaid label text: letters, digits and `._/:- ` as they are, everything else as an entity
/// code, so no quote, bracket, backtick or HTML of a name escapes the label.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || " ._/:-()".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// A DOT double-quoted string's content.
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_break_out() {
        assert_eq!(
            mermaid_text("a\"]; click n0 \"x"),
            "a#34;#93;#59; click n0 #34;x"
        );
        assert_eq!(mermaid_text("<b>`x`</b>"), "#60;b#62;#96;x#96;#60;/b#62;");
        assert_eq!(dot_text("a\"\\\n"), "a\\\"\\\\\\n");
        assert_eq!(sanitize("a\u{1b}[31m"), "a\u{fffd}[31m");
    }
}

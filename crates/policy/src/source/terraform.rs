//! Terraform source (`*.tf`), read with `hcl-edit`, which keeps the span of every node.
//!
//! One concept in one file (about 800 lines): reading `.tf` manifests and the facts TF001 needs
//! share one walk of the HCL body, so they stay together.
//!
//! Two things come out of a `.tf` file. The manifests of `kubernetes_manifest` (`manifest`) and
//! `kubectl_manifest` (`yaml_body`) resources become documents whose nodes point into the `.tf`
//! file, so every rule checks a NodePool written in Terraform as it checks one in YAML. And the
//! blocks that decide when the Kubernetes API is needed (providers, modules, EKS clusters,
//! locals) become [`TerraformFacts`], owned and small, for `TF001`.
//!
//! Terraform evaluates expressions; eksgate does not. An expression that is not a literal
//! (`var.x`, `module.eks.cluster_name`, `"${local.name}-pool"`, a function call) becomes a string
//! holding its source as `${...}`, a placeholder, so no rule judges its value. A manifest that
//! is read from elsewhere (`file(...)`, `templatefile(...)`) or generated (`for` directives in
//! a heredoc) is not a document at all: that file is checked on its own.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::template::Element;

use crate::node::{Entry, Node, Span, Value};
use crate::source::{
    Document, Limits, Loaded, Origin, ParseNote, ParseNoteKind, SourceFile, remap_spans,
    tree::Budget, yaml,
};

/// What `TF001` needs from one `.tf` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TerraformFacts {
    pub blocks: Vec<TfBlock>,
}

/// The kinds of top-level block `TF001` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TfBlockKind {
    Resource,
    Data,
    Module,
    Provider,
    Locals,
}

/// One top-level block, reduced to what ordering needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TfBlock {
    pub kind: TfBlockKind,
    /// The resource or data source type (`kubernetes_manifest`) or the provider's name
    /// (`kubernetes`); empty for modules and locals.
    pub type_name: String,
    /// The resource, data source or module name, or a provider's `alias`; empty otherwise.
    pub name: String,
    /// The block's identifier and labels (`resource "kubernetes_manifest" "x"`).
    pub span: Span,
    /// A resource's `provider` meta-argument (`kubernetes.eks`).
    pub provider: Option<String>,
    /// A module's `source`, when it is a literal.
    pub source: Option<String>,
    /// A module's `providers` map: the child's provider -> the caller's
    /// (`kubernetes` -> `kubernetes.eks`).
    pub providers: Vec<(String, String)>,
    /// Every object the block's body refers to: `module.eks`, `aws_eks_cluster.this`,
    /// `data.aws_eks_cluster.this`, `local.host`, `var.region`.
    pub references: Vec<String>,
    /// For `locals`: each local's name and the objects its value refers to.
    pub locals: Vec<(String, Vec<String>)>,
    /// The key of a manifest resource's `manifest` or `yaml_body` attribute.
    pub manifest_key: Option<Span>,
    /// Index (in its file) of the document read from that attribute, when one was.
    pub document: Option<usize>,
}

impl TfBlock {
    /// The address Terraform gives the block in its module: `kubernetes_manifest.x`,
    /// `data.aws_eks_cluster.this`, `module.eks`.
    #[must_use]
    pub fn address(&self) -> String {
        match self.kind {
            TfBlockKind::Resource => format!("{}.{}", self.type_name, self.name),
            TfBlockKind::Data => format!("data.{}.{}", self.type_name, self.name),
            TfBlockKind::Module => format!("module.{}", self.name),
            TfBlockKind::Provider if self.name.is_empty() => self.type_name.clone(),
            TfBlockKind::Provider => format!("{}.{}", self.type_name, self.name),
            TfBlockKind::Locals => "locals".to_string(),
        }
    }
}

/// Whether a source name is Terraform source, read by this module.
#[must_use]
pub fn is_terraform(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".tf")
}

/// Reads a `.tf` file into `loaded`: its manifests as documents, its blocks as facts.
pub(crate) fn load(file: usize, source: &SourceFile, limits: &Limits, loaded: &mut Loaded) {
    let text: &str = &source.text;
    let body = match hcl_edit::parser::parse_body(text) {
        Ok(body) => body,
        Err(err) => {
            let at = u32::try_from(err.location().offset()).unwrap_or(0);
            loaded.notes.push(ParseNote {
                kind: ParseNoteKind::Syntax,
                span: Span::empty(at),
                document: 0,
                message: format!("invalid HCL: {}", err.message()),
                help: Some(
                    "eksgate reads Terraform source as `terraform validate` does; fix the syntax \
                     and check again"
                        .to_string(),
                ),
            });
            return;
        }
    };
    let mut reader = Reader {
        file,
        source,
        limits,
        loaded,
        facts: TerraformFacts::default(),
        next_document: 0,
        budget: Budget::default(),
    };
    reader.body(&body);
    let facts = reader.facts;
    loaded.terraform = Some(facts);
}

struct Reader<'r> {
    file: usize,
    source: &'r SourceFile,
    limits: &'r Limits,
    loaded: &'r mut Loaded,
    facts: TerraformFacts,
    next_document: usize,
    /// The file's budget, shared by every manifest embedded in it.
    budget: Budget,
}

fn span_of(range: Option<std::ops::Range<usize>>) -> Span {
    range.map_or(Span::default(), |r| {
        Span::new(
            u32::try_from(r.start).unwrap_or(u32::MAX),
            u32::try_from(r.end).unwrap_or(u32::MAX),
        )
    })
}

impl Reader<'_> {
    fn body(&mut self, body: &Body) {
        for structure in body.iter() {
            let Structure::Block(block) = structure else {
                continue;
            };
            let kind = match block.ident.as_str() {
                "resource" => TfBlockKind::Resource,
                "data" => TfBlockKind::Data,
                "module" => TfBlockKind::Module,
                "provider" => TfBlockKind::Provider,
                "locals" => TfBlockKind::Locals,
                _ => continue,
            };
            self.block(kind, block);
        }
    }

    fn block(&mut self, kind: TfBlockKind, block: &Block) {
        let label = |i: usize| {
            block
                .labels
                .get(i)
                .map(|l| l.as_str().to_string())
                .unwrap_or_default()
        };
        let header_end = block
            .labels
            .last()
            .map_or(span_of(block.ident.span()), |l| span_of(l.span()));
        let span = span_of(block.ident.span()).cover(header_end);
        let (type_name, mut name) = match kind {
            TfBlockKind::Resource | TfBlockKind::Data => (label(0), label(1)),
            TfBlockKind::Module => (String::new(), label(0)),
            TfBlockKind::Provider => (label(0), String::new()),
            TfBlockKind::Locals => (String::new(), String::new()),
        };
        let mut out = TfBlock {
            kind,
            type_name,
            name: String::new(),
            span,
            provider: None,
            source: None,
            providers: Vec::new(),
            references: Vec::new(),
            locals: Vec::new(),
            manifest_key: None,
            document: None,
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    match (kind, key) {
                        (TfBlockKind::Provider, "alias") => {
                            if let Some(alias) = literal_string(&attr.value) {
                                name = alias;
                            }
                        }
                        (TfBlockKind::Resource | TfBlockKind::Data, "provider") => {
                            out.provider = Some(self.source_text(&attr.value).trim().to_string());
                        }
                        (TfBlockKind::Module, "source") => out.source = literal_string(&attr.value),
                        (TfBlockKind::Module, "providers") => {
                            if let Expression::Object(map) = &attr.value {
                                for (k, v) in map.iter() {
                                    let child = match k {
                                        ObjectKey::Ident(i) => i.as_str().to_string(),
                                        ObjectKey::Expression(e) => self.source_text(e),
                                    };
                                    out.providers.push((
                                        child,
                                        self.source_text(v.expr()).trim().to_string(),
                                    ));
                                }
                            }
                        }
                        (TfBlockKind::Locals, local) => {
                            let mut refs = Vec::new();
                            references(&attr.value, &mut refs);
                            out.locals.push((local.to_string(), refs));
                        }
                        _ => {}
                    }
                    references(&attr.value, &mut out.references);
                    if kind == TfBlockKind::Resource {
                        let manifest = match (out.type_name.as_str(), key) {
                            ("kubernetes_manifest", "manifest") => Some(ManifestAttr::Object),
                            ("kubectl_manifest", "yaml_body") => Some(ManifestAttr::Text),
                            _ => None,
                        };
                        if let Some(form) = manifest {
                            out.manifest_key = Some(span_of(attr.key.span()));
                            let address = format!("{}.{}", out.type_name, name);
                            out.document = self.manifest(form, &attr.value, address);
                        }
                    }
                }
                Structure::Block(inner) => {
                    let mut refs = Vec::new();
                    block_references(inner, &mut refs);
                    out.references.extend(refs);
                }
            }
        }
        out.name = name;
        out.references.sort();
        out.references.dedup();
        self.facts.blocks.push(out);
    }

    fn source_text(&self, expr: &Expression) -> String {
        self.source.slice(span_of(expr.span())).to_string()
    }

    /// Reads the manifest of a resource; returns the index of its (first) document.
    fn manifest(
        &mut self,
        form: ManifestAttr,
        value: &Expression,
        address: String,
    ) -> Option<usize> {
        let value = strip_parens(value);
        let decoded = match (form, value) {
            (ManifestAttr::Object, Expression::Object(_)) => Some(Decoded::Tree(value)),
            (_, Expression::FuncCall(call)) => {
                let name = call.name.name.as_str();
                let arg = call.args.iter().next().map(strip_parens);
                match (form, name, arg) {
                    (ManifestAttr::Object, "yamldecode" | "jsondecode", Some(arg)) => {
                        Some(Decoded::Text(arg))
                    }
                    (
                        ManifestAttr::Text,
                        "yamlencode" | "jsonencode",
                        Some(arg @ Expression::Object(_)),
                    ) => Some(Decoded::Tree(arg)),
                    _ => None,
                }
            }
            (ManifestAttr::Text, _) => Some(Decoded::Text(value)),
            _ => None,
        }?;
        match decoded {
            Decoded::Tree(expr) => {
                let root = self.node(expr, 0);
                let index = self.push(root, address);
                Some(index)
            }
            Decoded::Text(expr) => self.embedded_yaml(expr, address),
        }
    }

    fn push(&mut self, root: Node, address: String) -> usize {
        let index = self.next_document;
        self.next_document += 1;
        self.loaded.documents.push(Document {
            file: self.file,
            index,
            pointer_prefix: String::new(),
            origin: Origin::TerraformSource { address },
            root,
        });
        index
    }

    /// YAML (or JSON) text in a heredoc or a quoted string, parsed with positions in the file.
    fn embedded_yaml(&mut self, expr: &Expression, address: String) -> Option<usize> {
        let span = span_of(expr.span());
        let raw = self.source.slice(span);
        let (text, map) = match expr {
            Expression::HeredocTemplate(_) => heredoc_text(raw, span.start)?,
            Expression::String(_) | Expression::StringTemplate(_) => quoted_text(raw, span.start)?,
            _ => return None,
        };
        // `%{ if }` and `%{ for }` generate the text: what Kubernetes gets is not written here.
        if has_directive(&text) {
            return None;
        }
        let parsed = yaml::parse_stream(&text, self.limits, &mut self.budget);
        let end = span.end.saturating_sub(1);
        let remap = |offset: u32| -> u32 { map.get(offset as usize).copied().unwrap_or(end) };
        let first = self.next_document;
        for mut note in parsed.notes {
            note.span = Span::new(remap(note.span.start), remap(note.span.end));
            note.document = first;
            self.loaded.notes.push(note);
        }
        let mut index = None;
        for mut root in parsed.documents.into_iter().flatten() {
            remap_spans(&mut root, &remap);
            let i = self.push(root, address.clone());
            index.get_or_insert(i);
        }
        index
    }

    /// An HCL expression as a document node: literals as values, anything Terraform would
    /// have to evaluate as a `${...}` placeholder string.
    fn node(&self, expr: &Expression, depth: usize) -> Node {
        let span = span_of(expr.span());
        if depth > self.limits.max_depth {
            return self.placeholder(expr);
        }
        let value = match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => {
                let n = n.value();
                match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => Value::Int(i),
                    (None, Some(f)) => Value::Float(f),
                    (None, None) => return self.placeholder(expr),
                }
            }
            Expression::String(s) => Value::Str(s.value().as_str().into()),
            Expression::StringTemplate(t) => match literal_template(t) {
                Some(text) => Value::Str(text.into()),
                None => return self.placeholder(expr),
            },
            Expression::Array(items) => Value::Seq(std::sync::Arc::from_iter(
                items.iter().map(|item| self.node(item, depth + 1)),
            )),
            Expression::Object(object) => Value::Map(std::sync::Arc::from_iter(object.iter().map(
                |(key, value)| Entry {
                    key: self.key(key),
                    value: self.node(value.expr(), depth + 1),
                },
            ))),
            Expression::Parenthesis(p) => return self.node(p.inner(), depth + 1),
            _ => return self.placeholder(expr),
        };
        Node::new(value, span)
    }

    fn key(&self, key: &ObjectKey) -> Node {
        match key {
            ObjectKey::Ident(ident) => {
                Node::new(Value::Str(ident.as_str().into()), span_of(ident.span()))
            }
            ObjectKey::Expression(expr) => {
                let node = self.node(strip_parens(expr), 0);
                match node.value {
                    Value::Str(_) => node,
                    _ => self.placeholder(expr),
                }
            }
        }
    }

    /// `${<source>}`: a value only Terraform can compute (issue 13's placeholder semantics).
    fn placeholder(&self, expr: &Expression) -> Node {
        let span = span_of(expr.span());
        let text = self.source.slice(span);
        let text = if text.starts_with('"') && text.ends_with('"') && text.len() >= 2 {
            // A template string is its own placeholder text: `"${var.name}-pool"`.
            text.get(1..text.len() - 1).unwrap_or(text).to_string()
        } else {
            format!("${{{text}}}")
        };
        Node::new(Value::Str(text.into()), span)
    }
}

#[derive(Clone, Copy)]
enum ManifestAttr {
    /// `manifest`: an HCL object (or `yamldecode(...)` of text).
    Object,
    /// `yaml_body`: YAML text (or `yamlencode(...)` of an object).
    Text,
}

enum Decoded<'e> {
    Tree(&'e Expression),
    Text(&'e Expression),
}

fn strip_parens(mut expr: &Expression) -> &Expression {
    while let Expression::Parenthesis(p) = expr {
        expr = p.inner();
    }
    expr
}

fn literal_string(expr: &Expression) -> Option<String> {
    match strip_parens(expr) {
        Expression::String(s) => Some(s.value().clone()),
        Expression::StringTemplate(t) => literal_template(t),
        _ => None,
    }
}

/// The text of a template with no interpolation or directive.
fn literal_template(template: &hcl_edit::template::StringTemplate) -> Option<String> {
    let mut out = String::new();
    for element in template.iter() {
        match element {
            Element::Literal(text) => out.push_str(text.value()),
            Element::Interpolation(_) | Element::Directive(_) => return None,
        }
    }
    Some(out)
}

/// Collects what `expr` refers to (see [`TfBlock::references`]).
fn references(expr: &Expression, out: &mut Vec<String>) {
    use hcl_edit::expr::TraversalOperator as Op;
    match expr {
        Expression::Traversal(t) => {
            if let Expression::Variable(root) = &t.expr {
                let attrs: Vec<&str> = t
                    .operators
                    .iter()
                    .map_while(|op| match op.value() {
                        Op::GetAttr(name) => Some(name.as_str()),
                        _ => None,
                    })
                    .collect();
                let root = root.as_str();
                let take = match root {
                    "data" => 2,
                    _ => 1,
                };
                if attrs.len() >= take {
                    let mut reference = root.to_string();
                    for attr in attrs.iter().take(take) {
                        reference.push('.');
                        reference.push_str(attr);
                    }
                    out.push(reference);
                }
            } else {
                references(&t.expr, out);
            }
            for op in &t.operators {
                if let Op::Index(index) = op.value() {
                    references(index, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| references(e, out)),
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                if let ObjectKey::Expression(k) = key {
                    references(k, out);
                }
                references(value.expr(), out);
            }
        }
        Expression::StringTemplate(t) => template_references(t, out),
        Expression::HeredocTemplate(h) => template_references(&h.template, out),
        Expression::Parenthesis(p) => references(p.inner(), out),
        Expression::Conditional(c) => {
            references(&c.cond_expr, out);
            references(&c.true_expr, out);
            references(&c.false_expr, out);
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| references(e, out)),
        Expression::UnaryOp(op) => references(&op.expr, out),
        Expression::BinaryOp(op) => {
            references(&op.lhs_expr, out);
            references(&op.rhs_expr, out);
        }
        Expression::ForExpr(f) => {
            references(&f.intro.collection_expr, out);
            if let Some(key) = &f.key_expr {
                references(key, out);
            }
            references(&f.value_expr, out);
            if let Some(cond) = &f.cond {
                references(&cond.expr, out);
            }
        }
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_)
        | Expression::Variable(_) => {}
    }
}

fn template_references(template: &hcl_edit::template::Template, out: &mut Vec<String>) {
    use hcl_edit::template::Directive;
    for element in template.iter() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => references(&i.expr, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    references(&d.if_expr.cond_expr, out);
                    template_references(&d.if_expr.template, out);
                    if let Some(e) = &d.else_expr {
                        template_references(&e.template, out);
                    }
                }
                Directive::For(d) => {
                    references(&d.for_expr.collection_expr, out);
                    template_references(&d.for_expr.template, out);
                }
            },
        }
    }
}

fn block_references(block: &Block, out: &mut Vec<String>) {
    for structure in block.body.iter() {
        match structure {
            Structure::Attribute(attr) => references(&attr.value, out),
            Structure::Block(inner) => block_references(inner, out),
        }
    }
}

/// Whether template text has a `%{` directive (not the `%%{` escape).
fn has_directive(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(2)
        .enumerate()
        .any(|(i, w)| w == b"%{" && (i == 0 || bytes.get(i - 1) != Some(&b'%')))
}

/// The text of a heredoc (`<<EOT` or `<<-EOT`, span covering both delimiters), dedented as
/// Terraform dedents `<<-`, with the file offset of every byte of it (and one for the end).
fn heredoc_text(raw: &str, base: u32) -> Option<(String, Vec<u32>)> {
    let indented = raw.starts_with("<<-");
    let first_break = raw.find('\n')?;
    let content = raw.get(first_break + 1..)?;
    // The closing delimiter is the last line.
    let close = content
        .trim_end_matches([' ', '\t'])
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let content = content.get(..close)?;
    let content_base = base + first_break as u32 + 1;
    let lines: Vec<&str> = content.split_inclusive('\n').collect();
    let strip = if indented {
        lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let mut text = String::with_capacity(content.len());
    let mut map = Vec::with_capacity(content.len() + 1);
    let mut at = content_base;
    for line in lines {
        let leading = line.len() - line.trim_start_matches([' ', '\t']).len();
        let cut = strip.min(leading);
        let kept = line.get(cut..).unwrap_or("");
        for i in 0..kept.len() {
            map.push(at + (cut + i) as u32);
        }
        text.push_str(kept);
        at += line.len() as u32;
    }
    map.push(at);
    Some((text, map))
}

/// The text of a quoted HCL string with its escapes decoded, mapped back to the file.
/// Interpolations stay as written (`${...}`): they are placeholders.
fn quoted_text(raw: &str, base: u32) -> Option<(String, Vec<u32>)> {
    let body = raw.strip_prefix('"')?.strip_suffix('"')?;
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
                '"' => '"',
                '\\' => '\\',
                'u' => unicode_escape(&mut chars, 4)?,
                'U' => unicode_escape(&mut chars, 8)?,
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
    map.push(base + raw.len() as u32 - 1);
    Some((out, map))
}

fn unicode_escape(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    digits: usize,
) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        code = code.checked_mul(16)? + chars.next()?.1.to_digit(16)?;
    }
    Some(char::from_u32(code).unwrap_or('\u{fffd}'))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn load_tf(text: &str) -> Loaded {
        let source = SourceFile::new("main.tf", text);
        let mut loaded = Loaded::default();
        load(0, &source, &Limits::default(), &mut loaded);
        loaded
    }

    #[test]
    fn heredoc_dedent_keeps_file_offsets() {
        let raw = "<<-EOT\n    a: 1\n    b:\n      c: 2\n    EOT";
        let (text, map) = heredoc_text(raw, 100).unwrap();
        assert_eq!(text, "a: 1\nb:\n  c: 2\n");
        let c = text.find('c').unwrap();
        assert_eq!(map[c] as usize, 100 + raw.find('c').unwrap());
    }

    #[test]
    fn quoted_escapes_map_back() {
        let raw = r#""kind: A\nname: b""#;
        let (text, map) = quoted_text(raw, 10).unwrap();
        assert_eq!(text, "kind: A\nname: b");
        let n = text.find("name").unwrap();
        assert_eq!(map[n] as usize, 10 + raw.find("name").unwrap());
    }

    #[test]
    fn manifest_object_becomes_a_document_with_placeholders() {
        let text = "resource \"kubernetes_manifest\" \"pool\" {\n  manifest = {\n    apiVersion = \"karpenter.sh/v1\"\n    kind       = \"NodePool\"\n    metadata   = { name = var.name, labels = { \"team\" = \"${local.team}-x\" } }\n    spec       = { weight = 10, ratio = 0.5, on = true, none = null }\n  }\n}\n";
        let loaded = load_tf(text);
        assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
        let doc = &loaded.documents[0];
        assert_eq!(doc.kind(), Some("NodePool"));
        assert_eq!(doc.name(), Some("${var.name}"));
        let team = doc.root.path(&["metadata", "labels", "team"]).unwrap();
        assert_eq!(team.as_str(), Some("${local.team}-x"));
        let kind = doc.root.get("kind").unwrap();
        assert_eq!(
            &text[kind.span.start as usize..kind.span.end as usize],
            "\"NodePool\""
        );
        let key = &doc.root.entry("apiVersion").unwrap().key;
        assert_eq!(
            &text[key.span.start as usize..key.span.end as usize],
            "apiVersion"
        );
        assert_eq!(
            doc.root.path(&["spec", "weight"]).unwrap().as_i64(),
            Some(10)
        );
        let facts = loaded.terraform.unwrap();
        let block = &facts.blocks[0];
        assert_eq!(block.address(), "kubernetes_manifest.pool");
        assert_eq!(block.document, Some(0));
        assert!(block.references.contains(&"var.name".to_string()));
    }

    #[test]
    fn yaml_body_heredoc_points_into_the_tf_file() {
        let text = "resource \"kubectl_manifest\" \"nc\" {\n  yaml_body = <<-YAML\n    apiVersion: karpenter.k8s.aws/v1\n    kind: EC2NodeClass\n    metadata:\n      name: ${var.name}\n  YAML\n}\n";
        let loaded = load_tf(text);
        assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
        let doc = &loaded.documents[0];
        assert_eq!(doc.kind(), Some("EC2NodeClass"));
        assert_eq!(doc.name(), Some("${var.name}"));
        let kind = doc.root.get("kind").unwrap();
        assert_eq!(
            &text[kind.span.start as usize..kind.span.end as usize],
            "EC2NodeClass"
        );
    }

    #[test]
    fn generated_or_external_manifests_are_not_documents() {
        let text = "resource \"kubectl_manifest\" \"a\" {\n  yaml_body = file(\"${path.module}/a.yaml\")\n}\nresource \"kubectl_manifest\" \"b\" {\n  yaml_body = <<-YAML\n    kind: X\n    %{ for k in var.keys }\n    ${k}: 1\n    %{ endfor }\n  YAML\n}\nresource \"kubernetes_manifest\" \"c\" {\n  manifest = yamldecode(templatefile(\"x.yaml\", {}))\n}\n";
        let loaded = load_tf(text);
        assert!(loaded.documents.is_empty());
        assert!(loaded.notes.is_empty());
        assert_eq!(loaded.terraform.unwrap().blocks.len(), 3);
    }

    #[test]
    fn provider_and_module_facts() {
        let text = "provider \"kubernetes\" {\n  alias = \"eks\"\n  host = module.eks.cluster_endpoint\n  exec {\n    args = [\"eks\", \"get-token\", \"--cluster-name\", data.aws_eks_cluster.this.name]\n  }\n}\nmodule \"eks\" {\n  source = \"terraform-aws-modules/eks/aws\"\n  providers = { kubernetes = kubernetes.eks }\n}\nlocals {\n  host = aws_eks_cluster.this.endpoint\n}\n";
        let facts = load_tf(text).terraform.unwrap();
        let p = &facts.blocks[0];
        assert_eq!(p.address(), "kubernetes.eks");
        assert_eq!(
            p.references,
            vec![
                "data.aws_eks_cluster.this".to_string(),
                "module.eks".to_string()
            ]
        );
        let m = &facts.blocks[1];
        assert_eq!(m.source.as_deref(), Some("terraform-aws-modules/eks/aws"));
        assert_eq!(
            m.providers,
            vec![("kubernetes".to_string(), "kubernetes.eks".to_string())]
        );
        assert_eq!(
            facts.blocks[2].locals,
            vec![("host".to_string(), vec!["aws_eks_cluster.this".to_string()])]
        );
    }

    #[test]
    fn hostile_nesting_is_a_finding_not_a_crash() {
        let deep = format!(
            "resource \"kubernetes_manifest\" \"x\" {{\n  manifest = {}1{}\n}}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let loaded = load_tf(&deep);
        assert!(loaded.documents.is_empty());
        assert_eq!(loaded.notes.len(), 1, "{:?}", loaded.notes);
        let wide = format!(
            "resource \"kubectl_manifest\" \"x\" {{\n  yaml_body = <<-YAML\n{}  YAML\n}}\n",
            "    - a: &a [1]\n".repeat(20_000)
        );
        let loaded = load_tf(&wide);
        assert!(
            loaded
                .notes
                .iter()
                .all(|n| n.kind == ParseNoteKind::Syntax || n.kind == ParseNoteKind::Yaml11Scalar)
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let loaded = load_tf("resource \"a\" \"b\" {\n  x = \n}\n");
        assert_eq!(loaded.notes.len(), 1);
        assert_eq!(loaded.notes[0].kind, ParseNoteKind::Syntax);
        assert!(loaded.notes[0].span.start > 0);
    }
}

//! Rendering a [`Change`] into edits in the layout of the text around it: block mappings gain
//! lines at their indentation (deeper keys nested block-style, one indentation step per level),
//! flow mappings and JSON objects gain entries with their separator (on a line of their own
//! when the entries are one per line), lists gain items in their own style. Line breaks follow
//! the file's.
//!
//! Every node on the way from the document root to the one edited must be written where it
//! stands: entries merged in with a merge key (`<<: *defaults`) are text shared with other
//! mappings, so changes to them are not rendered. A mapping reached through an alias (`*b`)
//! is its anchor's text (`&b`): a fix is written there, and so fixes every use of it.

use super::{Change, Edit, NewValue, Quotes};
use crate::node::{Entry, Node, Value};

/// The length of a quoted scalar at the start of `text`, through its closing quote (`''` and
/// `\"` do not close it); `None` when `text` does not start with a quote or never closes it.
/// A quoted scalar's span may run on over a comment after it, which an edit must keep.
#[must_use]
pub(crate) fn quoted_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\''))) => q,
        _ => return None,
    };
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|(_, n)| *n == '\'') {
                chars.next();
            } else {
                return Some(i + 1);
            }
        }
    }
    None
}

/// A text and what edits on it need to know about its layout.
pub(crate) struct Layout<'t> {
    text: &'t str,
    eol: &'static str,
}

impl<'t> Layout<'t> {
    /// Reads the file's line breaks once: build one `Layout` per text and render every fix of
    /// that text with it (a search of the whole text per fix is quadratic on one-line files).
    pub(crate) fn new(text: &'t str) -> Self {
        Self {
            text,
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }

    pub(crate) fn text(&self) -> &'t str {
        self.text
    }

    fn slice(&self, node: &Node) -> &'t str {
        self.text
            .get(node.span.start as usize..node.span.end as usize)
            .unwrap_or("")
    }

    fn line_start(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1)
    }

    fn next_line_start(&self, at: usize) -> usize {
        self.text
            .get(at..)
            .and_then(|s| s.find('\n'))
            .map_or(self.text.len(), |i| at + i + 1)
    }

    /// Whether only spaces precede `at` on its line.
    fn first_on_line(&self, at: usize) -> bool {
        let start = self.line_start(at);
        self.text
            .get(start..at)
            .is_some_and(|s| s.trim_start_matches('\u{feff}').bytes().all(|b| b == b' '))
    }

    /// The column (0-based, in bytes: indentation is spaces) of `at`; a byte-order mark is not
    /// a column.
    fn column(&self, at: usize) -> usize {
        let start = match self.line_start(at) {
            0 if self.text.starts_with('\u{feff}') => 3,
            start => start,
        };
        at.saturating_sub(start)
    }

    /// The end of a node's text without trailing whitespace or a comment after a quoted
    /// scalar.
    fn content_end(&self, node: &Node) -> usize {
        let start = node.span.start as usize;
        let text = self.slice(node);
        start + quoted_len(text).unwrap_or_else(|| text.trim_end().len())
    }

    fn entry_end(&self, entry: &Entry) -> usize {
        (entry.key.span.end as usize).max(self.content_end(&entry.value))
    }

    /// Where the line after the text ending at `end` starts, past the comment lines indented
    /// deeper than `col` (they belong to what ends there).
    fn after(&self, end: usize, col: usize) -> usize {
        let mut at = self.next_line_start(end.saturating_sub(1));
        while at < self.text.len() {
            let next = self.next_line_start(at);
            let line = self.text.get(at..next).unwrap_or("");
            let spaces = line.bytes().take_while(|b| *b == b' ').count();
            if spaces <= col || !line.get(spaces..).unwrap_or("").starts_with('#') {
                break;
            }
            at = next;
        }
        at
    }

    fn is_flow(&self, node: &Node) -> bool {
        let s = self.slice(node);
        s.starts_with('{') || s.starts_with('[')
    }

    /// Whether the mapping's keys are JSON-quoted, so new entries are written as JSON.
    fn json_keys(&self, map: &Node) -> bool {
        match map.entries().first() {
            Some(e) => self.slice(&e.key).starts_with('"'),
            None => self
                .text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('{'),
        }
    }

    /// The edits for `change`, or `None` when it cannot be written exactly.
    pub(crate) fn render(&self, root: &Node, change: &Change<'_>) -> Option<Vec<Edit>> {
        match change {
            Change::Replace { node, text, quotes } => {
                self.reachable(root, node)?;
                if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                    return None;
                }
                self.replace(node, text, *quotes).map(|e| vec![e])
            }
            Change::RenameKey { key, to } => {
                self.reachable(root, key)?;
                self.replace(key, to, Quotes::Keep).map(|e| vec![e])
            }
            Change::Insert { map, path, value } => {
                self.reachable(root, map)?;
                let mut map: &Node = map;
                let mut rest: &[String] = path;
                // Follow the keys that exist, through entries written in place.
                while let Some((key, tail)) = rest.split_first() {
                    let Some(entry) = map.entry(key) else {
                        break;
                    };
                    if !local(map, entry) || entry.value.as_map().is_none() {
                        return None;
                    }
                    map = &entry.value;
                    rest = tail;
                }
                let (key, tail) = rest.split_first()?;
                self.insert(map, key, tail, value).map(|e| vec![e])
            }
            Change::Append { seq, item } => {
                self.reachable(root, seq)?;
                self.append(seq, item).map(|e| vec![e])
            }
        }
    }

    /// Checks that every node from `root` to `target` is written where it stands.
    fn reachable(&self, root: &Node, target: &Node) -> Option<()> {
        let mut chain = Vec::new();
        if !ancestors(root, target, &mut chain) {
            return None;
        }
        for pair in chain.windows(2) {
            let [(parent, _), (child, as_key)] = pair else {
                continue;
            };
            let inside = parent.span.start <= child.span.start && child.span.end <= parent.span.end;
            if !inside || (!as_key && self.slice(child).starts_with('*')) {
                return None;
            }
            if let Some(entry) = parent
                .entries()
                .iter()
                .find(|e| std::ptr::eq(&e.value, *child) || std::ptr::eq(&e.key, *child))
                && !local(parent, entry)
            {
                return None;
            }
        }
        // Every entry of a mapping the change adds to is its own (no `<<` merge).
        if target.entries().iter().any(|e| !local(target, e)) {
            return None;
        }
        Some(())
    }

    fn replace(&self, node: &Node, new: &str, quotes: Quotes) -> Option<Edit> {
        let old = self.slice(node);
        if old.is_empty() || old.contains('\n') || old.starts_with(['*', '&', '!', '|', '>']) {
            return None;
        }
        let start = node.span.start as usize;
        let end = quoted_len(old).map_or(start + old.trim_end().len(), |n| start + n);
        let text = match (old.chars().next(), quotes) {
            (Some(q @ ('"' | '\'')), Quotes::Keep) => format!("{q}{new}{q}"),
            _ => new.to_string(),
        };
        Some(Edit::replace(start..end, text))
    }

    /// Adds `key` (with `tail` nested under it, holding `value`) to `map`.
    fn insert(&self, map: &Node, key: &str, tail: &[String], value: &NewValue) -> Option<Edit> {
        let json = self.json_keys(map);
        if self.is_flow(map) {
            let mut inner = flow_value(value, json);
            for k in tail.iter().rev() {
                inner = format!("{{{}: {inner}}}", flow_key(k, json));
            }
            let entry = format!("{}: {inner}", flow_key(key, json));
            return Some(match map.entries().last() {
                Some(last) => {
                    let at = self.entry_end(last);
                    let key_at = last.key.span.start as usize;
                    if self.first_on_line(key_at) {
                        let pad = " ".repeat(self.column(key_at));
                        Edit::insert(at, format!(",{}{pad}{entry}", self.eol))
                    } else {
                        Edit::insert(at, format!(", {entry}"))
                    }
                }
                None => {
                    let open = map.span.start as usize + self.slice(map).find('{')? + 1;
                    Edit::insert(open, entry)
                }
            });
        }
        let entries = map.entries();
        let first = entries.first()?;
        let last = entries.last()?;
        let col = self.column(first.key.span.start as usize);
        // One indentation step: how far a nested block mapping of this one indents, else 2.
        let step = entries
            .iter()
            .find_map(|e| {
                let inner = e.value.entries().first()?;
                if self.is_flow(&e.value) {
                    return None;
                }
                self.column(inner.key.span.start as usize).checked_sub(col)
            })
            .filter(|s| *s > 0)
            .unwrap_or(2);
        let mut text = String::new();
        let mut keys = std::iter::once(key).chain(tail.iter().map(String::as_str));
        let mut depth = 0;
        let mut next = keys.next();
        while let Some(k) = next {
            text.push_str(&" ".repeat(col + depth * step));
            text.push_str(&flow_key(k, json));
            next = keys.next();
            if next.is_some() {
                text.push(':');
                text.push_str(self.eol);
            } else {
                text.push_str(": ");
                text.push_str(&flow_value(value, json));
                text.push_str(self.eol);
            }
            depth += 1;
        }
        let at = self.after(self.entry_end(last), col);
        if at == self.text.len() && !self.text.ends_with('\n') {
            text.truncate(text.len() - self.eol.len());
            text.insert_str(0, self.eol);
        }
        Some(Edit::insert(at, text))
    }

    /// Appends `item` to the list `seq`.
    fn append(&self, seq: &Node, item: &NewValue) -> Option<Edit> {
        let items = seq.as_seq()?;
        let json = self
            .text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{');
        let value = flow_value(item, json);
        if self.is_flow(seq) {
            return Some(match items.last() {
                Some(last) => {
                    let at = self.content_end(last);
                    let item_at = last.span.start as usize;
                    if self.first_on_line(item_at) {
                        let pad = " ".repeat(self.column(item_at));
                        Edit::insert(at, format!(",{}{pad}{value}", self.eol))
                    } else {
                        Edit::insert(at, format!(", {value}"))
                    }
                }
                None => {
                    let open = seq.span.start as usize + self.slice(seq).find('[')? + 1;
                    Edit::insert(open, value)
                }
            });
        }
        let first = items.first()?;
        let last = items.last()?;
        let first_at = first.span.start as usize;
        let line = self.line_start(first_at);
        let dash = line + self.text.get(line..first_at)?.rfind('-')?;
        let col = self.column(dash);
        let mut text = format!("{}- {value}{}", " ".repeat(col), self.eol);
        let at = self.after(self.content_end(last), col);
        if at == self.text.len() && !self.text.ends_with('\n') {
            text.truncate(text.len() - self.eol.len());
            text.insert_str(0, self.eol);
        }
        Some(Edit::insert(at, text))
    }
}

/// Whether an entry is written in its mapping (not merged in with `<<`, not an alias).
fn local(map: &Node, entry: &Entry) -> bool {
    map.span.start <= entry.key.span.start
        && entry.key.span.end <= entry.value.span.start
        && entry.value.span.end <= map.span.end
}

/// The nodes from `node` down to `target` (found by identity), each with whether it is a key.
fn ancestors<'n>(node: &'n Node, target: &Node, out: &mut Vec<(&'n Node, bool)>) -> bool {
    out.push((node, false));
    if std::ptr::eq(node, target) {
        return true;
    }
    // Only nodes whose text holds the target's can be on a chain that `reachable` accepts
    // (each node inside its parent), so the others are not walked: a fix costs the depth of
    // its node, not the size of the document before it.
    let holds = |n: &Node| n.span.start <= target.span.start && target.span.end <= n.span.end;
    match &node.value {
        Value::Seq(items) => {
            for item in items.iter().filter(|i| holds(i)) {
                if ancestors(item, target, out) {
                    return true;
                }
            }
        }
        Value::Map(entries) => {
            for entry in entries.iter() {
                if std::ptr::eq(&entry.key, target) {
                    out.push((&entry.key, true));
                    return true;
                }
                if holds(&entry.value) && ancestors(&entry.value, target, out) {
                    return true;
                }
            }
        }
        _ => {}
    }
    out.pop();
    false
}

/// Whether a string can be written as a YAML plain scalar and read back as the same string
/// by a YAML 1.1 reader (as the API server's is): no booleans, nulls or numbers in disguise.
pub(crate) fn plain_ok(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

fn flow_key(key: &str, json: bool) -> String {
    if !json && plain_ok(key) {
        key.to_string()
    } else {
        serde_json::Value::String(key.to_string()).to_string()
    }
}

/// A value in flow style: YAML (plain scalars where they read back the same) or JSON.
fn flow_value(value: &NewValue, json: bool) -> String {
    match value {
        NewValue::Str(s) => flow_key(s, json),
        NewValue::Bool(b) => b.to_string(),
        NewValue::Int(i) => i.to_string(),
        NewValue::List(items) => {
            let items: Vec<String> = items.iter().map(|v| flow_value(v, json)).collect();
            format!("[{}]", items.join(", "))
        }
        NewValue::Map(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_key(k, json), flow_value(v, json)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::fix::apply;
    use crate::source::{Limits, SourceFile, load};

    /// `text` after the change `make` builds from the first document's root.
    fn changed(text: &str, make: impl Fn(&Node) -> Change<'_>) -> Option<String> {
        let source = SourceFile::new("t.yaml", text);
        let loaded = load(0, &source, &Limits::default());
        let root = &loaded.documents.first().unwrap().root;
        let edits = Layout::new(text).render(root, &make(root))?;
        Some(apply(text, &edits).unwrap())
    }

    fn insert<'a>(map: &'a Node, path: &[&str], value: NewValue) -> Change<'a> {
        Change::Insert {
            map,
            path: path.iter().map(|s| (*s).to_string()).collect(),
            value,
        }
    }

    #[test]
    fn replaces_keep_or_drop_quotes_and_keep_comments() {
        let text = "spec:\n  a: \"optional\" # why\n  b: 'true'\n";
        let got = changed(text, |r| Change::Replace {
            node: r.path(&["spec", "a"]).unwrap(),
            text: "required".into(),
            quotes: Quotes::Keep,
        });
        assert_eq!(
            got.unwrap(),
            "spec:\n  a: \"required\" # why\n  b: 'true'\n"
        );
        let got = changed(text, |r| Change::Replace {
            node: r.path(&["spec", "b"]).unwrap(),
            text: "true".into(),
            quotes: Quotes::Drop,
        });
        assert_eq!(got.unwrap(), "spec:\n  a: \"optional\" # why\n  b: true\n");
    }

    #[test]
    fn inserts_into_block_mappings_at_their_indentation() {
        // A comment at the entries' own column is about what follows: the new entry goes
        // before it; one indented under the last entry belongs to it.
        let text = "spec:\n    role: r # the role\n    # about role\n---\nkind: x\n";
        let got = changed(text, |r| {
            insert(
                r,
                &["spec", "metadataOptions", "httpTokens"],
                NewValue::str("required"),
            )
        });
        assert_eq!(
            got.unwrap(),
            "spec:\n    role: r # the role\n    metadataOptions:\n      httpTokens: required\n    # about role\n---\nkind: x\n"
        );
        // At the end of a file without a final line break, and with CRLF.
        let got = changed("a:\r\n  b: 1", |r| {
            insert(r, &["a", "c"], NewValue::Bool(true))
        });
        assert_eq!(got.unwrap(), "a:\r\n  b: 1\r\n  c: true");
        // A list item's mapping.
        let text = "items:\n  - name: a\n    x: 1\n  - name: b\n";
        let got = changed(text, |r| {
            insert(
                r.get("items").unwrap().items().first().unwrap(),
                &["encrypted"],
                NewValue::Bool(true),
            )
        });
        assert_eq!(
            got.unwrap(),
            "items:\n  - name: a\n    x: 1\n    encrypted: true\n  - name: b\n"
        );
    }

    #[test]
    fn inserts_into_flow_mappings_and_json() {
        let text = "spec: {metadataOptions: {httpTokens: optional}}\n";
        let got = changed(text, |r| {
            insert(
                r,
                &["spec", "metadataOptions", "httpPutResponseHopLimit"],
                NewValue::Int(1),
            )
        });
        assert_eq!(
            got.unwrap(),
            "spec: {metadataOptions: {httpTokens: optional, httpPutResponseHopLimit: 1}}\n"
        );
        let got = changed("spec: {}\n", |r| {
            insert(
                r,
                &["spec", "template", "metadata"],
                NewValue::strings([("node-type", "on")]),
            )
        });
        assert_eq!(
            got.unwrap(),
            "spec: {template: {metadata: {node-type: \"on\"}}}\n"
        );
        let text = "{\n  \"spec\": {\n    \"a\": 1\n  }\n}\n";
        let got = changed(text, |r| insert(r, &["spec", "b", "c"], NewValue::str("x")));
        assert_eq!(
            got.unwrap(),
            "{\n  \"spec\": {\n    \"a\": 1,\n    \"b\": {\"c\": \"x\"}\n  }\n}\n"
        );
    }

    #[test]
    fn appends_to_lists_in_their_style() {
        let taint = NewValue::strings([("key", "k"), ("value", "v"), ("effect", "NoSchedule")]);
        let text = "taints:\n  - {key: a, effect: NoExecute}\nnext: 1\n";
        let got = changed(text, |r| Change::Append {
            seq: r.get("taints").unwrap(),
            item: taint.clone(),
        });
        assert_eq!(
            got.unwrap(),
            "taints:\n  - {key: a, effect: NoExecute}\n  - {key: k, value: v, effect: NoSchedule}\nnext: 1\n"
        );
        let got = changed("taints: []\n", |r| Change::Append {
            seq: r.get("taints").unwrap(),
            item: NewValue::str("x"),
        });
        assert_eq!(got.unwrap(), "taints: [x]\n");
    }

    #[test]
    fn merged_entries_are_not_edited_and_aliases_edit_their_anchor() {
        let text = "base: &b {encrypted: false}\nuse: *b\nmerged:\n  <<: *b\n  size: 1\n";
        let replace = |path: &'static [&'static str]| {
            changed(text, move |r| Change::Replace {
                node: r.path(path).unwrap(),
                text: "true".into(),
                quotes: Quotes::Keep,
            })
        };
        // Merged in: the text is elsewhere and shared, so nothing is offered.
        assert_eq!(replace(&["merged", "encrypted"]), None);
        assert!(
            changed(text, |r| insert(
                r.get("merged").unwrap(),
                &["x"],
                NewValue::Int(1)
            ))
            .is_none()
        );
        // An alias of a mapping is its anchor's text: the fix is written there, for every use.
        let fixed = "base: &b {encrypted: true}\nuse: *b\nmerged:\n  <<: *b\n  size: 1\n";
        assert_eq!(replace(&["use", "encrypted"]).as_deref(), Some(fixed));
        assert_eq!(replace(&["base", "encrypted"]).as_deref(), Some(fixed));
    }

    #[test]
    fn plain_scalars_that_would_read_back_otherwise_are_quoted() {
        assert_eq!(flow_value(&NewValue::str("required"), false), "required");
        assert_eq!(flow_value(&NewValue::str("yes"), false), "\"yes\"");
        assert_eq!(flow_value(&NewValue::str("1"), false), "\"1\"");
        assert_eq!(flow_value(&NewValue::str("a b"), false), "\"a b\"");
        assert_eq!(
            flow_value(
                &NewValue::Map(vec![(
                    "a".into(),
                    NewValue::List(vec![NewValue::Int(1), NewValue::Bool(true)])
                )]),
                true
            ),
            "{\"a\": [1, true]}"
        );
    }
}

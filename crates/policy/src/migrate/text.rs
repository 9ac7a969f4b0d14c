//! Reading the source around a node: where lines start, a node's column (a byte-order mark is
//! not one), where an entry's text ends (with the comment lines indented under it), whether a
//! collection is written in flow style or with JSON quotes, whether an entry is written in its
//! mapping or comes from an alias or merge key, and an entry's text captured for a move.

use super::planner::{Captured, Planner};
use crate::node::{Entry, Node, Value};

// One scanner of quoted scalars for migrate and fixes.
pub(super) use crate::fix::layout::quoted_len;

impl<'a> Planner<'a> {
    pub(super) fn slice(&self, node: &Node) -> &'a str {
        self.text
            .get(node.span.start as usize..node.span.end as usize)
            .unwrap_or("")
    }

    pub(super) fn line_start(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1)
    }

    pub(super) fn next_line_start(&self, at: usize) -> usize {
        self.text
            .get(at..)
            .and_then(|s| s.find('\n'))
            .map_or(self.text.len(), |i| at + i + 1)
    }

    /// Whether only spaces precede `at` on its line.
    pub(super) fn first_on_line(&self, at: usize) -> bool {
        let start = self.line_start(at);
        self.text
            .get(start..at)
            .is_some_and(|s| s.bytes().all(|b| b == b' '))
    }

    /// The column (0-based, in bytes: indentation is spaces) of `at`; a byte-order mark is not
    /// a column.
    pub(super) fn column(&self, at: usize) -> usize {
        let start = match self.line_start(at) {
            0 if self.text.starts_with('\u{feff}') => 3,
            start => start,
        };
        at.saturating_sub(start)
    }

    /// The end of a node's text without trailing whitespace (block scalars run on to the next
    /// token).
    pub(super) fn content_end(&self, node: &Node) -> usize {
        let start = node.span.start as usize;
        let text = self.slice(node);
        start + quoted_len(text).unwrap_or_else(|| text.trim_end().len())
    }

    /// The end of an entry's text.
    pub(super) fn entry_end(&self, entry: &Entry) -> usize {
        (entry.key.span.end as usize).max(self.content_end(&entry.value))
    }

    /// Where the text after an entry of a block mapping starts: the line after its last line
    /// and after the comment lines indented under it (they belong to it).
    pub(super) fn after_entry(&self, entry: &Entry) -> usize {
        let col = self.column(entry.key.span.start as usize);
        let mut at = self.next_line_start(self.entry_end(entry).saturating_sub(1));
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

    /// A node's text without a leading anchor or tag.
    pub(super) fn bare(&self, node: &Node) -> &'a str {
        let mut s = self.slice(node);
        while s.starts_with('&') || s.starts_with('!') {
            s = s
                .find(char::is_whitespace)
                .and_then(|i| s.get(i..))
                .unwrap_or("")
                .trim_start();
        }
        s
    }

    pub(super) fn is_flow(&self, node: &Node) -> bool {
        let s = self.bare(node);
        s.starts_with('{') || s.starts_with('[')
    }

    /// Whether a mapping's keys are JSON-quoted (`"key": ...`), so new entries should be too.
    pub(super) fn json_style(&self, map: &Node) -> bool {
        map.entries()
            .first()
            .is_some_and(|e| self.slice(&e.key).starts_with('"'))
    }

    /// Whether an entry is written where its mapping is (not merged in with `<<`, not an alias).
    pub(super) fn local(&self, map: &Node, entry: &Entry) -> bool {
        map.span.start <= entry.key.span.start
            && entry.key.span.end <= entry.value.span.start
            && entry.value.span.end <= map.span.end
            && !self.slice(&entry.value).starts_with('*')
    }

    /// Captures an entry of `parent` for a move.
    pub(super) fn capture(&self, parent: &Node, entry: &Entry) -> Captured {
        let key_at = entry.key.span.start as usize;
        let col = self.column(key_at);
        let end = self.entry_end(entry);
        let strip = |line: &str| -> String {
            let spaces = line.bytes().take_while(|b| *b == b' ').count();
            line.get(spaces.min(col)..).unwrap_or("").to_string()
        };
        let in_flow = self.is_flow(parent);
        let scalar = !matches!(entry.value.value, Value::Map(_) | Value::Seq(_));
        let inline = if in_flow
            || self.is_flow(&entry.value)
            || scalar && !self.slice(&entry.value).contains('\n')
        {
            let body = self.text.get(key_at..end).unwrap_or("");
            let mut lines = body.lines();
            let mut out: Vec<String> = lines.next().map(str::to_string).into_iter().collect();
            out.extend(lines.map(|l| strip(l.trim_end_matches('\r'))));
            Some(out)
        } else {
            None
        };
        if in_flow {
            return Captured {
                block: inline.clone().unwrap_or_default(),
                inline,
            };
        }
        let mut block = Vec::new();
        if self.first_on_line(key_at) {
            block = self.leading_comments(key_at, col);
        }
        let body = self.text.get(key_at..self.after_entry(entry)).unwrap_or("");
        let mut lines = body.lines();
        if let Some(first) = lines.next() {
            block.push(first.trim_end_matches('\r').to_string());
        }
        block.extend(lines.map(|l| strip(l.trim_end_matches('\r'))));
        Captured { block, inline }
    }

    /// Comment lines directly above `at` (a key first on its line), at its column.
    pub(super) fn leading_comments(&self, at: usize, col: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut line = self.line_start(at);
        while line > 0 {
            let prev = self.line_start(line - 1);
            let text = self
                .text
                .get(prev..line)
                .unwrap_or("")
                .trim_end_matches(['\n', '\r']);
            let spaces = text.bytes().take_while(|b| *b == b' ').count();
            if spaces != col || !text.get(spaces..).unwrap_or("").starts_with('#') {
                break;
            }
            out.push(text.get(spaces..).unwrap_or("").to_string());
            line = prev;
        }
        out.reverse();
        out
    }

    /// How far the block sequences of a mapping indent their `-` past the key (0 or 2).
    pub(super) fn sequence_indent(&self, map: &Node) -> Option<usize> {
        map.entries().iter().find_map(|e| {
            let first = e.value.as_seq()?.first()?;
            if self.is_flow(&e.value) {
                return None;
            }
            let at = first.span.start as usize;
            let line = self.line_start(at);
            let before = self.text.get(line..at)?;
            let dash = before.rfind('-')?;
            let key_col = self.column(e.key.span.start as usize);
            dash.checked_sub(key_col)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_len;

    #[test]
    fn a_quoted_scalar_ends_at_its_closing_quote() {
        assert_eq!(quoted_len("\"a\" # comment"), Some(3));
        assert_eq!(quoted_len("\"a\\\"b\""), Some(6));
        assert_eq!(quoted_len("'it''s' # x"), Some(7));
        assert_eq!(quoted_len("'é'"), Some(4));
        assert_eq!(quoted_len("plain # x"), None);
        assert_eq!(quoted_len("\"unclosed"), None);
    }
}

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Frame, Position, Report, Severity};
use crate::render::RenderOptions;
use crate::render::escape::{push_visible, visible};
use crate::source::SourceFile;

/// Lines of a finding shown at most (the rest of a long span is cut).
const MAX_FRAME_LINES: usize = 6;

/// A frame longer than this shows a window around the finding instead of whole lines.
const MAX_FRAME_BYTES: usize = 1024;

/// Bytes of context on each side of a finding in a windowed frame, and of the finding itself.
const WINDOW_CONTEXT: usize = 60;
const WINDOW_SPAN: usize = 200;

/// The text around `start..end` of `text`, on one line, and the span's place in it.
fn window(text: &str, start: usize, end: usize) -> (String, usize, usize) {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let end = floor(end.min(start + WINDOW_SPAN));
    let from = floor(start.saturating_sub(WINDOW_CONTEXT));
    let to = floor(end + WINDOW_CONTEXT);
    let piece = text.get(from..to).unwrap_or("");
    // One line: what follows a line break inside the window is cut.
    let cut = piece
        .find(['\n', '\r'])
        .map_or(piece.len(), |i| i.max(start - from));
    let piece = piece.get(..cut).unwrap_or(piece);
    let local_start = (start - from).min(piece.len());
    let local_end = (end - from).clamp(local_start, piece.len());
    (piece.to_string(), local_start, local_end)
}

/// Code frames, one per finding, then a summary line.
#[must_use]
pub fn human(report: &Report, options: RenderOptions) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .term_width(120);
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&frame(report, d, &renderer));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn frame(report: &Report, d: &Diagnostic, renderer: &Renderer) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    // Input never reaches the terminal raw: messages, help, rule IDs and paths are shown with
    // control, separator and bidi characters escaped, so none can break a line (and forge a
    // workflow command in a CI log) or rewrite what the terminal shows.
    let message = visible(&d.message);
    let rule = visible(&d.rule);
    let title = level.primary_title(message.as_ref()).id(rule.as_ref());
    let position = report.position(d);
    let path = visible(report.file_name(d)).into_owned();
    let mut groups: Vec<Group<'_>> = Vec::new();
    let located;
    let frame = match report.files.get(d.file) {
        Some(file) if !file.text.is_empty() => {
            located = frame_text(file, d, position);
            Some(&located)
        }
        _ => report.located.frames.get(&(d.file, d.span)),
    };
    let mut header_fix: Option<(String, String)> = None;
    let group = match frame {
        Some(snippet) => {
            if let Some(window_column) = snippet.window_column {
                // The renderer counts the column in the window; the header gets the real one.
                header_fix = Some((
                    format!("{path}:{}:{window_column}", position.line),
                    format!("{path}:{}:{}", position.line, position.column),
                ));
            }
            let snippet = Snippet::source(snippet.text.as_str())
                .line_start(snippet.first_line)
                .path(path.as_str())
                .annotation(AnnotationKind::Primary.span(snippet.start..snippet.end));
            title.element(snippet)
        }
        None => title.element(
            annotate_snippets::Origin::path(path.as_str())
                .line(position.line)
                .char_column(position.column),
        ),
    };
    groups.push(group);
    let help = d.help.as_deref().map(visible);
    if let Some(help) = &help {
        groups.push(Group::with_title(
            Level::HELP.secondary_title(help.as_ref()),
        ));
    }
    let text = renderer.render(&groups);
    match header_fix {
        // After the title line, so a message that quotes the same text stays as it is.
        Some((shown, real)) => match text.split_once('\n') {
            Some((title, rest)) => format!("{title}\n{}", rest.replacen(&shown, &real, 1)),
            None => text,
        },
        None => text,
    }
}

/// The code frame of finding `d` in `file`: only the lines of the finding, so it is cheap on
/// huge files; a window around the finding when they are long (a one-line JSON plan), so each
/// frame costs the window, not the line.
pub(crate) fn frame_text(file: &SourceFile, d: &Diagnostic, position: Position) -> Frame {
    let first = position.line;
    let last = position
        .end_line
        .min(first + MAX_FRAME_LINES - 1)
        .max(first);
    let start = file.line_start(first).unwrap_or(0);
    let end = file.line_start(last + 1).unwrap_or(file.text.len() as u32);
    let raw = file.slice(crate::node::Span::new(start, end));
    let raw = raw
        .get(..raw.trim_end_matches(['\n', '\r']).len())
        .unwrap_or(raw);
    let local_start = (d.span.start.saturating_sub(start) as usize).min(raw.len());
    let local_end = (d.span.end.saturating_sub(start) as usize).clamp(local_start, raw.len());
    if raw.len() <= MAX_FRAME_BYTES {
        return safe_frame(raw, local_start, local_end, first);
    }
    let (window, from, to) = window(raw, local_start, local_end);
    let mut frame = safe_frame(&window, from, to, first);
    frame.window_column = Some(
        frame
            .text
            .get(..frame.start)
            .map_or(0, |w| w.chars().count())
            + 1,
    );
    frame
}

/// The source lines of a frame, safe for a terminal: line breaks (LF, CRLF and a lone CR, as
/// the source counts lines) become LF, every other unsafe character a visible escape; `start`
/// and `end` are the underlined range, moved with the text.
fn safe_frame(raw: &str, start: usize, end: usize, first_line: usize) -> Frame {
    let mut text = String::with_capacity(raw.len());
    let (mut new_start, mut new_end) = (None, None);
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i >= start && new_start.is_none() {
            new_start = Some(text.len());
        }
        if i >= end && new_end.is_none() {
            new_end = Some(text.len());
        }
        match c {
            '\n' | '\t' => text.push(c),
            '\r' => {
                if chars.peek().is_none_or(|&(_, next)| next != '\n') {
                    text.push('\n');
                }
            }
            c => push_visible(&mut text, c),
        }
    }
    let start = new_start.unwrap_or(text.len());
    let end = new_end.unwrap_or(text.len()).max(start);
    Frame {
        text,
        start,
        end,
        first_line,
        window_column: None,
    }
}

/// `Found 2 errors and 1 warning in 3 files (9 documents, 1 skipped, 1 suppressed).`
#[must_use]
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut found = Vec::new();
    if s.errors > 0 {
        found.push(plural(s.errors, "error"));
    }
    if s.warnings > 0 {
        found.push(plural(s.warnings, "warning"));
    }
    if s.infos > 0 {
        found.push(plural(s.infos, "info"));
    }
    let mut details = vec![plural(s.documents, "document")];
    if s.skipped_documents > 0 {
        details.push(format!("{} skipped", s.skipped_documents));
    }
    if s.suppressed > 0 {
        details.push(format!("{} suppressed", s.suppressed));
    }
    let files = plural(s.files, "file");
    if found.is_empty() {
        format!("No findings in {files} ({}).", details.join(", "))
    } else {
        format!(
            "Found {} in {files} ({}).",
            found.join(" and "),
            details.join(", ")
        )
    }
}

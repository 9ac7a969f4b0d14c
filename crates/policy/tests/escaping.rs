//! No byte of input becomes a terminal control sequence, a workflow command, markup or broken
//! XML, in any format (issue 8). A property test renders reports whose messages, help, file
//! names, object names and custom rule IDs are random strings biased to the hostile class, and
//! checks each format's invariant; fixed cases below keep the hostile inputs found on the way.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    reason = "tests read the schema oracle and fail loudly"
)]

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use eksgate_policy::node::Span;
use eksgate_policy::render::escape::visible;
use eksgate_policy::render::{Format, RenderOptions, render};
use eksgate_policy::{
    CheckOptions, CheckedObject, CustomRuleInfo, Diagnostic, Input, Policy, Report, Severity,
    SourceFile, check,
};
use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

const PLAIN: RenderOptions = RenderOptions {
    color: false,
    version: "0.1.0",
};
const COLOR: RenderOptions = RenderOptions {
    color: true,
    version: "0.1.0",
};

/// Pieces an attacker would use: line breaks, workflow-command and percent escapes, HTML and
/// Markdown syntax, link schemes, control and bidi characters.
const HOSTILE: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "::",
    "::stop-commands::tok",
    "::add-mask::",
    "%0A",
    "%25",
    "%",
    "<",
    ">",
    "&",
    "&amp;",
    "`",
    "``",
    "|",
    "]",
    "[x](javascript:alert(1))",
    "![i](https://e.x/i.png)",
    "<https://e.x>",
    "https://evil.example/a",
    "www.evil.example",
    "a@b.co",
    "javascript:alert(1)",
    "</details>",
    "</summary>",
    "<!--",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "*",
    "**",
    "_",
    "~~",
    "#",
    "$x$",
    "\\",
    "\0",
    "\t",
    "\u{1b}[31m",
    "\u{7}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{202e}",
    "\u{2066}",
    "\u{feff}",
    "\u{fffe}",
    "\"",
    "'",
    ",",
    "=",
    ":",
    " ",
    "  ",
    "- ",
    "1. ",
    "> ",
    "    ",
    "[^1]",
    "- [ ] ",
    // Past the terminal width: wrapping must never start a line with input.
    "a-value-long-enough-to-pass-the-one-hundred-and-twenty-column-terminal-width-of-the-human-renderer-and-then-some-more-text ::stop-commands::tok",
];

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(HOSTILE).prop_map(str::to_string),
        2 => "[a-z]{1,4}",
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

fn non_empty_hostile() -> impl Strategy<Value = String> {
    hostile().prop_map(|s| if s.is_empty() { "x".to_string() } else { s })
}

#[derive(Debug, Clone)]
struct Finding {
    file: usize,
    at: (usize, usize),
    rule: String,
    message: String,
    help: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    severity: Severity,
}

fn severity() -> impl Strategy<Value = Severity> {
    prop_oneof![
        Just(Severity::Error),
        Just(Severity::Warning),
        Just(Severity::Info)
    ]
}

fn finding() -> impl Strategy<Value = Finding> {
    (
        (0usize..3, any::<(usize, usize)>(), non_empty_hostile()),
        (hostile(), proptest::option::of(hostile())),
        (
            proptest::option::of(hostile()),
            proptest::option::of(hostile()),
            severity(),
        ),
    )
        .prop_map(
            |((file, at, rule), (message, help), (kind, name, severity))| Finding {
                file,
                at,
                rule,
                message,
                help,
                kind,
                name,
                severity,
            },
        )
}

/// A byte offset on a character boundary of `text`, chosen by `n`.
fn boundary(text: &str, n: usize) -> u32 {
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    offsets[n % offsets.len()] as u32
}

/// A report made directly from random strings: renderers see every field hostile, including
/// ones the engine itself would constrain (custom rule IDs).
fn report(names: &[String], texts: &[String], findings: &[Finding]) -> Report {
    let files: Vec<SourceFile> = names
        .iter()
        .zip(texts)
        .map(|(name, text)| SourceFile::new(name.clone(), text.clone()))
        .collect();
    let mut diagnostics = Vec::new();
    let mut objects = Vec::new();
    for f in findings {
        let file = f.file % files.len();
        let text = &files[file].text;
        let (a, b) = (boundary(text, f.at.0), boundary(text, f.at.1));
        diagnostics.push(Diagnostic {
            rule: Cow::Owned(f.rule.clone()),
            rule_name: Cow::Owned(f.rule.to_lowercase()),
            severity: f.severity,
            message: f.message.clone(),
            help: f.help.clone(),
            file,
            span: Span::new(a.min(b), a.max(b)),
            pointer: "/spec".to_string(),
            document: 0,
            kind: f.kind.clone(),
            name: f.name.clone(),
            fix: None,
        });
        objects.push(CheckedObject {
            file,
            document: 1,
            kind: f.kind.clone(),
            name: f.name.clone(),
        });
    }
    let custom_rules = findings
        .iter()
        .map(|f| CustomRuleInfo {
            id: f.rule.clone(),
            severity: f.severity,
            summary: f.message.clone(),
            expression: f.help.clone().unwrap_or_default(),
        })
        .collect();
    let mut report = Report {
        files,
        diagnostics,
        custom_rules,
        objects,
        ..Report::default()
    };
    report.summary.files = report.files.len();
    report.summary.errors = report.diagnostics.len();
    report
}

// ---------------------------------------------------------------------------------------------
// The invariants, one function per format.

/// Lines as the Actions runner reads them: split at LF, CR and CRLF.
fn runner_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
}

fn assert_no_forged_command(format: &str, text: &str) {
    for line in runner_lines(text) {
        assert!(
            !line.trim_start().starts_with("::"),
            "{format}: a line reads as a workflow command: {line:?}\n{text}"
        );
    }
}

/// `\x1b[…m` colour sequences removed (the only escapes the renderer may write itself).
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        assert_eq!(
            tail[end..].chars().next(),
            Some('m'),
            "a non-colour escape: {text:?}"
        );
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn check_human(report: &Report, options: RenderOptions) {
    let raw = render(report, Format::Human, options);
    let out = if options.color {
        strip_sgr(&raw)
    } else {
        raw.clone()
    };
    if !options.color {
        assert!(
            !raw.contains('\u{1b}'),
            "no escapes without colour: {raw:?}"
        );
    }
    for c in out.chars() {
        assert!(
            c == '\n' || !eksgate_policy::render::escape::is_unsafe_char(c),
            "human: raw {c:?} reached the terminal:\n{out:?}"
        );
    }
    assert_no_forged_command("human", &out);
    for d in &report.diagnostics {
        // The message is shown, escaped (annotate-snippets may only trim trailing blanks).
        let shown = visible(&d.message);
        assert!(
            out.contains(shown.trim_end()),
            "human: the message {shown:?} is not shown:\n{out}"
        );
    }
}

/// Undoes the github renderer's escaping of data (`%25`, `%0D`, `%0A`) and properties (also
/// `%3A`, `%2C`).
fn unescape_github(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn check_github(report: &Report) {
    let out = render(report, Format::Github, PLAIN);
    assert!(!out.contains('\r'), "github: a raw CR: {out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), report.diagnostics.len() + 1, "{out}");
    let last = lines.last().unwrap();
    assert!(last.starts_with("::notice title=eksgate::"), "{last}");
    for (line, d) in lines.iter().zip(&report.diagnostics) {
        let rest = ["::error ", "::warning ", "::notice "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
            .unwrap_or_else(|| panic!("github: not a command: {line:?}"));
        // Properties cannot contain `::` (their `:` is escaped), so the first `::` ends them.
        let (props, data) = rest.split_once("::").unwrap();
        let mut file = None;
        for prop in props.split(',') {
            let (key, value) = prop.split_once('=').unwrap();
            if key == "file" {
                file = Some(unescape_github(value));
            }
        }
        assert_eq!(file.as_deref(), Some(report.file_name(d)), "{line}");
        let want = match &d.help {
            Some(help) => format!("{}\nhelp: {help}", d.message),
            None => d.message.clone(),
        };
        assert_eq!(unescape_github(data), want, "{line}");
    }
}

/// The HTML the markdown template writes; nothing else may appear as an element.
const TEMPLATE_TAGS: &[&str] = &[
    "<details open>",
    "</details>",
    "<summary>",
    "</summary>",
    "<code>",
    "</code>",
];

fn check_markdown(report: &Report) {
    let out = render(report, Format::Markdown, PLAIN);
    assert_no_forged_command("markdown", &out);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_GFM
        | Options::ENABLE_MATH;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut html = String::new();
    let mut in_cell = false;
    for event in Parser::new_ext(&out, options) {
        match event {
            Event::Start(Tag::TableRow | Tag::TableHead) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => {
                in_cell = true;
                rows.last_mut().unwrap().push(String::new());
            }
            Event::End(TagEnd::TableCell) => in_cell = false,
            Event::Text(t) | Event::Code(t) if in_cell => {
                rows.last_mut().unwrap().last_mut().unwrap().push_str(&t);
            }
            Event::Html(t) | Event::InlineHtml(t) => html.push_str(&t),
            Event::Start(Tag::Paragraph | Tag::Table(_) | Tag::HtmlBlock)
            | Event::End(_)
            | Event::Text(_)
            | Event::Code(_) => {}
            Event::Start(Tag::Heading { level, .. }) => {
                assert_eq!(level, pulldown_cmark::HeadingLevel::H3, "{out}");
            }
            other => panic!("markdown: {other:?} did not come from the template:\n{out}"),
        }
    }
    let mut rest = html.clone();
    for tag in TEMPLATE_TAGS {
        rest = rest.replace(tag, "");
    }
    assert!(
        !rest.contains('<') && !rest.contains('>'),
        "markdown: HTML from input: {rest:?}\n{out}"
    );
    // Every row keeps the shape of its table, and every message and help is shown as its text.
    let normal = |s: &str| -> String {
        s.replace('`', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for d in &report.diagnostics {
        let (message, help) = (
            normal(&visible(&d.message)),
            normal(&visible(d.help.as_deref().unwrap_or(""))),
        );
        assert!(
            rows.iter().any(|r| r.len() == 5
                && normal(&r[3]) == message
                && normal(&r[4]) == help
                && normal(&r[1]) == normal(&visible(&d.rule))),
            "markdown: no row shows {message:?} / {help:?}: {rows:#?}\n{out}"
        );
    }
    for name in report.files.iter().map(|f| &f.name) {
        if report
            .diagnostics
            .iter()
            .any(|d| report.file_name(d) == name)
        {
            let escaped = eksgate_policy::render::escape::html(name);
            assert!(
                html.contains(&format!("<summary><code>{escaped}</code>")),
                "markdown: {name:?} is not in its summary:\n{out}"
            );
        }
    }
}

/// Characters XML 1.0 allows (`Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn check_junit(report: &Report) {
    use quick_xml::Reader;
    use quick_xml::events::Event as Xml;
    let out = render(report, Format::Junit, PLAIN);
    assert!(out.chars().all(xml_char), "junit: a character XML forbids");
    assert_no_forged_command("junit", &out);
    let mut reader = Reader::from_str(&out);
    let mut text = String::new();
    let mut cases = 0;
    loop {
        match reader.read_event() {
            Ok(Xml::Eof) => break,
            Ok(Xml::Start(e) | Xml::Empty(e)) => {
                if e.name().as_ref() == b"testcase" {
                    cases += 1;
                }
                for attribute in e.attributes() {
                    let attribute = attribute.unwrap();
                    attribute.unescape_value().unwrap();
                }
            }
            Ok(Xml::Text(t)) => text.push_str(&t.decode().unwrap()),
            Ok(Xml::GeneralRef(r)) => {
                let name = r.decode().unwrap();
                text.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("junit: unexpected entity {other}"),
                });
            }
            Ok(_) => {}
            Err(e) => panic!(
                "junit: not well-formed at {}: {e}\n{out}",
                reader.error_position()
            ),
        }
    }
    assert!(cases >= 1 || report.diagnostics.is_empty(), "{out}");
    for d in &report.diagnostics {
        assert!(
            text.contains(visible(&d.message).as_ref()),
            "junit: {d:?}\n{out}"
        );
    }
}

static SARIF: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/sarif-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft4::new(&schema).unwrap()
});

fn check_json_and_sarif(report: &Report) {
    let json: serde_json::Value =
        serde_json::from_str(&render(report, Format::Json, PLAIN)).unwrap();
    for (item, d) in json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&report.diagnostics)
    {
        assert_eq!(item["message"], d.message.as_str());
        assert_eq!(item["file"], report.file_name(d));
        assert_eq!(item["rule"], d.rule.as_ref());
        assert_eq!(item["name"].as_str(), d.name.as_deref());
    }
    let text = render(report, Format::Sarif, PLAIN);
    assert_no_forged_command("sarif", &text);
    let log: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = SARIF.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "sarif: {errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    for (result, d) in results.iter().zip(&report.diagnostics) {
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.starts_with(d.message.as_str()), "{text:?}");
    }
}

fn check_every_format(report: &Report) {
    check_human(report, PLAIN);
    check_human(report, COLOR);
    check_github(report);
    check_markdown(report);
    check_junit(report);
    check_json_and_sarif(report);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_format_escapes_hostile_input(
        names in proptest::collection::vec(non_empty_hostile(), 1..3),
        texts in proptest::collection::vec(hostile(), 3),
        findings in proptest::collection::vec(finding(), 0..4),
    ) {
        let texts: Vec<String> = names.iter().zip(texts.iter().cycle()).map(|(_, t)| t.clone()).collect();
        check_every_format(&report(&names, &texts, &findings));
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed hostile cases: through the real engine, so the values arrive the way users send them.

fn checked(name: &str, text: &str) -> Report {
    check(
        vec![Input::text(name, text)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    )
}

const NODE_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: \"optional\\n::stop-commands::tok\"}\n  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}\n";

#[test]
fn a_value_with_a_newline_cannot_forge_a_workflow_command() {
    // issue 8: `httpTokens: "optional\n::stop-commands::tok"` printed an indented
    // `::stop-commands::tok` line in the human output.
    let report = checked("nodeclass.yaml", NODE_CLASS);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.message.contains("\n::stop-commands::")),
        "the value reaches a message: {:#?}",
        report.diagnostics
    );
    let out = render(&report, Format::Human, PLAIN);
    assert!(out.contains("optional\\n::stop-commands::tok"), "{out}");
    check_every_format(&report);
}

#[test]
fn file_names_with_line_breaks_stay_on_their_line() {
    for name in [
        "a\n::stop-commands::tok.yaml",
        "a\r::error::x.yaml",
        "a\r\n  ::add-mask::x.yaml",
        "b\u{2028}::x.yaml",
        "</summary></details><img src=x onerror=alert(1)>\n\n# big.yaml",
        "<!-- hide the rest.yaml",
        "javascript:alert(1)//.yaml",
        "\u{202e}lmay.exe",
    ] {
        let report = checked(name, NODE_CLASS);
        check_every_format(&report);
        let md = render(&report, Format::Markdown, PLAIN);
        assert!(!md.contains("<img"), "{md}");
        assert!(!md.contains("<!--"), "{md}");
    }
}

#[test]
fn source_lines_in_code_frames_are_escaped_behind_the_gutter() {
    // A lone CR is a line break to YAML: the frame shows it as one, never raw; a bidi override in
    // a comment is shown escaped, and no frame line can start with `::`. (An ESC is refused
    // outright, as libyaml and kubectl refuse it: the last case checks its frame.)
    let text = "apiVersion: karpenter.k8s.aws/v1\rkind: EC2NodeClass\rmetadata: {name: infra} # \u{202e}\rspec:\r  metadataOptions:\r    httpTokens: optional # ::stop-commands::x\r";
    let report = checked("cr.yaml", text);
    assert!(!report.diagnostics.is_empty());
    let out = render(&report, Format::Human, PLAIN);
    assert!(!out.contains('\r'), "{out:?}");
    assert!(
        out.contains("httpTokens: optional # ::stop-commands::x"),
        "{out}"
    );
    check_every_format(&report);
    let esc = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: optional} # \u{1b}]0;owned\u{7}\n";
    let out = render(&checked("esc.yaml", esc), Format::Human, PLAIN);
    assert!(out.contains("\\u{1b}]0;owned\\u{7}"), "{out}");
}

#[test]
fn markdown_shows_html_in_values_as_text() {
    let text = NODE_CLASS.replace(
        "\"optional\\n::stop-commands::tok\"",
        // (`<script src=x>`, not `<script>`: a bare `<name>` is a documentation placeholder,
        // an unknown value no rule echoes.)
        "\"</details><script src=x>alert(1)</script> <!-- [x](javascript:alert(1)) https://e.x\"",
    );
    let report = checked("m.yaml", &text);
    let md = render(&report, Format::Markdown, PLAIN);
    // The value is a code span (where GitHub interprets no HTML and links nothing)...
    assert!(
        md.contains(
            "`</details><script src=x>alert(1)</script> <!-- [x](javascript:alert(1)) https://e.x`"
        ),
        "{md}"
    );
    // ...and the page has no element the template did not write.
    check_every_format(&report);
}

#[test]
fn junit_replaces_characters_xml_cannot_carry() {
    let text = NODE_CLASS.replace("::stop-commands::tok", "\\u0001\\u001b\\u0000");
    let report = checked("j\u{1}.yaml", &text);
    let xml = render(&report, Format::Junit, PLAIN);
    assert!(xml.contains("\\u{1}"), "{xml}");
    check_every_format(&report);
}

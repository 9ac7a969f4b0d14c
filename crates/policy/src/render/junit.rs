//! JUnit XML for CI systems that read test reports: one test suite per file, one test case per
//! checked object (`Kind/name` in its document); a case fails when the object has findings, and
//! its failure lists them. Findings outside any checked object (a file that cannot be parsed, a
//! warning on a kind no rule reads) get a case of their own for their document.
//!
//! Every value goes through [`visible`] before the XML writer escapes it: XML 1.0 has no way to
//! write most control characters, not even as character references, so they are shown as
//! `\u{…}` escapes and the document stays well-formed.

use std::collections::BTreeMap;
use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::diagnostic::{Diagnostic, Report};
use crate::render::escape::visible;

#[must_use]
pub fn junit(report: &Report) -> String {
    write(report).unwrap_or_default()
}

/// A test case: an object of a file, and the findings on it.
#[derive(Default)]
struct Case<'a> {
    kind: Option<&'a str>,
    name: Option<&'a str>,
    findings: Vec<&'a Diagnostic>,
}

type CaseKey<'a> = (usize, Option<&'a str>, Option<&'a str>);

/// The cases of every file, in input order: the checked objects, then any document with
/// findings that is not one of them.
fn cases(report: &Report) -> Vec<Vec<(usize, Case<'_>)>> {
    let mut files: Vec<BTreeMap<CaseKey<'_>, (usize, Case<'_>)>> =
        report.files.iter().map(|_| BTreeMap::new()).collect();
    let mut order = 0;
    for object in &report.objects {
        let key = (
            object.document,
            object.kind.as_deref(),
            object.name.as_deref(),
        );
        if let Some(cases) = files.get_mut(object.file) {
            cases.entry(key).or_insert_with(|| {
                order += 1;
                (
                    order,
                    Case {
                        kind: key.1,
                        name: key.2,
                        findings: Vec::new(),
                    },
                )
            });
        }
    }
    for d in &report.diagnostics {
        let key = (d.document, d.kind.as_deref(), d.name.as_deref());
        if let Some(cases) = files.get_mut(d.file) {
            let entry = cases.entry(key).or_insert_with(|| {
                order += 1;
                (
                    order,
                    Case {
                        kind: key.1,
                        name: key.2,
                        findings: Vec::new(),
                    },
                )
            });
            entry.1.findings.push(d);
        }
    }
    files
        .into_iter()
        .map(|cases| {
            let mut cases: Vec<_> = cases
                .into_iter()
                .map(|((document, _, _), (order, case))| (order, document, case))
                .collect();
            cases.sort_by_key(|(order, _, _)| *order);
            cases
                .into_iter()
                .map(|(_, document, case)| (document, case))
                .collect()
        })
        .collect()
}

/// `EC2NodeClass/infra (document 2)`: what the case is about, and where in the file.
fn case_name(document: usize, case: &Case<'_>) -> String {
    let what = match (case.kind, case.name) {
        (Some(kind), Some(name)) => format!("{}/{}", visible(kind), visible(name)),
        (Some(kind), None) => visible(kind).into_owned(),
        (None, Some(name)) => visible(name).into_owned(),
        (None, None) => "document".to_string(),
    };
    format!("{what} (document {})", document + 1)
}

fn write(report: &Report) -> Result<String, quick_xml::Error> {
    let files = cases(report);
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let total_cases: usize = files.iter().map(Vec::len).sum();
    let total_failures: usize = files
        .iter()
        .flatten()
        .filter(|(_, c)| !c.findings.is_empty())
        .count();
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "eksgate"));
    suites.push_attribute(("tests", total_cases.to_string().as_str()));
    suites.push_attribute(("failures", total_failures.to_string().as_str()));
    w.write_event(Event::Start(suites))?;
    for (file, cases) in report.files.iter().zip(&files) {
        let file_name = visible(&file.name);
        let failures = cases.iter().filter(|(_, c)| !c.findings.is_empty()).count();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", file_name.as_ref()));
        suite.push_attribute(("tests", cases.len().to_string().as_str()));
        suite.push_attribute(("failures", failures.to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        w.write_event(Event::Start(suite))?;
        for (document, case) in cases {
            let name = case_name(*document, case);
            let mut element = BytesStart::new("testcase");
            element.push_attribute(("name", name.as_str()));
            element.push_attribute(("classname", file_name.as_ref()));
            element.push_attribute(("file", file_name.as_ref()));
            if case.findings.is_empty() {
                w.write_event(Event::Empty(element))?;
                continue;
            }
            w.write_event(Event::Start(element))?;
            let first = case.findings.first().map_or_else(String::new, |d| {
                format!("{}: {}", visible(&d.rule), visible(&d.message))
            });
            let severity = case
                .findings
                .iter()
                .map(|d| d.severity)
                .max()
                .map_or("", |s| s.as_str());
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", first.as_str()));
            failure.push_attribute(("type", severity));
            w.write_event(Event::Start(failure))?;
            // One line per finding, each starting with its position (never with input).
            let mut body = String::from("\n");
            for d in &case.findings {
                let p = report.position(d);
                body.push_str(&format!(
                    "{}:{} {}[{}] {}\n",
                    p.line,
                    p.column,
                    d.severity,
                    visible(&d.rule),
                    visible(&d.message)
                ));
                if let Some(help) = &d.help {
                    body.push_str(&format!("    help: {}\n", visible(help)));
                }
            }
            w.write_event(Event::Text(BytesText::new(&body)))?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let bytes = w.into_inner().into_inner();
    Ok(String::from_utf8_lossy(&bytes).into_owned() + "\n")
}

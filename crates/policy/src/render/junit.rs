//! JUnit XML for CI systems that read test reports: one test case per rule and file; a case
//! fails when the rule found something in that file.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::diagnostic::Report;
use crate::rules::RULES;

#[must_use]
pub fn junit(report: &Report) -> String {
    write(report).unwrap_or_default()
}

fn write(report: &Report) -> Result<String, quick_xml::Error> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let total_cases = report.files.len() * RULES.len();
    let total_failures: usize = report
        .files
        .iter()
        .enumerate()
        .map(|(i, _)| {
            RULES
                .iter()
                .filter(|r| {
                    report
                        .diagnostics
                        .iter()
                        .any(|d| d.file == i && d.rule == r.meta().id)
                })
                .count()
        })
        .sum();
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "eksgate"));
    suites.push_attribute(("tests", total_cases.to_string().as_str()));
    suites.push_attribute(("failures", total_failures.to_string().as_str()));
    w.write_event(Event::Start(suites))?;
    for (index, file) in report.files.iter().enumerate() {
        let in_file: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.file == index)
            .collect();
        let failures = RULES
            .iter()
            .filter(|r| in_file.iter().any(|d| d.rule == r.meta().id))
            .count();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", file.name.as_str()));
        suite.push_attribute(("tests", RULES.len().to_string().as_str()));
        suite.push_attribute(("failures", failures.to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        w.write_event(Event::Start(suite))?;
        for rule in RULES {
            let m = rule.meta();
            let name = format!("{} {}", m.id, m.name);
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", name.as_str()));
            case.push_attribute(("classname", file.name.as_str()));
            let hits: Vec<_> = in_file.iter().filter(|d| d.rule == m.id).collect();
            if hits.is_empty() {
                w.write_event(Event::Empty(case))?;
                continue;
            }
            w.write_event(Event::Start(case))?;
            let first = hits.first().map_or("", |d| d.message.as_str());
            let severity = hits
                .iter()
                .map(|d| d.severity)
                .max()
                .map_or("", |s| s.as_str());
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", first));
            failure.push_attribute(("type", severity));
            w.write_event(Event::Start(failure))?;
            let mut body = String::new();
            for d in &hits {
                let p = report.position(d);
                body.push_str(&format!(
                    "{}:{}:{}: {} [{}] {}\n",
                    file.name, p.line, p.column, d.severity, d.rule, d.message
                ));
                if let Some(help) = &d.help {
                    body.push_str(&format!("  help: {help}\n"));
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

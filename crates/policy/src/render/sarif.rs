//! SARIF 2.1.0 for GitHub code scanning: every rule with its documentation, every finding with
//! an exact region (1-based lines, columns in Unicode code points).

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use crate::diagnostic::{Report, Severity};
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

/// A relative path as a URI reference: `/` separators, everything outside RFC 3986's
/// unreserved set and `/` percent-encoded (spaces, `#`, `%`, non-ASCII).
#[must_use]
pub fn path_to_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The report as a SARIF 2.1.0 log. `version` names the tool version in the log.
#[must_use]
pub fn sarif(report: &Report, version: &str) -> String {
    let mut rules: Vec<ReportingDescriptor> = RULES
        .iter()
        .map(|rule| {
            let m = rule.meta();
            ReportingDescriptor::builder()
                .id(m.id)
                .name(m.name)
                .short_description(
                    MultiformatMessageString::builder()
                        .text(m.summary())
                        .build(),
                )
                .full_description(
                    MultiformatMessageString::builder()
                        .text(m.docs())
                        .markdown(m.docs())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(m.docs())
                        .markdown(m.docs())
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(m.severity)))
                        .build(),
                )
                .build()
        })
        .collect();
    for custom in &report.custom_rules {
        let docs = format!(
            "Custom rule of the policy: `{}` must be true.\n\n{}",
            custom.expression, custom.summary
        );
        rules.push(
            ReportingDescriptor::builder()
                .id(custom.id.as_str())
                .name(custom.id.to_lowercase())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(custom.summary.as_str())
                        .build(),
                )
                .full_description(
                    MultiformatMessageString::builder()
                        .text(docs.as_str())
                        .markdown(docs.as_str())
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(custom.severity)))
                        .build(),
                )
                .build(),
        );
    }
    let results: Vec<SarifResult> = report
        .diagnostics
        .iter()
        .map(|d| {
            let p = report.position(d);
            let text = match &d.help {
                Some(help) => format!("{}. Help: {help}", d.message),
                None => d.message.clone(),
            };
            let region = Region::builder()
                .start_line(p.line as i64)
                .start_column(p.column as i64)
                .end_line(p.end_line as i64)
                .end_column(p.end_column as i64)
                .build();
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(path_to_uri(report.file_name(d)))
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let rule_index = RULES
                .iter()
                .position(|r| r.meta().id == d.rule)
                .or_else(|| {
                    report
                        .custom_rules
                        .iter()
                        .position(|c| c.id == d.rule)
                        .map(|i| RULES.len() + i)
                });
            let mut result = SarifResult::builder()
                .rule_id(d.rule.as_ref())
                .level(result_level(d.severity))
                .message(Message::builder().text(text).build())
                .locations(vec![location])
                .build();
            result.rule_index = rule_index.map(|i| i as i64);
            result
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("eksgate")
        .version(version)
        .semantic_version(version)
        .information_uri("https://github.com/eksgate/eksgate")
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

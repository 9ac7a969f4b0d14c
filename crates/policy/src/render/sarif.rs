//! SARIF 2.1.0 for GitHub code scanning: the rules that fired, each with a short help and its
//! documentation page behind `helpUri`, and every finding with an exact region (1-based lines,
//! columns in Unicode code points). Strings are JSON-escaped by the serializer, so any input is
//! carried exactly.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix as SarifFix, Location, Message,
    MultiformatMessageString, PhysicalLocation, Region, Replacement, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
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

/// The descriptor of a built-in rule: summary, a short help that links the full page.
fn builtin_descriptor(meta: &crate::rules::RuleMeta) -> ReportingDescriptor {
    let url = meta.url();
    ReportingDescriptor::builder()
        .id(meta.id)
        .name(meta.name)
        .short_description(
            MultiformatMessageString::builder()
                .text(meta.summary())
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(format!("{} Documentation: {url}", meta.summary()))
                .markdown(format!(
                    "{} [Documentation of `{}`]({url}): why it matters, a bad and a good example.",
                    meta.summary(),
                    meta.id
                ))
                .build(),
        )
        .help_uri(url.as_str())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::Value::from(level(meta.severity)))
                .build(),
        )
        .build()
}

/// The descriptor of a custom rule of the policy (no page: its message and expression).
fn custom_descriptor(custom: &crate::diagnostic::CustomRuleInfo) -> ReportingDescriptor {
    let text = format!(
        "Custom rule of the policy: `{}` must be true. {}",
        custom.expression, custom.summary
    );
    ReportingDescriptor::builder()
        .id(custom.id.as_str())
        .name(custom.id.to_lowercase())
        .short_description(
            MultiformatMessageString::builder()
                .text(custom.summary.as_str())
                .build(),
        )
        .help(MultiformatMessageString::builder().text(text).build())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::Value::from(level(custom.severity)))
                .build(),
        )
        .build()
}

/// A finding's fix as SARIF `fixes[]`: one artifact change with its replacements (regions in
/// 1-based lines and columns, as the results' are).
fn sarif_fix(
    report: &Report,
    d: &crate::diagnostic::Diagnostic,
    fix: &crate::fix::Fix,
) -> SarifFix {
    let at = |offset: usize| match report.files.get(d.file) {
        Some(_) => report.line_col(d.file, u32::try_from(offset).unwrap_or(u32::MAX)),
        None => (1, 1),
    };
    let replacements: Vec<Replacement> = fix
        .edits
        .iter()
        .map(|e| {
            let (start_line, start_column) = at(e.span.start);
            let (end_line, end_column) = at(e.span.end);
            Replacement::builder()
                .deleted_region(
                    Region::builder()
                        .start_line(start_line as i64)
                        .start_column(start_column as i64)
                        .end_line(end_line as i64)
                        .end_column(end_column as i64)
                        .build(),
                )
                .inserted_content(
                    ArtifactContent::builder()
                        .text(e.replacement.as_str())
                        .build(),
                )
                .build()
        })
        .collect();
    let change = ArtifactChange::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(path_to_uri(report.file_name(d)))
                .build(),
        )
        .replacements(replacements)
        .build();
    SarifFix::builder()
        .description(
            Message::builder()
                .text(format!("{} ({})", fix.title, fix.applicability.as_str()))
                .build(),
        )
        .artifact_changes(vec![change])
        .build()
}

/// The report as a SARIF 2.1.0 log. `version` names the tool version in the log.
#[must_use]
pub fn sarif(report: &Report, version: &str) -> String {
    // Only the rules that fired, in registry order (custom rules after the built-in ones).
    let mut rules: Vec<ReportingDescriptor> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for rule in RULES {
        let meta = rule.meta();
        if report.diagnostics.iter().any(|d| d.rule == meta.id) {
            index.insert(meta.id, rules.len());
            rules.push(builtin_descriptor(meta));
        }
    }
    for custom in &report.custom_rules {
        if !index.contains_key(custom.id.as_str())
            && report.diagnostics.iter().any(|d| d.rule == custom.id)
        {
            index.insert(custom.id.as_str(), rules.len());
            rules.push(custom_descriptor(custom));
        }
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
            let mut result = SarifResult::builder()
                .rule_id(d.rule.as_ref())
                .level(result_level(d.severity))
                .message(Message::builder().text(text).build())
                .locations(vec![location])
                .build();
            result.rule_index = index.get(d.rule.as_ref()).map(|&i| i as i64);
            if let Some(fix) = &d.fix {
                result.fixes = Some(vec![sarif_fix(report, d, fix)]);
            }
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

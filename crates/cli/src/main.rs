//! `eksgate`: the command-line adapter over `eksgate-policy`. It reads files, walks directories,
//! picks colours and exit codes; every judgement is the core's.

mod args;
#[cfg(feature = "deploy")]
mod deploy;
mod inputs;
mod migrate;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use eksgate_policy::render::{Format, RenderOptions};
use eksgate_policy::{CheckOptions, Limits, Policy, Severity, SourceFile, check, rules};

use crate::args::{Cli, Command, FailOn, OutputFormat, RulesFormat};

/// Exit codes are the contract: 0 clean, 1 findings at or above `--fail-on`, 2 usage or I/O.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            let mut stderr = anstream::stderr();
            let _ = writeln!(stderr, "eksgate: error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Check(args) => run_check(args),
        #[cfg(feature = "deploy")]
        Command::Deploy(args) => Ok(deploy::run(args)),
        Command::Migrate(args) => migrate::run(args),
        Command::Rules { format } => {
            let text = rules_listing(format);
            let mut out = anstream::stdout();
            out.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write output: {e}"))?;
            Ok(0)
        }
        Command::Explain { rule } => {
            let wanted = rule.to_ascii_uppercase();
            let found = rules::RULES
                .iter()
                .find(|r| r.meta().id == wanted || r.meta().name == rule);
            match found {
                Some(r) => {
                    let m = r.meta();
                    let mut out = anstream::stdout();
                    let _ = writeln!(
                        out,
                        "# {} ({}): default severity {}\n\n{}",
                        m.id,
                        m.name,
                        m.severity,
                        m.docs()
                    );
                    Ok(0)
                }
                None => Err(format!("no rule `{rule}`; `eksgate rules` lists them all")),
            }
        }
    }
}

fn core_format(format: OutputFormat) -> Format {
    match format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Github => Format::Github,
        OutputFormat::Markdown => Format::Markdown,
        OutputFormat::Junit => Format::Junit,
    }
}

/// `eksgate rules` in each of its formats.
fn rules_listing(format: RulesFormat) -> String {
    let mut out = String::new();
    match format {
        RulesFormat::Human => {
            for rule in rules::RULES {
                let m = rule.meta();
                out.push_str(&format!(
                    "{:<8} {:<32} {:<8} {}\n",
                    m.id,
                    m.name,
                    m.severity.as_str(),
                    m.summary()
                ));
            }
        }
        RulesFormat::Markdown => out = eksgate_policy::render::rules_markdown(),
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = rules::RULES
                .iter()
                .map(|rule| {
                    let m = rule.meta();
                    serde_json::json!({
                        "id": m.id,
                        "name": m.name,
                        "severity": m.severity.as_str(),
                        "summary": m.summary(),
                        "docs": m.docs(),
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&list).unwrap_or_default() + "\n";
        }
    }
    out
}

fn run_check(args: args::CheckArgs) -> Result<u8, String> {
    let limits = Limits {
        max_source_bytes: args.max_file_size,
        ..Limits::default()
    };
    let policy = match &args.policy {
        Some(path) => {
            let bytes =
                eksgate_io::read_user_file(path, limits.max_source_bytes as u64).map_err(|e| {
                    format!(
                        "cannot read policy `{}`: {}",
                        eksgate_io::shown(path),
                        e.kind
                    )
                })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("policy `{}` is not UTF-8", eksgate_io::shown(path)))?;
            Policy::from_source(&SourceFile::new(path.display().to_string(), text))
                .map_err(|e| format!("invalid policy: {e}"))?
        }
        None => Policy::default_policy().map_err(|e| format!("built-in policy: {e}"))?,
    };
    let paths = if args.paths.is_empty() {
        vec![std::path::PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let schemas = if args.crd.is_empty() {
        eksgate_policy::schema::SchemaSet::default()
    } else {
        let crd_inputs = inputs::collect(&args.crd, &[], &limits)?;
        let mut sources = Vec::new();
        for input in crd_inputs {
            if let Some(fault) = input.fault {
                return Err(format!("CRD `{}`: {fault}", input.source.name));
            }
            sources.push(input.source);
        }
        eksgate_policy::schema::SchemaSet::from_crd_sources(&sources)
            .map_err(|e| format!("invalid CRD: {e}"))?
    };
    let inputs = inputs::collect(&paths, &args.exclude, &limits)?;
    if args.parse_only {
        let documents = eksgate_policy::parse_only(
            &inputs,
            &CheckOptions {
                limits,
                ..CheckOptions::default()
            },
        );
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "parsed {documents} documents in {} files",
            inputs.len()
        );
        return Ok(0);
    }
    let report = check(inputs, &policy, &CheckOptions { limits, schemas });

    let format = core_format(args.format);
    let options = RenderOptions {
        color: true,
        version: env!("CARGO_PKG_VERSION"),
    };
    for (extra, path) in &args.report {
        let plain = RenderOptions {
            color: false,
            ..options
        };
        let text = eksgate_policy::render::render(&report, core_format(*extra), plain);
        eksgate_io::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let text = eksgate_policy::render::render(&report, format, options);
    if let Some(path) = &args.output {
        let plain = eksgate_policy::render::render(
            &report,
            format,
            RenderOptions {
                color: false,
                ..options
            },
        );
        eksgate_io::write_atomic(path, plain.as_bytes()).map_err(|e| e.to_string())?;
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "{} (report written to {})",
            eksgate_policy::render::summary_line(&report),
            path.display()
        );
    } else if format == Format::Human {
        let mut out = anstream::AutoStream::new(std::io::stdout().lock(), args.color.choice());
        out.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
    } else {
        // Machine formats are data: never coloured, so they bypass the colour filter.
        let mut raw = std::io::stdout().lock();
        raw.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    Ok(if report.fails(threshold) {
        EXIT_FINDINGS
    } else {
        0
    })
}

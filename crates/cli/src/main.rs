//! `eksgate`: the command-line adapter over `eksgate-policy`. It reads files, walks directories,
//! picks colours and exit codes; every judgement is the core's.
#![allow(
    clippy::disallowed_methods,
    reason = "the CLI is the I/O adapter the core's disallowed-methods list points to"
)]

mod args;
mod deploy;
mod inputs;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use eksgate_policy::render::{Format, RenderOptions};
use eksgate_policy::{CheckOptions, Limits, Policy, Severity, SourceFile, check, rules};

use crate::args::{Cli, Command, FailOn, OutputFormat};

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
        Command::Deploy(args) => Ok(deploy::run(args)),
        Command::Rules => {
            let mut out = anstream::stdout();
            for rule in rules::RULES {
                let m = rule.meta();
                let _ = writeln!(
                    out,
                    "{:<8} {:<32} {:<8} {}",
                    m.id,
                    m.name,
                    m.severity.as_str(),
                    m.summary()
                );
            }
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

fn run_check(args: args::CheckArgs) -> Result<u8, String> {
    let policy = match &args.policy {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read policy `{}`: {e}", path.display()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("policy `{}` is not UTF-8", path.display()))?;
            Policy::from_source(&SourceFile::new(path.display().to_string(), text))
                .map_err(|e| format!("invalid policy: {e}"))?
        }
        None => Policy::default_policy().map_err(|e| format!("built-in policy: {e}"))?,
    };
    let limits = Limits {
        max_source_bytes: args.max_file_size,
        ..Limits::default()
    };
    let paths = if args.paths.is_empty() {
        vec![std::path::PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let inputs = inputs::collect(&paths, &args.exclude, &limits)?;
    let report = check(inputs, &policy, &CheckOptions { limits });

    let format = match args.format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
    };
    let choice = args.color.choice();
    let text = eksgate_policy::render::render(&report, format, RenderOptions { color: true });
    let mut out = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    if format == Format::Json {
        // JSON is data: never coloured, so write it past the colour filter.
        let mut raw = std::io::stdout().lock();
        raw.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
    } else {
        out.write_all(text.as_bytes())
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

//! `eksgate`: the command-line adapter over `eksgate-policy`. It reads files, walks directories,
//! picks colours and exit codes; every judgement is the core's.

mod args;
#[cfg(feature = "deploy")]
mod deploy;
mod fix;
#[cfg(feature = "github")]
mod github;
mod inputs;
mod migrate;
mod parallel;
mod render;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use eksgate_policy::render::{Format, RenderOptions, escape};
use eksgate_policy::select::RuleSelection;
use eksgate_policy::{CheckOptions, Limits, Policy, Severity, SourceFile, rules};

use crate::args::{Cli, Command, FailOn, OutputFormat, RulesFormat};

/// Exit codes are the contract: 0 clean, 1 findings at or above `--fail-on`, 2 usage or I/O.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() => {
            // A usage error quotes the argument it rejects: shown escaped, so an argument with
            // a line break (a workflow input, say) cannot print a line of its own.
            let text = err.render().to_string();
            let text: String = text
                .split('\n')
                .map(|line| escape::visible(line).into_owned())
                .collect::<Vec<_>>()
                .join("\n");
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(for_log(&text).as_bytes());
            return ExitCode::from(EXIT_ERROR);
        }
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(0);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            error(&message);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether eksgate runs as a GitHub Actions step, whose runner reads `::` lines as commands.
fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Text for stdout or stderr that eksgate did not write as workflow commands: in GitHub
/// Actions, no line of it may read as one (renderers escape input already; this is the last
/// line of defence).
fn for_log(text: &str) -> std::borrow::Cow<'_, str> {
    if in_github_actions() {
        escape::defuse_workflow_commands(text)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `eksgate: error: …` on stderr, one line: messages name user paths and values, so control
/// characters in them are shown escaped.
fn error(message: &str) {
    note("error", message);
}

fn warning(message: &str) {
    note("warning", message);
}

fn note(level: &str, message: &str) {
    let line = format!("eksgate: {level}: {}\n", escape::visible(message));
    let mut stderr = anstream::stderr();
    let _ = stderr.write_all(for_log(&line).as_bytes());
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Check(args) => run_check(*args),
        #[cfg(feature = "deploy")]
        Command::Deploy(args) => Ok(deploy::run(args)),
        #[cfg(feature = "github")]
        Command::Github(args) => github::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Render(args) => render::run(args),
        Command::Graph(args) => run_graph(args),
        Command::Rules { format } => {
            let text = rules_listing(format);
            let mut out = anstream::stdout();
            out.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write output: {e}"))?;
            Ok(0)
        }
        Command::Explain { rule, color } => explain(&rule, color),
    }
}

/// Drops the findings outside the files `list` names (and recounts the summary).
fn keep_only_files(
    report: &mut eksgate_policy::Report,
    list: &std::path::Path,
) -> Result<(), String> {
    let bytes = eksgate_io::read_user_file(list, 16 * 1024 * 1024).map_err(|e| {
        format!(
            "cannot read `--only-files` `{}`: {}",
            inputs::shown(list),
            e.kind
        )
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let normal = |p: &str| p.trim().trim_start_matches("./").to_string();
    let wanted: std::collections::HashSet<String> =
        text.lines().map(normal).filter(|l| !l.is_empty()).collect();
    let names: Vec<bool> = report
        .files
        .iter()
        .map(|f| wanted.contains(&normal(&f.name)))
        .collect();
    report
        .diagnostics
        .retain(|d| names.get(d.file).copied().unwrap_or(false));
    let count = |s: Severity| {
        report
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    report.summary.errors = count(Severity::Error);
    report.summary.warnings = count(Severity::Warning);
    report.summary.infos = count(Severity::Info);
    Ok(())
}

/// `eksgate explain RULE`: the rule's documentation for a terminal, or the nearest IDs.
fn explain(rule: &str, color: args::ColorWhen) -> Result<u8, String> {
    let wanted = rule.trim().to_ascii_uppercase();
    let found = rules::RULES
        .iter()
        .find(|r| r.meta().id == wanted || r.meta().name == rule.trim());
    let Some(found) = found else {
        let suggestions = eksgate_policy::select::nearest_builtin_rules(rule);
        let hint = match suggestions.as_slice() {
            [] => String::new(),
            ids => format!(
                "; did you mean {}?",
                ids.iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        };
        return Err(format!(
            "no rule `{rule}`{hint} (`eksgate rules` lists them all)"
        ));
    };
    let stdout = std::io::stdout();
    let colored = match color {
        args::ColorWhen::Always => true,
        args::ColorWhen::Never => false,
        args::ColorWhen::Auto => {
            anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never
        }
    };
    let text = eksgate_policy::render::rule_terminal(found.meta(), colored);
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write output: {e}"))?;
    Ok(0)
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

pub(crate) fn load_policy(path: Option<&std::path::Path>, limit: u64) -> Result<Policy, String> {
    Ok(match path {
        Some(path) => {
            let bytes = eksgate_io::read_user_file(path, limit)
                .map_err(|e| format!("cannot read policy {}: {}", inputs::shown(path), e.kind))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("policy {} is not UTF-8", inputs::shown(path)))?;
            Policy::from_source(&SourceFile::new(path.display().to_string(), text))
                .map_err(|e| format!("invalid policy: {e}"))?
        }
        None => Policy::default_policy().map_err(|e| format!("built-in policy: {e}"))?,
    })
}

/// `eksgate graph`: the apply order, with the ordering findings marked.
fn run_graph(args: args::GraphArgs) -> Result<u8, String> {
    let limits = Limits {
        max_source_bytes: args.max_file_size,
        ..Limits::default()
    };
    let policy = load_policy(args.policy.as_deref(), limits.max_source_bytes as u64)?;
    let paths = if args.paths.is_empty() {
        vec![std::path::PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let collected = inputs::collect(&paths, &args.exclude, &limits)?;
    if let Some(problem) = collected.problems.first() {
        return Err(problem.clone());
    }
    let inputs = collected.inputs;
    let options = CheckOptions {
        limits,
        ..CheckOptions::default()
    };
    let (_, graph) = eksgate_policy::graph(inputs, &policy, &options);
    let format = match args.format {
        args::GraphOutput::Text => eksgate_policy::render::GraphFormat::Text,
        args::GraphOutput::Mermaid => eksgate_policy::render::GraphFormat::Mermaid,
        args::GraphOutput::Dot => eksgate_policy::render::GraphFormat::Dot,
    };
    let text = eksgate_policy::render::graph(&graph, format);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write output: {e}"))?;
    Ok(0)
}

/// `--vars-file` files in order, then `--var` (the command line wins); `None` when neither is
/// given, so nothing is substituted.
fn read_vars(
    args: &args::CheckArgs,
    limit: u64,
) -> Result<Option<eksgate_policy::placeholder::Vars>, String> {
    if args.var.is_empty() && args.vars_file.is_empty() {
        return Ok(None);
    }
    let mut vars = eksgate_policy::placeholder::Vars::new();
    for path in &args.vars_file {
        let bytes = eksgate_io::read_user_file(path, limit)
            .map_err(|e| format!("cannot read vars file {}: {}", inputs::shown(path), e.kind))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("vars file {} is not UTF-8", inputs::shown(path)))?;
        let source = SourceFile::new(path.display().to_string(), text);
        let read = eksgate_policy::placeholder::read_vars(&source).map_err(|e| {
            format!(
                "invalid vars file: {}",
                eksgate_policy::render::escape::visible(&e)
            )
        })?;
        vars.extend(read);
    }
    vars.extend(args.var.iter().cloned());
    Ok(Some(vars))
}

fn run_check(args: args::CheckArgs) -> Result<u8, String> {
    let limits = Limits {
        max_source_bytes: args.max_file_size,
        ..Limits::default()
    };
    let mut policy = load_policy(args.policy.as_deref(), limits.max_source_bytes as u64)?;
    let selection = RuleSelection {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        severity_overrides: args.severity_override.clone(),
    };
    selection.apply(&mut policy).map_err(|e| e.to_string())?;
    let paths = if args.paths.is_empty() {
        vec![std::path::PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let schemas = if args.crd.is_empty() {
        eksgate_policy::schema::SchemaSet::default()
    } else {
        let crds = inputs::collect(&args.crd, &[], &limits)?;
        if let Some(problem) = crds.problems.first() {
            return Err(format!("CRD {problem}"));
        }
        let mut sources = Vec::new();
        for input in crds.inputs {
            if let Some(fault) = input.fault {
                return Err(format!("CRD `{}`: {fault}", input.source.name));
            }
            sources.push(input.source);
        }
        eksgate_policy::schema::SchemaSet::from_crd_sources(&sources)
            .map_err(|e| format!("invalid CRD: {e}"))?
    };
    let found = inputs::find(&paths, &args.exclude, &limits)?;
    // A path that cannot be read is reported and makes the exit code 2, but the rest is
    // still checked (as ruff and kubeconform do).
    for problem in &found.problems {
        error(problem);
    }
    let mut io_failed = !found.problems.is_empty();
    if found.sources.is_empty() {
        if io_failed {
            return Ok(EXIT_ERROR);
        }
        warning(&nothing_to_check(&found));
    }
    let pool = parallel::pool(args.jobs, found.sources.len())?;
    if args.parse_only {
        let (documents, files, problems) =
            parallel::parse_only(pool.as_ref(), found.sources, &limits);
        for problem in &problems {
            error(problem);
        }
        io_failed |= !problems.is_empty();
        let mut err = anstream::stderr();
        let _ = writeln!(err, "parsed {documents} documents in {files} files");
        return Ok(if io_failed { EXIT_ERROR } else { 0 });
    }
    if let Some(mode) = args.placeholders {
        policy.placeholders = match mode {
            args::Placeholders::Unknown => eksgate_policy::model::policy::PlaceholderMode::Unknown,
            args::Placeholders::Strict => eksgate_policy::model::policy::PlaceholderMode::Strict,
        };
    }
    let vars = read_vars(&args, limits.max_source_bytes as u64)?;
    if vars.is_some() && (args.fix || args.diff) {
        return Err(
            "`--fix` and `--diff` edit files as written, so they cannot be combined with `--var` or `--vars-file`"
                .to_string(),
        );
    }
    let check_options = CheckOptions {
        limits,
        schemas,
        vars,
    };
    let mut report = if args.fix || args.diff {
        // Fixes need every text at once (a fix is applied, then the file checked again).
        let collected = inputs::read_all(found.sources, &limits);
        for problem in &collected.problems {
            error(problem);
        }
        io_failed |= !collected.problems.is_empty();
        let (inputs, read_from) = (collected.inputs, collected.paths);
        if inputs.is_empty() && io_failed {
            return Ok(EXIT_ERROR);
        }
        let outcome = fix::run(
            inputs,
            &read_from,
            &policy,
            &check_options,
            args.unsafe_fixes,
            args.diff,
        );
        for failure in &outcome.failures {
            error(failure);
        }
        io_failed |= !outcome.failures.is_empty();
        let line = format!(
            "eksgate: {}\n",
            fix::summary(&outcome, args.unsafe_fixes, args.diff)
        );
        if !args.quiet {
            let mut err = anstream::stderr();
            let _ = err.write_all(for_log(&line).as_bytes());
        }
        if args.diff {
            return Ok(if io_failed {
                EXIT_ERROR
            } else if outcome.changed_files > 0 {
                EXIT_FINDINGS
            } else {
                0
            });
        }
        outcome.run.report
    } else {
        let checked = parallel::check(pool.as_ref(), found.sources, &policy, &check_options);
        for problem in &checked.problems {
            error(problem);
        }
        io_failed |= !checked.problems.is_empty();
        if !checked.read_any && io_failed {
            return Ok(EXIT_ERROR);
        }
        checked.report
    };
    if let Some(list) = &args.only_files {
        keep_only_files(&mut report, list)?;
    }

    let format = core_format(args.format);
    let options = RenderOptions {
        color: true,
        version: env!("CARGO_PKG_VERSION"),
    };
    let plain = RenderOptions {
        color: false,
        ..options
    };
    let max_annotations = args.max_annotations;
    let render = |report: &eksgate_policy::Report, format: Format, options: RenderOptions| match (
        format,
        max_annotations,
    ) {
        (Format::Github, Some(max)) => eksgate_policy::render::github_limited(report, max),
        _ => eksgate_policy::render::render(report, format, options),
    };
    for (extra, path) in &args.report {
        let text = render(&report, core_format(*extra), plain);
        eksgate_io::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let text = if args.statistics {
        statistics(&report, format)
    } else {
        let text = render(&report, format, options);
        if args.quiet {
            without_summary(&report, format, text)
        } else {
            text
        }
    };
    if let Some(path) = &args.output {
        let plain = if args.statistics {
            text.clone()
        } else {
            let text = render(&report, format, plain);
            if args.quiet {
                without_summary(&report, format, text)
            } else {
                text
            }
        };
        eksgate_io::write_atomic(path, plain.as_bytes()).map_err(|e| e.to_string())?;
        if !args.quiet {
            let line = format!(
                "{} (report written to {})\n",
                eksgate_policy::render::summary_line(&report),
                inputs::shown(path)
            );
            let mut err = anstream::stderr();
            let _ = err.write_all(for_log(&line).as_bytes());
        }
    } else if format == Format::Human || args.statistics {
        let mut out = anstream::AutoStream::new(std::io::stdout().lock(), args.color.choice());
        out.write_all(for_log(&text).as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
    } else {
        // Machine formats are data: never coloured, so they bypass the colour filter. The
        // github format is eksgate's own workflow commands (their data escaped); any other
        // format is defused like all text in an Actions log.
        let text = if format == Format::Github {
            std::borrow::Cow::Borrowed(text.as_str())
        } else {
            for_log(&text)
        };
        let mut raw = std::io::stdout().lock();
        raw.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
    }
    if format == Format::Human
        && !args.quiet
        && !args.fix
        && let Some(hint) = fix::hint(&report)
    {
        let mut err = anstream::stderr();
        let _ = err.write_all(for_log(&format!("eksgate: {hint}\n")).as_bytes());
    }
    if io_failed {
        return Ok(EXIT_ERROR);
    }
    let threshold = match args.fail_on {
        _ if args.exit_zero => None,
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

/// "no files to check", with where eksgate looked, so an empty run is never mistaken for a
/// clean one.
fn nothing_to_check(collected: &inputs::Found) -> String {
    let excluded = match collected.excluded {
        0 => String::new(),
        1 => "; 1 path excluded by --exclude".to_string(),
        n => format!("; {n} paths excluded by --exclude"),
    };
    if collected.searched.is_empty() {
        format!("no files to check{excluded}")
    } else {
        format!(
            "no files to check: searched {} for *.yaml, *.yml and *.json (hidden files and \
             directories, target and node_modules are skipped{excluded})",
            collected.searched.join(", ")
        )
    }
}

/// The report without its closing summary (`--quiet`): the human summary line, the github
/// format's `::notice::`.
fn without_summary(report: &eksgate_policy::Report, format: Format, text: String) -> String {
    let summary = eksgate_policy::render::summary_line(report);
    let tail = match format {
        Format::Human => format!("{summary}\n"),
        Format::Github => format!(
            "::notice title=eksgate::{}\n",
            eksgate_policy::render::escape_data(&summary)
        ),
        _ => return text,
    };
    match text.strip_suffix(&tail) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// `--statistics`: findings per rule, most first (JSON with `--format json`).
fn statistics(report: &eksgate_policy::Report, format: Format) -> String {
    let mut counts: Vec<(String, String, Severity, usize)> = Vec::new();
    for d in &report.diagnostics {
        match counts.iter_mut().find(|(rule, ..)| *rule == d.rule) {
            Some(entry) => {
                entry.2 = entry.2.max(d.severity);
                entry.3 += 1;
            }
            None => counts.push((d.rule.to_string(), d.rule_name.to_string(), d.severity, 1)),
        }
    }
    counts.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    if format == Format::Json {
        let list: Vec<serde_json::Value> = counts
            .iter()
            .map(|(rule, name, severity, count)| {
                serde_json::json!({"rule": rule, "name": name, "severity": severity.as_str(), "count": count})
            })
            .collect();
        return serde_json::to_string_pretty(&list).unwrap_or_default() + "\n";
    }
    let width = counts
        .iter()
        .map(|(rule, ..)| escape::visible(rule).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (rule, name, severity, count) in &counts {
        out.push_str(&format!(
            "{count:>5}  {:<width$}  {:<7}  {}\n",
            escape::visible(rule),
            severity.as_str(),
            escape::visible(name)
        ));
    }
    out.push_str(&eksgate_policy::render::summary_line(report));
    out.push('\n');
    out
}

//! `eksgate render REQUEST`: writes the node classes, NodePools, example workloads,
//! `terraform.tfvars.json` and DeployPlan of a `ClusterRequest`, and prints its spend ceiling.
//! Every judgement is the core's (`eksgate_policy::generate`); this reads, writes and reports.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use eksgate_policy::generate::{self, RenderError};
use eksgate_policy::model::request::prices;
use eksgate_policy::render::{self, Format, RenderOptions, escape::visible};
use eksgate_policy::{Limits, Severity, SourceFile};

const RENDER_AFTER: &str = "\
Writes, below DIR (default: ./<clientName>-<environment>):
  nodeclasses/infra.yaml, nodeclasses/<client>-<pool>.yaml   EC2NodeClass (or Auto Mode NodeClass)
  nodepools/infra.yaml, nodepools/<client>-<pool>.yaml       NodePools: the infrastructure taint,
                                                             label and disruption budget; client pools
  examples/*-workload.yaml      Deployments showing the tolerations and selectors each team needs
  terraform.tfvars.json         the cluster's variables for the platform's Terraform
  deploy.yaml                   a DeployPlan for `eksgate deploy`: network, cluster, CRDs,
                                node classes and pools, apps, each behind its readiness gate

The request is checked with the policy first (the same findings as `eksgate check REQUEST`, on
the request's own lines); a request with an error renders nothing. The output is the same for the
same request and policy, byte for byte, and passes `eksgate check` with that policy. Existing
files are never replaced without --force. The spend ceiling printed at the end is a ceiling, not
a forecast: every pool at its CPU limit all month at the dearest price it allows.

Examples:
  eksgate render clusters/acme-prod.yaml -o clusters/acme-prod
  eksgate render --policy policies/acme.yaml --force clusters/acme-prod.yaml -o build/acme

Exit codes: 0 rendered, 1 the request has error findings (nothing written), 2 usage or I/O
error, or files exist (without --force).";

/// `eksgate render` arguments.
#[derive(Debug, Args)]
#[command(after_help = RENDER_AFTER)]
pub struct RenderArgs {
    /// The ClusterRequest file (YAML or JSON).
    #[arg(value_name = "REQUEST")]
    pub request: PathBuf,

    /// The directory to write to (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,

    /// Policy file (default: the built-in policy).
    #[arg(long, value_name = "FILE", env = "EKSGATE_POLICY")]
    pub policy: Option<PathBuf>,
}

fn report_text(report: &eksgate_policy::Report) -> String {
    render::render(
        report,
        Format::Human,
        RenderOptions {
            color: false,
            version: crate::args::VERSION,
        },
    )
}

/// Runs `eksgate render`; the exit code, or a usage or I/O error (exit 2).
pub fn run(args: RenderArgs) -> Result<u8, String> {
    let limits = Limits::default();
    let policy = crate::load_policy(args.policy.as_deref(), limits.max_source_bytes as u64)?;
    let name = eksgate_io::shown(&args.request);
    let bytes = eksgate_io::read_user_file(&args.request, limits.max_source_bytes as u64)
        .map_err(|e| e.to_string())?;
    let source = SourceFile::from_bytes(name.clone(), bytes, &limits)
        .map_err(|(fault, _)| format!("`{name}`: {fault}"))?;
    let mut err = anstream::stderr();
    let outcome = match generate::render_source(&source, &policy) {
        Ok(outcome) => outcome,
        Err(RenderError::Findings(report)) => {
            let _ = err.write_all(report_text(&report).as_bytes());
            let _ = writeln!(
                err,
                "eksgate: error: `{}` has errors; nothing was rendered",
                visible(&name)
            );
            return Ok(1);
        }
        Err(RenderError::NotARequest(e)) => return Err(e.to_string()),
    };
    if !outcome.request_report.diagnostics.is_empty() {
        let _ = err.write_all(report_text(&outcome.request_report).as_bytes());
    }
    if outcome
        .report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        let _ = err.write_all(report_text(&outcome.report).as_bytes());
        return Err(
            "the rendered files fail `eksgate check` with this policy, which is a bug in \
             eksgate; please report it with the request and policy"
                .to_string(),
        );
    }
    let dir = match args.output {
        Some(dir) => dir,
        None => PathBuf::from(&outcome.rendered.cluster),
    };
    write_files(&dir, &outcome.rendered.files, args.force)?;
    let mut out = anstream::stdout();
    let shown_dir = eksgate_io::shown(&dir);
    let _ = writeln!(
        out,
        "Rendered {} files into {}:",
        outcome.rendered.files.len(),
        visible(&shown_dir)
    );
    for file in &outcome.rendered.files {
        let _ = writeln!(out, "  {}", visible(&file.name));
    }
    let _ = writeln!(out);
    let _ = out.write_all(visible_lines(&prices::spend_text(&outcome.rendered.spend)).as_bytes());
    Ok(0)
}

fn visible_lines(text: &str) -> String {
    text.lines().map(|l| format!("{}\n", visible(l))).collect()
}

/// Writes every file, or none: without `force`, any file that exists stops the render before
/// the first write.
fn write_files(dir: &Path, files: &[generate::RenderedFile], force: bool) -> Result<(), String> {
    let targets: Vec<(PathBuf, &generate::RenderedFile)> = files
        .iter()
        .map(|f| {
            (
                f.name
                    .split('/')
                    .fold(dir.to_path_buf(), |p, part| p.join(part)),
                f,
            )
        })
        .collect();
    if !force {
        let existing: Vec<String> = targets
            .iter()
            .filter(|(path, _)| std::fs::symlink_metadata(path).is_ok())
            .map(|(path, _)| eksgate_io::shown(path))
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} exist{}; nothing was written (use --force to replace them)",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            ));
        }
    }
    for (path, file) in &targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", eksgate_io::shown(parent)))?;
        }
        let written = if force {
            eksgate_io::write_atomic(path, file.content.as_bytes())
        } else {
            eksgate_io::create_atomic(path, file.content.as_bytes(), None)
        };
        written.map_err(|e| e.to_string())?;
    }
    Ok(())
}

//! Command-line flags. `--help` is the manual, so every flag says what it does and its default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use eksgate_policy::Severity;

const ABOUT: &str = "Check Karpenter NodePools, EC2NodeClasses, EKS Auto Mode NodeClasses, \
workload scheduling and AWS billing tags against your platform policy.";

/// `0.1.0 (abc1234)`: the package version and the Git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("EKSGATE_GIT_COMMIT"),
    ")"
);

const CHECK_AFTER: &str = "\
Examples:
  eksgate check k8s/                        check every *.yaml, *.yml, *.json and *.tf below k8s/
  helm template charts/platform | eksgate check -
  terraform show -json plan.out > plan.json && eksgate check plan.json
  eksgate check --format json --fail-on warning manifests/
  eksgate check --select SEP,TAG --ignore TAG004 k8s/     only the separation and tag rules
  eksgate check --statistics k8s/                          findings per rule
  eksgate check --fix k8s/                                 apply the safe fixes
  eksgate check --diff --unsafe-fixes k8s/                 show every fix as a diff

Rule selection is applied after the policy file's `spec.overrides`: --select (when given,
exactly those rules, plus YAML001), then --extend-select, then --ignore (it wins), then
--severity-override.

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or I/O error.
Silence one finding with `# eksgate:ignore RULE reason` on its line (or alone on the line above),
or an object with the annotation `eksgate.dev/ignore: \"RULE[,RULE]: reason\"`.";

#[derive(Debug, Parser)]
#[command(name = "eksgate", version = VERSION, about = ABOUT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests (files, directories, `-` for stdin) and report findings.
    Check(Box<CheckArgs>),
    /// List every rule: ID, name, default severity, summary.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
    },
    /// Print a rule's documentation: why it matters, a bad and a good example.
    Explain {
        /// Rule ID (`IMDS001`) or name (`imdsv1-allowed`).
        rule: String,
        /// When to colour the output (`auto`: on a terminal, unless NO_COLOR is set).
        #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
        color: ColorWhen,
    },
    /// Run a staged deploy plan: Terraform, manifests and commands, with readiness gates.
    #[cfg(feature = "deploy")]
    Deploy(crate::deploy::DeployArgs),
    /// Render a ClusterRequest into node classes, NodePools, terraform.tfvars.json and a
    /// DeployPlan that pass the policy, and print its spend ceiling.
    Render(crate::render::RenderArgs),
    /// The GitHub Action's API calls: the pull request comment and deployment records.
    #[cfg(feature = "github")]
    Github(crate::github::GithubArgs),
    /// Convert Karpenter v1beta1 NodePools and EC2NodeClasses to v1, keeping comments.
    Migrate(crate::migrate::MigrateArgs),
    /// Print the apply order that Flux Kustomizations and Argo CD Applications imply, with
    /// the ordering findings (ORD001-ORD004, TF001) marked.
    Graph(GraphArgs),
}

const GRAPH_AFTER: &str = "\
Examples:
  eksgate graph                             the repository in the current directory, as text
  eksgate graph --format mermaid fleet/ >> $GITHUB_STEP_SUMMARY
  eksgate graph --format dot . | dot -Tsvg > order.svg

Exit codes: 0 the graph was printed (the findings are marked, not enforced: `eksgate check`
is the gate), 2 usage or I/O error.";

#[derive(Debug, Args)]
#[command(after_help = GRAPH_AFTER)]
pub struct GraphArgs {
    /// Files or directories (default: the current directory), read as `eksgate check` reads them.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphOutput::Text)]
    pub format: GraphOutput,

    /// Policy file (`kind: Policy`): its `spec.crdProviders` name more CRD providers.
    #[arg(long, value_name = "FILE", env = "EKSGATE_POLICY")]
    pub policy: Option<PathBuf>,

    /// Skip paths matching this glob (repeatable), as for `eksgate check`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_file_size: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphOutput {
    /// Steps per cluster, with what each applies and the findings on it.
    Text,
    /// A Mermaid flowchart in a Markdown code fence (pull request comments, job summaries).
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

#[derive(Debug, Args)]
#[command(after_help = CHECK_AFTER)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory); `-` reads standard
    /// input. Directories are searched for *.yaml, *.yml, *.json and *.tf, skipping hidden files and
    /// directories, target and node_modules.
    #[arg(value_name = "PATH", default_value = None)]
    pub paths: Vec<PathBuf>,

    /// Policy file (`kind: Policy`); the built-in default policy otherwise.
    #[arg(long, value_name = "FILE", env = "EKSGATE_POLICY")]
    pub policy: Option<PathBuf>,

    /// CustomResourceDefinitions (files or directories, repeatable): objects of their kinds are
    /// validated against the served version's schema, as the API server would.
    #[arg(long, value_name = "FILE|DIR")]
    pub crd: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human, env = "EKSGATE_FORMAT")]
    pub format: OutputFormat,

    /// Write the report to FILE instead of standard output (the summary line still goes to
    /// standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the report in FORMAT to FILE (repeatable), e.g.
    /// `--report sarif=eksgate.sarif --report markdown=$GITHUB_STEP_SUMMARY`.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub report: Vec<(OutputFormat, PathBuf)>,

    /// Exit with 1 when a finding has this severity or higher.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Skip paths matching this glob (repeatable). Unanchored, like .gitignore: `charts/**`
    /// also skips `k8s/charts/...`; `--exclude vendor` skips every `vendor` directory.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// When to colour the output (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,

    /// Run only these rules: IDs or prefixes (`IMDS001`, `SEP`, `TAG0`), rule names or `ALL`;
    /// comma-separated or repeated. `YAML001` (unparsable input) always stays on unless
    /// ignored. Overrides the policy file's `enabled`.
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub select: Option<Vec<String>>,

    /// Run these rules too, on top of `--select` or the policy (same forms as `--select`).
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub extend_select: Vec<String>,

    /// Do not run these rules (same forms as `--select`); applied after `--select` and
    /// `--extend-select`, so it wins.
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub ignore: Vec<String>,

    /// Re-grade rules: `RULE=error|warning|info` (an ID, prefix or name; repeatable, the last
    /// one wins). Applied after the policy file's `spec.overrides` severities.
    #[arg(long, value_name = "RULE=LEVEL", value_parser = parse_severity_override, help_heading = "Rule selection")]
    pub severity_override: Vec<(String, Severity)>,

    /// Substitute `${NAME}` with VALUE before checking (repeatable), as Flux
    /// `postBuild.substitute` and envsubst do: `${NAME:=default}` and `${NAME:-default}` take
    /// the default when NAME is unset or empty. Positions still point into your files.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_var, help_heading = "Templates")]
    pub var: Vec<(String, String)>,

    /// Read variables for `--var` from FILE (repeatable; `--var` wins): a YAML/JSON mapping,
    /// a ConfigMap's `data` or a Secret's `stringData` (as Flux `substituteFrom`), or
    /// `NAME=VALUE` lines in a `.env` file.
    #[arg(long, value_name = "FILE", help_heading = "Templates")]
    pub vars_file: Vec<PathBuf>,

    /// Values holding placeholders (`${VAR}`, `$(VAR)`, `{{ .Values.x }}`, `<<NAME>>`) are
    /// unknown: no rule judges them (`unknown`, the default), or each is also a YAML005
    /// error (`strict`, for repositories of rendered manifests). Overrides the policy's
    /// `placeholders`.
    #[arg(long, value_enum, value_name = "MODE", help_heading = "Templates")]
    pub placeholders: Option<Placeholders>,

    /// Print the findings and nothing else: no summary line, no notes.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Print how many findings each rule has instead of the findings (JSON with
    /// `--format json`).
    #[arg(long)]
    pub statistics: bool,

    /// Report findings only in the files this list names (one path a line, as the check
    /// names them; `git diff --name-only` output). Every path is still read, so the
    /// cross-document rules see the whole set: a changed NodePool is judged against unchanged
    /// node classes.
    #[arg(long, value_name = "FILE")]
    pub only_files: Option<PathBuf>,

    /// With `--format github`: annotate at most this many errors and this many warnings (GitHub
    /// keeps 10 of each per step and 50 per job); the rest follow as plain log lines after a
    /// notice that counts them.
    #[arg(long, value_name = "N", env = "EKSGATE_MAX_ANNOTATIONS")]
    pub max_annotations: Option<usize>,

    /// Exit with 0 even when there are findings (2 still means the check could not run).
    #[arg(long)]
    pub exit_zero: bool,

    /// Apply the safe fixes to the files (comments and layout kept), check again, and report
    /// what remains. A file that changed since it was read is not written.
    #[arg(long, help_heading = "Fixes")]
    pub fix: bool,

    /// Print the fixes as a unified diff instead of writing them; exit 1 when there is one.
    #[arg(long, help_heading = "Fixes")]
    pub diff: bool,

    /// With --fix or --diff: apply the unsafe fixes too (they change scheduling or make a
    /// misspelt field take effect; review them).
    #[arg(long, help_heading = "Fixes")]
    pub unsafe_fixes: bool,

    /// Parse the inputs and run no rule: reports how many documents were read (the floor a
    /// check is measured against in benchmarks).
    #[arg(long)]
    pub parse_only: bool,

    /// Files read and checked at once (default: the available cores). The report is the same
    /// for every value: findings come out in file order, then position.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Largest file accepted, in bytes; larger files are reported, not read.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_file_size: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Placeholders {
    /// A placeholder is an unknown value: no verdict on it.
    Unknown,
    /// As `unknown`, and every placeholder left is a YAML005 error.
    Strict,
}

/// `NAME=VALUE` for `--var`.
fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE, e.g. cluster_name=demo".to_string())?;
    if !eksgate_policy::placeholder::valid_name(name) {
        return Err(format!(
            "`{}` is not a variable name (letters, digits and `_`, not starting with a digit)",
            eksgate_policy::render::escape::visible(name)
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// `RULE=LEVEL` for `--severity-override`.
fn parse_severity_override(text: &str) -> Result<(String, Severity), String> {
    let (rule, level) = text
        .split_once('=')
        .ok_or_else(|| format!("expected RULE=LEVEL, e.g. KARP002=error, not `{text}`"))?;
    let severity = Severity::parse(&level.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown level `{level}` (error, warning, info)"))?;
    if rule.trim().is_empty() {
        return Err("RULE is empty".to_string());
    }
    Ok((rule.trim().to_string(), severity))
}

/// `FORMAT=FILE` for `--report`.
fn parse_report(text: &str) -> Result<(OutputFormat, PathBuf), String> {
    let (format, file) = text
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, e.g. sarif=eksgate.sarif, not `{text}`"))?;
    let format = OutputFormat::from_str(format, true).map_err(|_| {
        format!("unknown format `{format}` (human, json, sarif, github, markdown, junit)")
    })?;
    if file.is_empty() {
        return Err("FILE is empty".to_string());
    }
    Ok((format, PathBuf::from(file)))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// Code frames with the offending line.
    Human,
    /// Machine-readable JSON (stable contract, `version: 1`).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// Markdown for job summaries and pull request comments.
    Markdown,
    /// JUnit XML: one test suite per file, one test case per checked object.
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    /// One rule per line.
    Human,
    /// A JSON array of rules with their documentation.
    Json,
    /// A Markdown table.
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Always exit 0 when the check ran.
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    pub fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

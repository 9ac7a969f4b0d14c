//! `eksgate deploy`: flags and the hand-off to `eksgate-deploy`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

const DEPLOY_AFTER: &str = "\
Examples:
  eksgate deploy --plan deploy.yaml --dry-run        print every stage, command and gate
  eksgate deploy --plan deploy.yaml                  run all stages
  eksgate deploy --plan deploy.yaml --from node-pools --timeout 45m
  eksgate deploy --plan deploy.yaml --kube-api-url https://127.0.0.1:8443 --kube-ca-file ca.pem

In GitHub Actions with `spec.credentials.roleArn`, credentials come from the job's OIDC token
(`permissions: id-token: write`) through STS AssumeRoleWithWebIdentity; elsewhere from the
standard AWS chain. Exit codes: 0 deployed, 1 a stage, gate or the policy gate failed (or the
run was cancelled), 2 bad plan or flags.";

#[derive(Debug, Args)]
#[command(after_help = DEPLOY_AFTER)]
pub struct DeployArgs {
    /// The plan file (`kind: DeployPlan`).
    #[arg(long, value_name = "FILE", env = "EKSGATE_PLAN")]
    pub plan: PathBuf,

    /// Print every stage, command and gate (and run the policy gate) without touching AWS,
    /// Terraform or the cluster.
    #[arg(long)]
    pub dry_run: bool,

    /// Run only these stages (repeatable), in plan order.
    #[arg(long, value_name = "STAGE", num_args = 1.., conflicts_with = "from")]
    pub only: Vec<String>,

    /// Start at this stage and run it and every later one.
    #[arg(long, value_name = "STAGE")]
    pub from: Option<String>,

    /// Deadline for the whole run, e.g. `45m` or `1h30m` (default: the plan's `spec.timeout`,
    /// else 2h). Gate timeouts are cut to what is left.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Kubernetes API URL instead of DescribeCluster's endpoint (a tunnel to a private
    /// endpoint; tests). In the GitHub Action: the step's `env: EKSGATE_KUBE_API_URL`.
    #[arg(long, value_name = "URL", env = "EKSGATE_KUBE_API_URL")]
    pub kube_api_url: Option<String>,

    /// PEM CA bundle for the Kubernetes API instead of DescribeCluster's certificateAuthority
    /// (or `$EKSGATE_KUBE_CA_FILE`).
    #[arg(long, value_name = "FILE", env = "EKSGATE_KUBE_CA_FILE")]
    pub kube_ca_file: Option<PathBuf>,

    /// IAM role to assume with the job's OIDC token, instead of the plan's
    /// `spec.credentials.roleArn`.
    #[arg(long, value_name = "ARN", env = "EKSGATE_ROLE_ARN")]
    pub role_arn: Option<String>,

    /// Audience of the OIDC token, instead of the plan's `spec.credentials.audience`.
    #[arg(long, value_name = "AUDIENCE", env = "EKSGATE_AUDIENCE")]
    pub audience: Option<String>,

    /// STS session name, instead of the plan's `spec.credentials.sessionName`.
    #[arg(long, value_name = "NAME", env = "EKSGATE_ROLE_SESSION_NAME")]
    pub role_session_name: Option<String>,

    /// Session length in seconds (900 to 43200), instead of the plan's
    /// `spec.credentials.durationSeconds`.
    #[arg(long, value_name = "SECONDS", env = "EKSGATE_ROLE_DURATION_SECONDS")]
    pub role_duration_seconds: Option<i32>,

    /// The terraform program.
    #[arg(
        long,
        value_name = "PROGRAM",
        env = "EKSGATE_TERRAFORM",
        default_value = "terraform"
    )]
    pub terraform: String,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    eksgate_deploy::duration::parse(text)
}

/// Runs the deploy; the exit code is the contract (0, 1, 2).
pub fn run(args: DeployArgs) -> u8 {
    let options = eksgate_deploy::RunOptions {
        plan: args.plan,
        dry_run: args.dry_run,
        only: args.only,
        from: args.from,
        timeout: args.timeout,
        kube_api_url: args.kube_api_url,
        kube_ca_file: args.kube_ca_file,
        terraform: args.terraform,
        role_arn: args.role_arn,
        audience: args.audience,
        session_name: args.role_session_name,
        duration_seconds: args.role_duration_seconds,
    };
    eksgate_deploy::run_blocking(&options)
}

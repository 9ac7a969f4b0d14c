//! The staged run: policy gate, credentials, then each stage's Terraform, manifests and command,
//! then its gates. The first failure stops the run; the summary and outputs are written however
//! it ends.
//!
//! One file per concept: `load` reads the plan, the manifests and the policy; `policy_gate`
//! checks the manifests; `stages` runs a stage's steps (Terraform, commands) and `apply` its
//! manifests; `clients` opens the EKS and Kubernetes sessions; `gates` waits on a stage's
//! gates (their conditions are pure, in [`crate::conditions`]); `summary` writes the outputs
//! and the job summary. Cancellation is [`crate::cancel`]; every byte printed goes through
//! [`crate::log`].

mod apply;
mod clients;
mod gates;
mod load;
mod policy_gate;
mod stages;
mod summary;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cancel::{Cancel, Reason};
use crate::credentials::{self, ActionsEnv, Resolved};
use crate::duration;
use crate::kube;
use crate::log::Log;
use crate::manifests::ManifestFile;
use crate::plan::DeployPlan;
use crate::wait::WaitError;

use self::apply::Applied;
use self::summary::{StageReport, Status};

/// Exit codes: the contract shared with `eksgate check`.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// The run's deadline when neither `--timeout` nor `spec.timeout` gives one.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// What `eksgate deploy` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub plan: PathBuf,
    pub dry_run: bool,
    pub only: Vec<String>,
    pub from: Option<String>,
    pub timeout: Option<Duration>,
    pub kube_api_url: Option<String>,
    pub kube_ca_file: Option<PathBuf>,
    /// The terraform program (`terraform` on PATH by default).
    pub terraform: String,
    /// Overrides the plan's `spec.credentials.roleArn`.
    pub role_arn: Option<String>,
    /// Overrides the plan's `spec.credentials.audience`.
    pub audience: Option<String>,
    /// Overrides the plan's `spec.credentials.sessionName`.
    pub session_name: Option<String>,
    /// Overrides the plan's `spec.credentials.durationSeconds`.
    pub duration_seconds: Option<i32>,
}

/// Runs a deploy to the end and returns the exit code.
#[must_use]
pub fn run_blocking(options: &RunOptions) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln_safe(&format!(
                "eksgate: error: cannot start the async runtime: {e}"
            ));
            return EXIT_FAILED;
        }
    };
    runtime.block_on(run(options))
}

fn eprintln_safe(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Reads the plan and runs it.
///
/// In GitHub Actions the run's secrets are resolved and masked (`::add-mask::`) before the
/// first byte derived from the plan or the manifests is printed: a value that forged a workflow
/// command could otherwise stop command processing (`::stop-commands::`) ahead of the masks,
/// which would then print the keys in clear. So there the policy gate checks first and speaks
/// after the credentials, in the `github` format. When there will be no secrets (the gate fails,
/// a dry run) it speaks at once; elsewhere the order is the natural one.
pub async fn run(options: &RunOptions) -> u8 {
    let runner = eksgate_github::Runner::from_env();
    let log = Log::new(runner);
    let env = ActionsEnv::from_process();
    if let Some(bearer) = &env.token_bearer {
        // The job's token-request bearer exists from the start: mask it before anything else.
        log.secret(bearer);
    }
    let usage = |message: String| {
        log.error(&format!("eksgate: error: {message}"));
        EXIT_USAGE
    };
    let plan = match load::plan(options) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let stages = match plan.select(&options.only, options.from.as_deref()) {
        Ok(s) if s.is_empty() => return usage("`--only`/`--from` select no stage".to_string()),
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let files = match load::manifests(&stages) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let policy = match load::policy(&plan) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let run_timeout = options
        .timeout
        .or(plan.timeout)
        .unwrap_or(DEFAULT_RUN_TIMEOUT);

    let mut deploy = Deploy {
        plan: &plan,
        options,
        log: log.clone(),
        cancel: Cancel::new(),
        started: Instant::now(),
        run_timeout,
        reports: Vec::new(),
        failure: None,
        endpoint: None,
        kube: None,
        eks: None,
        resolved: None,
        applied: Vec::new(),
        initialized: HashSet::new(),
    };
    // The policy gate: before anything is applied.
    let verdict = (!files.is_empty()).then(|| deploy.check_policy(&files, &policy));
    let fails = verdict.as_ref().is_some_and(|v| v.fails);
    let mask_first = log.runner().in_actions && !options.dry_run && !fails;
    if !mask_first {
        deploy.header(stages.len());
        if let Some(v) = &verdict
            && !deploy.report_policy(v)
        {
            return deploy.finish(false);
        }
        if options.dry_run {
            deploy.dry_run(&stages, &files);
            return EXIT_OK;
        }
    }
    if let Err(e) = deploy.cancel.listen_for_signals() {
        log.error(&format!(
            "eksgate: warning: cannot listen for SIGINT/SIGTERM: {e}"
        ));
    }
    deploy.cancel.deadline(run_timeout);

    let resolved = deploy.credentials(&env).await;
    if mask_first {
        deploy.header(stages.len());
        if let Some(v) = &verdict {
            // It passed (`mask_first` says so); this prints and records it.
            let _ = deploy.report_policy(v);
        }
    }
    if !resolved {
        return deploy.finish(false);
    }
    for (index, stage) in stages.iter().enumerate() {
        let stage_files: Vec<&ManifestFile> = files.iter().filter(|f| f.stage == index).collect();
        if !deploy.stage(stage, &stage_files).await {
            return deploy.finish(false);
        }
    }
    deploy.finish(true)
}

/// A run in progress: what it has obtained (credentials, clients) and what it has done.
struct Deploy<'a> {
    plan: &'a DeployPlan,
    options: &'a RunOptions,
    log: Log,
    cancel: Cancel,
    started: Instant,
    run_timeout: Duration,
    reports: Vec<StageReport>,
    failure: Option<String>,
    endpoint: Option<String>,
    kube: Option<kube::Client>,
    eks: Option<aws_sdk_eks::Client>,
    resolved: Option<Resolved>,
    applied: Vec<Applied>,
    initialized: HashSet<PathBuf>,
}

impl Deploy<'_> {
    fn remaining(&self) -> Duration {
        self.run_timeout.saturating_sub(self.started.elapsed())
    }

    /// Records the failure that ends the run: an annotation in Actions, an error line always.
    fn fail(&mut self, stage: &str, gate: Option<&str>, message: &str) {
        let place = match gate {
            Some(g) => format!("stage `{stage}`, gate `{g}`"),
            None => format!("stage `{stage}`"),
        };
        let text = format!("{place}: {message}");
        if self.log.runner().in_actions {
            self.log.command(&eksgate_github::error_command(
                &format!("eksgate deploy: {place}"),
                message,
            ));
        }
        self.log.error(&format!("eksgate: error: {text}"));
        self.failure = Some(text);
    }

    /// `eksgate deploy `NAME`: cluster `C` in REGION, N of M stages`.
    fn header(&self, selected: usize) {
        self.log.line(&format!(
            "eksgate deploy `{}`: cluster `{}` in {}, {selected} of {} stages{}",
            self.plan.name,
            self.plan.cluster.name,
            self.plan.cluster.region,
            self.plan.stages.len(),
            if self.options.dry_run {
                " (dry run: nothing is touched)"
            } else {
                ""
            }
        ));
    }

    /// Resolves (and masks) the run's credentials; `false` when that failed (recorded).
    async fn credentials(&mut self, env: &ActionsEnv) -> bool {
        self.log.line("credentials: resolving");
        let resolved = credentials::resolve(
            &self.plan.credentials,
            env,
            &self.plan.cluster.region,
            self.run_timeout,
            &self.log,
            &self.cancel,
        )
        .await;
        match resolved {
            Ok(r) => {
                self.log.line(&format!(
                    "credentials: {} (principal `{}`)",
                    r.source, r.principal
                ));
                self.resolved = Some(r);
                true
            }
            Err(e) => {
                self.fail("credentials", None, &e.to_string());
                self.reports.push(StageReport {
                    name: "credentials".into(),
                    ran: "GitHub OIDC / AWS credential chain".into(),
                    gates: Vec::new(),
                    duration: self.started.elapsed(),
                    status: if matches!(e, credentials::CredentialsError::Cancelled) {
                        Status::Cancelled
                    } else {
                        Status::Failed
                    },
                });
                false
            }
        }
    }

    /// How a cancelled step is reported: the deadline is a failure, a signal a cancellation.
    fn cancelled_status(&self, what: &str) -> (Status, String) {
        match self.cancel.reason() {
            Some(Reason::Deadline) => (
                Status::Failed,
                format!(
                    "{what}: the run's timeout of {} passed",
                    duration::format(self.run_timeout)
                ),
            ),
            Some(Reason::Signal(s)) => (Status::Cancelled, format!("{what}: cancelled by {s}")),
            None => (Status::Cancelled, format!("{what}: cancelled")),
        }
    }

    fn wait_failure(&self, e: WaitError) -> (Status, String) {
        match e {
            WaitError::Cancelled { .. } => self.cancelled_status(&e.to_string()),
            other => (Status::Failed, other.to_string()),
        }
    }
}

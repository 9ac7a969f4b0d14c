//! The staged run: policy gate, credentials, then each stage's Terraform, manifests and command,
//! then its gates. The first failure stops the run; the summary and outputs are written however
//! it ends.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eksgate_policy::render::{Format, RenderOptions};
use eksgate_policy::{CheckOptions, Input, Limits, Policy, SourceFile};
use serde_json::Value;

use crate::aws;
use crate::cancel::{Cancel, Reason};
use crate::conditions;
use crate::credentials::{self, ActionsEnv, Resolved};
use crate::duration;
use crate::kube::{self, ApiResource};
use crate::log::Log;
use crate::plan::{DeployPlan, GateKind, GateRef, Stage};
use crate::process::{self, Exit};
use crate::terraform;
use crate::token::TokenSource;
use crate::wait::{self, Check, WaitError};

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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Status {
    Done,
    Failed,
    Cancelled,
}

#[derive(Clone, Debug)]
struct StageReport {
    name: String,
    ran: String,
    gates: Vec<String>,
    duration: Duration,
    status: Status,
}

struct Manifest {
    file: String,
    document: usize,
    object: Value,
}

struct Applied {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    resource: ApiResource,
}

impl Applied {
    fn path(&self) -> String {
        self.resource.object(self.namespace.as_deref(), &self.name)
    }
}

/// Reads the plan and runs it.
pub async fn run(options: &RunOptions) -> u8 {
    let runner = eksgate_github::Runner::from_env();
    let log = Log::new(runner);
    let plan_text = match std::fs::read(&options.plan) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                log.error(&format!(
                    "eksgate: error: plan `{}` is not UTF-8",
                    options.plan.display()
                ));
                return EXIT_USAGE;
            }
        },
        Err(e) => {
            log.error(&format!(
                "eksgate: error: cannot read plan `{}`: {e}",
                options.plan.display()
            ));
            return EXIT_USAGE;
        }
    };
    let base_dir = options
        .plan
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let source = SourceFile::new(options.plan.display().to_string(), plan_text);
    let mut plan = match DeployPlan::from_source(&source, &base_dir) {
        Ok(p) => p,
        Err(e) => {
            log.error(&format!("eksgate: error: invalid plan: {e}"));
            return EXIT_USAGE;
        }
    };
    if let Some(role) = options.role_arn.as_ref().filter(|r| !r.is_empty()) {
        if !(role.starts_with("arn:aws") && role.contains(":role/")) {
            log.error(&format!(
                "eksgate: error: `--role-arn` `{role}` is not a role ARN like `arn:aws:iam::123456789012:role/eksgate-deploy`"
            ));
            return EXIT_USAGE;
        }
        plan.credentials.role_arn = Some(role.clone());
    }
    let plan = plan;
    let stages = match plan.select(&options.only, options.from.as_deref()) {
        Ok(s) if s.is_empty() => {
            log.error("eksgate: error: `--only`/`--from` select no stage");
            return EXIT_USAGE;
        }
        Ok(s) => s,
        Err(e) => {
            log.error(&format!("eksgate: error: {e}"));
            return EXIT_USAGE;
        }
    };
    // Manifests are read once: the policy gate checks exactly the bytes that are applied.
    let mut files: Vec<(usize, String, Vec<u8>)> = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        for path in &stage.manifests {
            match collect_files(path) {
                Ok(found) => files.extend(found.into_iter().map(|(n, b)| (i, n, b))),
                Err(e) => {
                    log.error(&format!("eksgate: error: stage `{}`: {e}", stage.name));
                    return EXIT_USAGE;
                }
            }
        }
    }
    let policy = match &plan.policy {
        None => Policy::default_policy().map_err(|e| format!("built-in policy: {e}")),
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("cannot read policy `{}`: {e}", path.display()))
            .and_then(|b| {
                String::from_utf8(b)
                    .map_err(|_| format!("policy `{}` is not UTF-8", path.display()))
            })
            .and_then(|t| {
                Policy::from_source(&SourceFile::new(path.display().to_string(), t))
                    .map_err(|e| format!("invalid policy: {e}"))
            }),
    };
    let policy = match policy {
        Ok(p) => p,
        Err(e) => {
            log.error(&format!("eksgate: error: {e}"));
            return EXIT_USAGE;
        }
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
    log.line(&format!(
        "eksgate deploy `{}`: cluster `{}` in {}, {} of {} stages{}",
        plan.name,
        plan.cluster.name,
        plan.cluster.region,
        stages.len(),
        plan.stages.len(),
        if options.dry_run {
            " (dry run: nothing is touched)"
        } else {
            ""
        }
    ));

    // The policy gate: before anything is applied.
    if !files.is_empty() && !deploy.policy_gate(&files, &policy) {
        return deploy.finish(false);
    }
    if options.dry_run {
        deploy.dry_run(&stages, &files);
        return EXIT_OK;
    }
    if let Err(e) = deploy.cancel.listen_for_signals() {
        log.error(&format!(
            "eksgate: warning: cannot listen for SIGINT/SIGTERM: {e}"
        ));
    }
    deploy.cancel.deadline(run_timeout);

    let env = ActionsEnv::from_process();
    log.line("credentials: resolving");
    match credentials::resolve(
        &plan.credentials,
        &env,
        &plan.cluster.region,
        run_timeout,
        &log,
        &deploy.cancel,
    )
    .await
    {
        Ok(r) => {
            log.line(&format!(
                "credentials: {} (principal `{}`)",
                r.source, r.principal
            ));
            deploy.resolved = Some(r);
        }
        Err(e) => {
            deploy.fail("credentials", None, &e.to_string());
            deploy.reports.push(StageReport {
                name: "credentials".into(),
                ran: "GitHub OIDC / AWS credential chain".into(),
                gates: Vec::new(),
                duration: deploy.started.elapsed(),
                status: if matches!(e, credentials::CredentialsError::Cancelled) {
                    Status::Cancelled
                } else {
                    Status::Failed
                },
            });
            return deploy.finish(false);
        }
    }

    for (index, stage) in stages.iter().enumerate() {
        let stage_files: Vec<&(usize, String, Vec<u8>)> =
            files.iter().filter(|(i, _, _)| *i == index).collect();
        let ok = deploy.stage(stage, &stage_files).await;
        if !ok {
            return deploy.finish(false);
        }
    }
    deploy.finish(true)
}

/// Files of a manifests entry: the file itself, or every `*.yaml`, `*.yml`, `*.json` below a
/// directory (sorted, hidden entries skipped).
fn collect_files(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read manifests `{}`: {e}", path.display()))?;
    if meta.is_file() {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        return Ok(vec![(path.display().to_string(), bytes)]);
    }
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot list `{}`: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir()
            || matches!(
                entry.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        {
            out.extend(collect_files(&entry)?);
        }
    }
    Ok(out)
}

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

    fn fail(&mut self, stage: &str, gate: Option<&str>, message: &str) {
        let place = match gate {
            Some(g) => format!("stage `{stage}`, gate `{g}`"),
            None => format!("stage `{stage}`"),
        };
        let text = format!("{place}: {message}");
        if self.log.runner().in_actions {
            self.log.raw(&eksgate_github::error_command(
                &format!("eksgate deploy: {place}"),
                message,
            ));
        }
        self.log.error(&format!("eksgate: error: {text}"));
        self.failure = Some(text);
    }

    fn policy_gate(&mut self, files: &[(usize, String, Vec<u8>)], policy: &Policy) -> bool {
        let started = Instant::now();
        let limits = Limits::default();
        let inputs: Vec<Input> = files
            .iter()
            .map(|(_, name, bytes)| Input::bytes(name.clone(), bytes.clone(), &limits))
            .collect();
        let report = eksgate_policy::check(inputs, policy, &CheckOptions::default());
        // The gate runs before credentials are resolved and masked, so what it prints must not
        // be able to issue workflow commands: in Actions it prints annotations (every value
        // escaped), elsewhere code frames (control characters shown escaped).
        let format = if self.log.runner().in_actions {
            Format::Github
        } else {
            Format::Human
        };
        let text = eksgate_policy::render::render(
            &report,
            format,
            RenderOptions {
                color: false,
                version: env!("CARGO_PKG_VERSION"),
            },
        );
        let threshold = self.plan.fail_on;
        let fails = report.fails(threshold);
        self.log.line(&format!(
            "policy gate: {} file(s) against policy `{}`: {} error(s), {} warning(s){}",
            files.len(),
            eksgate_policy::render::escape::visible(&policy.name),
            report.summary.errors,
            report.summary.warnings,
            if fails { "" } else { " - passed" }
        ));
        if !report.diagnostics.is_empty() {
            self.log.raw(&text);
        }
        let status = if fails { Status::Failed } else { Status::Done };
        self.reports.push(StageReport {
            name: "policy gate".into(),
            ran: format!("eksgate check on {} manifest file(s)", files.len()),
            gates: vec![format!(
                "{} error(s), {} warning(s)",
                report.summary.errors, report.summary.warnings
            )],
            duration: started.elapsed(),
            status,
        });
        if fails {
            self.fail(
                "policy gate",
                None,
                &format!(
                    "the manifests have findings at or above `{}`; nothing was applied (see the findings above, or run `eksgate check` on them)",
                    threshold.map_or("never", eksgate_policy::Severity::as_str)
                ),
            );
        }
        !fails
    }

    fn dry_run(&self, stages: &[&Stage], files: &[(usize, String, Vec<u8>)]) {
        let log = &self.log;
        let creds = match &self.plan.credentials.role_arn {
            Some(role) => format!(
                "in GitHub Actions: OIDC token (audience `{}`) -> AssumeRoleWithWebIdentity `{role}`; elsewhere: the standard AWS chain",
                self.plan.credentials.audience
            ),
            None => "the standard AWS credential chain".to_string(),
        };
        log.line(&format!("credentials: {creds}"));
        log.line(&format!(
            "run timeout: {}",
            duration::format(self.run_timeout)
        ));
        let mut initialized: HashSet<PathBuf> = HashSet::new();
        for (i, stage) in stages.iter().enumerate() {
            log.line(&format!(
                "stage {}/{} `{}`",
                i + 1,
                stages.len(),
                stage.name
            ));
            if let Some(tf) = &stage.terraform {
                let init = initialized.insert(tf.dir.clone());
                for args in terraform::commands(tf, init) {
                    log.line(&format!(
                        "  run: {} {}",
                        self.options.terraform,
                        args.join(" ")
                    ));
                }
            }
            for (_, name, bytes) in files.iter().filter(|(s, _, _)| *s == i) {
                let objects = parse_manifests(name, bytes)
                    .map(|list| {
                        list.iter()
                            .map(|m| object_label(&m.object))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|e| e);
                log.line(&format!(
                    "  apply (server-side, field manager `{}`): {name}: {objects}",
                    kube::FIELD_MANAGER
                ));
            }
            if let Some(argv) = &stage.command {
                log.line(&format!("  run: {}", argv.join(" ")));
            }
            for gate in &stage.gates {
                log.line(&format!(
                    "  gate: {} (timeout {})",
                    gate.kind,
                    duration::format(gate.timeout)
                ));
            }
        }
    }

    fn child_env(&self) -> Vec<(String, String)> {
        let mut env = terraform::automation_env();
        env.push(("AWS_REGION".into(), self.plan.cluster.region.clone()));
        env.push((
            "AWS_DEFAULT_REGION".into(),
            self.plan.cluster.region.clone(),
        ));
        env.push((
            "EKSGATE_CLUSTER_NAME".into(),
            self.plan.cluster.name.clone(),
        ));
        if let Some(r) = &self.resolved {
            let c = &r.credentials;
            env.push(("AWS_ACCESS_KEY_ID".into(), c.access_key_id().to_string()));
            env.push((
                "AWS_SECRET_ACCESS_KEY".into(),
                c.secret_access_key().to_string(),
            ));
            if let Some(t) = c.session_token() {
                env.push(("AWS_SESSION_TOKEN".into(), t.to_string()));
            }
        }
        if let Some(e) = &self.endpoint {
            env.push(("EKSGATE_CLUSTER_ENDPOINT".into(), e.clone()));
        }
        env
    }

    fn child_env_removed(&self) -> Vec<&'static str> {
        let mut out = vec![
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
        ];
        if self
            .resolved
            .as_ref()
            .is_some_and(|r| r.credentials.session_token().is_none())
        {
            out.push("AWS_SESSION_TOKEN");
        }
        out
    }

    /// Runs a child; `Err` carries the failure message.
    async fn child(
        &self,
        program: &str,
        args: &[String],
        dir: &Path,
    ) -> Result<(), (Status, String)> {
        let shown = format!("{program} {}", args.join(" "));
        self.log.line(&format!("$ {shown}"));
        let exit = process::run(
            program,
            args,
            dir,
            &self.child_env(),
            &self.child_env_removed(),
            &self.log,
            &self.cancel,
        )
        .await
        .map_err(|e| (Status::Failed, e.to_string()))?;
        match exit {
            Exit::Success => Ok(()),
            Exit::Failed(code) => Err((
                Status::Failed,
                format!(
                    "`{shown}` failed ({}); later stages were not run",
                    code.map_or_else(
                        || "killed by a signal".to_string(),
                        |c| format!("exit code {c}")
                    )
                ),
            )),
            Exit::Cancelled(signal) => {
                Err(self.cancelled_status(&format!("`{shown}` was stopped with {signal}")))
            }
        }
    }

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

    async fn stage(&mut self, stage: &Stage, files: &[&(usize, String, Vec<u8>)]) -> bool {
        let started = Instant::now();
        self.log
            .line(&format!("stage `{}`: {}", stage.name, stage.describe()));
        let mut report = StageReport {
            name: stage.name.clone(),
            ran: stage.describe(),
            gates: Vec::new(),
            duration: Duration::ZERO,
            status: Status::Done,
        };
        let result = self.stage_steps(stage, files, &mut report).await;
        report.duration = started.elapsed();
        let ok = match result {
            Ok(()) => {
                self.log.line(&format!(
                    "stage `{}` done in {}",
                    stage.name,
                    duration::format(report.duration)
                ));
                true
            }
            Err((status, gate, message)) => {
                report.status = status.clone();
                if status == Status::Cancelled {
                    self.log.error(&format!(
                        "eksgate: stage `{}` cancelled: {message}",
                        stage.name
                    ));
                    self.failure = Some(format!("stage `{}`: {message}", stage.name));
                } else {
                    self.fail(&stage.name, gate.as_deref(), &message);
                }
                false
            }
        };
        self.reports.push(report);
        ok
    }

    async fn stage_steps(
        &mut self,
        stage: &Stage,
        files: &[&(usize, String, Vec<u8>)],
        report: &mut StageReport,
    ) -> Result<(), (Status, Option<String>, String)> {
        let no_gate = |(s, m): (Status, String)| (s, None, m);
        if let Some(tf) = &stage.terraform {
            let init = self.initialized.insert(tf.dir.clone());
            self.log
                .group(&format!("terraform: stage `{}`", stage.name));
            let mut result = Ok(());
            for args in terraform::commands(tf, init) {
                let program = self.options.terraform.clone();
                result = self.child(&program, &args, Path::new(".")).await;
                if result.is_err() {
                    break;
                }
            }
            self.log.endgroup();
            result.map_err(no_gate)?;
            if !tf.targets.is_empty() {
                self.log.line("  (terraform's \"Resource targeting is in effect\" warnings are expected in a staged apply)");
            }
        }
        if !files.is_empty() {
            let mut manifests = Vec::new();
            for (_, name, bytes) in files {
                manifests
                    .extend(parse_manifests(name, bytes).map_err(|m| (Status::Failed, None, m))?);
            }
            self.apply(manifests).await.map_err(no_gate)?;
        }
        if let Some(argv) = &stage.command {
            let dir = self
                .options
                .plan
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let (program, args) = argv
                .split_first()
                .map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
            self.log.group(&format!("command: stage `{}`", stage.name));
            let result = self
                .child(
                    program,
                    args,
                    if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        &dir
                    },
                )
                .await;
            self.log.endgroup();
            result.map_err(no_gate)?;
        }
        for gate in &stage.gates {
            let gate_started = Instant::now();
            match self.gate(gate).await {
                Ok(message) => report.gates.push(format!(
                    "{}: ready in {} ({message})",
                    gate.kind,
                    duration::format(gate_started.elapsed())
                )),
                Err((status, message)) => {
                    report.gates.push(format!(
                        "{}: {}",
                        gate.kind,
                        match status {
                            Status::Cancelled => "cancelled",
                            _ => "failed",
                        }
                    ));
                    return Err((status, Some(gate.kind.name().to_string()), message));
                }
            }
        }
        Ok(())
    }

    fn eks(&mut self) -> Result<aws_sdk_eks::Client, String> {
        if let Some(c) = &self.eks {
            return Ok(c.clone());
        }
        Err("no AWS session".to_string())
    }

    async fn ensure_eks(&mut self) -> Result<aws_sdk_eks::Client, String> {
        if self.eks.is_none() {
            let creds = self
                .resolved
                .as_ref()
                .map(|r| r.credentials.clone())
                .ok_or_else(|| "no credentials".to_string())?;
            let config = aws::sdk_config(&self.plan.cluster.region, Some(creds)).await;
            self.eks = Some(aws_sdk_eks::Client::new(&config));
        }
        self.eks()
    }

    /// The Kubernetes client: endpoint and CA from DescribeCluster unless overridden.
    async fn ensure_kube(&mut self) -> Result<kube::Client, String> {
        if let Some(k) = &self.kube {
            return Ok(k.clone());
        }
        let cluster = self.plan.cluster.name.clone();
        let mut ca_pem: Option<Vec<u8>> =
            match &self.options.kube_ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    format!("cannot read `--kube-ca-file` `{}`: {e}", path.display())
                })?),
                None => None,
            };
        let url = match &self.options.kube_api_url {
            Some(url) => url.clone(),
            None => {
                let eks = self.ensure_eks().await?;
                let info = aws::describe_cluster(&eks, &cluster).await.map_err(|f| {
                    format!("cannot read the API endpoint of `{cluster}` (DescribeCluster: {f:?}); gate the stage that creates the cluster on `eks-cluster-active`")
                })?;
                let Some(endpoint) = info.endpoint.filter(|e| !e.is_empty()) else {
                    return Err(format!(
                        "cluster `{cluster}` has no API endpoint yet (status {}); gate the stage that creates it on `eks-cluster-active`",
                        info.status.unwrap_or_else(|| "unknown".into())
                    ));
                };
                if ca_pem.is_none() {
                    use base64::Engine as _;
                    let data = info.ca_data.unwrap_or_default();
                    let pem = base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|e| format!("the cluster CA from DescribeCluster is not base64: {e}; pass `--kube-ca-file`"))?;
                    ca_pem = Some(pem);
                }
                endpoint
            }
        };
        let https = url.starts_with("https://");
        let creds = self
            .resolved
            .as_ref()
            .map(|r| r.credentials.clone())
            .ok_or_else(|| "no credentials".to_string())?;
        let tokens = TokenSource::new(creds, &cluster, &self.plan.cluster.region);
        let client = kube::Client::new(&url, if https { ca_pem.as_deref() } else { None }, tokens)
            .map_err(|e| e.to_string())?;
        self.log.line(&format!("kubernetes API: {url}"));
        self.endpoint = Some(url);
        self.kube = Some(client.clone());
        Ok(client)
    }

    fn gate_timeout(&self, gate: &GateRef) -> Duration {
        gate.timeout.min(self.remaining())
    }

    async fn apply(&mut self, mut manifests: Vec<Manifest>) -> Result<(), (Status, String)> {
        let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
        // Namespaces, then CRDs, then the rest, each in file order.
        manifests.sort_by_key(|m| match m.object.get("kind").and_then(Value::as_str) {
            Some("Namespace") => 0,
            Some("CustomResourceDefinition") => 1,
            _ => 2,
        });
        for m in manifests {
            let api_version = m
                .object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let kind = m
                .object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let name = m
                .object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if api_version.is_empty() || kind.is_empty() || name.is_empty() {
                return Err((
                    Status::Failed,
                    format!(
                        "{} document {}: needs `apiVersion`, `kind` and `metadata.name` to be applied",
                        m.file,
                        m.document + 1
                    ),
                ));
            }
            let what = format!("discovery of {kind} in {api_version}");
            let timeout = Duration::from_secs(60).min(self.remaining());
            let found = wait::wait_until(
                &what,
                timeout,
                wait::gate_backoff(),
                &self.cancel,
                &self.log,
                || {
                    let kube = &kube;
                    let (api_version, kind) = (&api_version, &kind);
                    async move {
                        match kube.resolve(api_version, kind).await {
                            Ok(Some(_)) => Check::Ready(format!("{kind} is served")),
                            Ok(None) => Check::Pending(format!(
                                "no matches for kind `{kind}` in version `{api_version}`"
                            )),
                            Err(e) if matches!(e.status(), Some(401 | 403)) => {
                                Check::Failed(e.to_string())
                            }
                            Err(e) => kube_check(&e),
                        }
                    }
                },
            )
            .await;
            if let Err(e) = found {
                let (status, message) = self.wait_failure(e);
                return Err((
                    status,
                    format!(
                        "{message}. `{kind}` ({api_version}) is not served by the API server: apply its CRD in an earlier stage gated on `crds-established` (and the cluster on `kubernetes-api`)"
                    ),
                ));
            }
            let resource = match kube.resolve(&api_version, &kind).await {
                Ok(Some(r)) => r,
                _ => {
                    return Err((
                        Status::Failed,
                        format!("`{kind}` ({api_version}) disappeared from discovery"),
                    ));
                }
            };
            let namespace = if resource.namespaced {
                Some(
                    m.object
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("default")
                        .to_string(),
                )
            } else {
                None
            };
            let applied = Applied {
                api_version,
                kind,
                name,
                namespace,
                resource,
            };
            kube.apply(&applied.path(), &m.object).await.map_err(|e| {
                (
                    Status::Failed,
                    format!("applying {} from {}: {e}", object_label(&m.object), m.file),
                )
            })?;
            self.log.line(&format!(
                "  applied {}{}",
                object_label(&m.object),
                applied
                    .namespace
                    .as_ref()
                    .map(|n| format!(" in `{n}`"))
                    .unwrap_or_default()
            ));
            if applied.kind == "CustomResourceDefinition" {
                // New kinds: what discovery said before is stale.
                kube.refresh_discovery();
            }
            self.applied.push(applied);
        }
        Ok(())
    }

    fn wait_failure(&self, e: WaitError) -> (Status, String) {
        match e {
            WaitError::Cancelled { .. } => self.cancelled_status(&e.to_string()),
            other => (Status::Failed, other.to_string()),
        }
    }

    async fn gate(&mut self, gate: &GateRef) -> Result<String, (Status, String)> {
        let timeout = self.gate_timeout(gate);
        let name = gate.kind.name();
        let cluster = self.plan.cluster.name.clone();
        let region = self.plan.cluster.region.clone();
        self.log.line(&format!(
            "gate `{name}` (timeout {})",
            duration::format(timeout)
        ));
        let backoff = wait::gate_backoff();
        let result = match gate.kind {
            GateKind::EksClusterActive | GateKind::NodegroupsActive | GateKind::AddonsActive => {
                let eks = self.ensure_eks().await.map_err(|m| (Status::Failed, m))?;
                let kind = gate.kind;
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (eks, cluster) = (&eks, &cluster);
                    async move {
                        match kind {
                            GateKind::EksClusterActive => aws::poll_cluster(eks, cluster).await,
                            GateKind::NodegroupsActive => aws::poll_nodegroups(eks, cluster).await,
                            _ => aws::poll_addons(eks, cluster).await,
                        }
                    }
                })
                .await
            }
            GateKind::KubernetesApi => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let principal = self
                    .resolved
                    .as_ref()
                    .map_or_else(String::new, |r| r.principal.clone());
                let denied_since: Cell<Option<Instant>> = Cell::new(None);
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, principal, cluster, region, denied_since) =
                        (&kube, &principal, &cluster, &region, &denied_since);
                    async move {
                        match kube.readyz().await {
                            Ok((status, body)) => {
                                let denied_for = if matches!(status, 401 | 403) {
                                    let since = denied_since.get().unwrap_or_else(Instant::now);
                                    denied_since.set(Some(since));
                                    since.elapsed()
                                } else {
                                    denied_since.set(None);
                                    Duration::ZERO
                                };
                                conditions::api_readyz(
                                    status, &body, denied_for, principal, cluster, region,
                                )
                            }
                            Err(e) => kube_check(&e),
                        }
                    }
                })
                .await
            }
            GateKind::CrdsEstablished => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let mut names = gate.names.clone();
                if names.is_empty() {
                    names = self
                        .applied
                        .iter()
                        .filter(|a| a.kind == "CustomResourceDefinition")
                        .map(|a| a.name.clone())
                        .collect();
                }
                if names.is_empty() {
                    return Err((Status::Failed, "no CustomResourceDefinitions to wait for: none was applied by this run; list them with `{name: crds-established, names: [nodepools.karpenter.sh, ...]}`".to_string()));
                }
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, names) = (&kube, &names);
                    async move { poll_crds(kube, names).await }
                })
                .await
            }
            GateKind::NodeclassesReady | GateKind::NodepoolsReady => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let kinds: &[(&str, &str)] = if gate.kind == GateKind::NodepoolsReady {
                    &[("karpenter.sh/v1", "NodePool")]
                } else {
                    &[
                        ("karpenter.k8s.aws/v1", "EC2NodeClass"),
                        ("eks.amazonaws.com/v1", "NodeClass"),
                    ]
                };
                let targets: Vec<String> = self
                    .applied
                    .iter()
                    .filter(|a| kinds.iter().any(|(_, k)| *k == a.kind))
                    .map(Applied::path)
                    .collect();
                let what = if gate.kind == GateKind::NodepoolsReady {
                    "NodePool"
                } else {
                    "node class"
                };
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, targets) = (&kube, &targets);
                    async move {
                        let paths = match targets_or_list(kube, targets, kinds).await {
                            Ok(p) => p,
                            Err(check) => return check,
                        };
                        if paths.is_empty() {
                            return Check::Failed(format!("no {what} exists in the cluster: nothing can become ready (apply them in this or an earlier stage)"));
                        }
                        let mut checks = Vec::new();
                        for path in &paths {
                            checks.push(match kube.get(path).await {
                                Ok(obj) => conditions::ready_condition(what, obj.as_ref()),
                                Err(e) => kube_check(&e),
                            });
                        }
                        combine(checks)
                    }
                })
                .await
            }
            GateKind::WorkloadsAvailable => {
                let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
                let kinds: &[(&str, &str)] = &[
                    ("apps/v1", "Deployment"),
                    ("apps/v1", "StatefulSet"),
                    ("apps/v1", "DaemonSet"),
                ];
                let targets: Vec<String> = self
                    .applied
                    .iter()
                    .filter(|a| {
                        a.api_version == "apps/v1" && kinds.iter().any(|(_, k)| *k == a.kind)
                    })
                    .map(Applied::path)
                    .collect();
                wait::wait_until(name, timeout, backoff, &self.cancel, &self.log, || {
                    let (kube, targets) = (&kube, &targets);
                    async move {
                        let paths = match targets_or_list(kube, targets, kinds).await {
                            Ok(p) => p,
                            Err(check) => return check,
                        };
                        if paths.is_empty() {
                            return Check::Ready(
                                "no Deployments, StatefulSets or DaemonSets to wait for"
                                    .to_string(),
                            );
                        }
                        let mut checks = Vec::new();
                        for path in &paths {
                            checks.push(match kube.get(path).await {
                                Ok(obj) => conditions::workload_available(obj.as_ref()),
                                Err(e) => kube_check(&e),
                            });
                        }
                        combine(checks)
                    }
                })
                .await
            }
        };
        result.map_err(|e| self.wait_failure(e))
    }

    fn finish(&mut self, success: bool) -> u8 {
        let cancelled = self.reports.iter().any(|r| r.status == Status::Cancelled);
        let result = if success {
            "success"
        } else if cancelled {
            "cancelled"
        } else {
            "failure"
        };
        let completed: Vec<&str> = self
            .reports
            .iter()
            .filter(|r| r.status == Status::Done && r.name != "policy gate")
            .map(|r| r.name.as_str())
            .collect();
        let runner = self.log.runner().clone();
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| self.options.kube_api_url.clone())
            .unwrap_or_default();
        let outputs = [
            ("cluster-name", self.plan.cluster.name.clone()),
            ("cluster-endpoint", endpoint),
            ("stages-completed", completed.join(",")),
            ("result", result.to_string()),
        ];
        for (name, value) in &outputs {
            if let Err(e) = runner.set_output(name, &self.log.redact(value)) {
                self.log.error(&format!("eksgate: warning: {e}"));
            }
        }
        let summary = self.log.redact(&summary_markdown(
            &self.plan.name,
            &self.plan.cluster.name,
            result,
            &self.reports,
            self.failure.as_deref(),
            self.started.elapsed(),
        ));
        if let Err(e) = runner.append_summary(&summary) {
            self.log.error(&format!("eksgate: warning: {e}"));
        }
        self.log.line(&format!(
            "eksgate deploy `{}`: {result} after {} ({} stage(s) completed{})",
            self.plan.name,
            duration::format(self.started.elapsed()),
            completed.len(),
            if completed.is_empty() {
                String::new()
            } else {
                format!(": {}", completed.join(", "))
            }
        ));
        if success { EXIT_OK } else { EXIT_FAILED }
    }
}

/// Paths of the objects to check: those this run applied, or every object of `kinds` in the
/// cluster. `Err` is the check to report when listing fails.
async fn targets_or_list(
    kube: &kube::Client,
    targets: &[String],
    kinds: &[(&str, &str)],
) -> Result<Vec<String>, Check> {
    if !targets.is_empty() {
        return Ok(targets.to_vec());
    }
    let mut paths = Vec::new();
    let mut served = false;
    for (api_version, kind) in kinds {
        let resource = match kube.resolve(api_version, kind).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return Err(kube_check(&e)),
        };
        served = true;
        let list = match kube.get(&resource.collection(None)).await {
            Ok(l) => l.unwrap_or(Value::Null),
            Err(e) => return Err(kube_check(&e)),
        };
        for item in list
            .get("items")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let name = item
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
            paths.push(resource.object(ns, name));
        }
    }
    if !served {
        let list: Vec<String> = kinds.iter().map(|(v, k)| format!("{k} ({v})")).collect();
        return Err(Check::Pending(format!(
            "{} not served yet (CRDs missing?)",
            list.join(", ")
        )));
    }
    Ok(paths)
}

/// Many objects' checks as one: any failure fails, all ready is ready, else pending.
fn combine(checks: Vec<Check>) -> Check {
    let total = checks.len();
    let mut pending = Vec::new();
    let mut ready = Vec::new();
    for c in checks {
        match c {
            Check::Failed(m) => return Check::Failed(m),
            Check::Pending(m) => pending.push(m),
            Check::Ready(m) => ready.push(m),
        }
    }
    if pending.is_empty() {
        if total == 1 {
            Check::Ready(ready.pop().unwrap_or_default())
        } else {
            Check::Ready(format!("all {total} ready"))
        }
    } else if total == 1 {
        Check::Pending(pending.join("; "))
    } else {
        Check::Pending(format!(
            "{}/{total} not ready: {}",
            pending.len(),
            pending.join("; ")
        ))
    }
}

/// A Kubernetes error seen while a gate waits: worth another try, unless it cannot change
/// (an untrusted certificate).
fn kube_check(e: &kube::KubeError) -> Check {
    if e.is_permanent() {
        Check::Failed(e.to_string())
    } else {
        Check::Pending(e.to_string())
    }
}

async fn poll_crds(kube: &kube::Client, names: &[String]) -> Check {
    let mut checks = Vec::new();
    let mut crds = Vec::new();
    for name in names {
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        match kube.get(&path).await {
            Ok(crd) => {
                checks.push(conditions::crd_established(name, crd.as_ref()));
                crds.extend(crd);
            }
            Err(e) => checks.push(kube_check(&e)),
        }
    }
    let established = combine(checks);
    if !matches!(established, Check::Ready(_)) {
        return established;
    }
    // Established is not discovery: ask discovery again until it lists every served version.
    kube.refresh_discovery();
    for crd in &crds {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = crd
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for v in versions
            .iter()
            .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        {
            let version = v.get("name").and_then(Value::as_str).unwrap_or_default();
            let api_version = format!("{group}/{version}");
            match kube.resolve(&api_version, kind).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Check::Pending(format!(
                        "`{kind}` is Established but discovery does not list it in `{api_version}` yet"
                    ));
                }
                Err(e) => return kube_check(&e),
            }
        }
    }
    Check::Ready(format!(
        "{} CRD(s) Established and served by discovery",
        crds.len()
    ))
}

fn parse_manifests(name: &str, bytes: &[u8]) -> Result<Vec<Manifest>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not UTF-8"))?;
    let source = SourceFile::new(name.to_string(), text);
    let loaded = eksgate_policy::source::load(0, &source, &Limits::default());
    if let Some(note) = loaded
        .notes
        .iter()
        .find(|n| n.kind == eksgate_policy::source::ParseNoteKind::Syntax)
    {
        let (line, column) = source.line_col(note.span.start);
        return Err(format!("{name}:{line}:{column}: {}", note.message));
    }
    Ok(loaded
        .documents
        .iter()
        .map(|d| Manifest {
            file: name.to_string(),
            document: d.index,
            object: d.root.to_json(),
        })
        .collect())
}

fn object_label(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj.get("kind").and_then(Value::as_str).unwrap_or("?"),
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    )
}

fn summary_markdown(
    plan: &str,
    cluster: &str,
    result: &str,
    reports: &[StageReport],
    failure: Option<&str>,
    elapsed: Duration,
) -> String {
    use eksgate_github::markdown_cell;
    let icon = match result {
        "success" => "✅",
        "cancelled" => "⏹️",
        _ => "❌",
    };
    let mut out = format!(
        "## {icon} eksgate deploy `{}`: {result}\n\nCluster `{}`, {}.\n\n| stage | ran | gates | duration | result |\n|---|---|---|---|---|\n",
        markdown_cell(plan),
        markdown_cell(cluster),
        duration::format(elapsed)
    );
    for r in reports {
        let status = match r.status {
            Status::Done => "✅ done",
            Status::Failed => "❌ failed",
            Status::Cancelled => "⏹️ cancelled",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {status} |\n",
            markdown_cell(&r.name),
            markdown_cell(&r.ran),
            if r.gates.is_empty() {
                "-".to_string()
            } else {
                markdown_cell(&r.gates.join("\n"))
            },
            duration::format(r.duration)
        ));
    }
    if let Some(f) = failure {
        out.push_str(&format!(
            "\n**{}**: {}\n",
            if result == "cancelled" {
                "Cancelled"
            } else {
                "Failed"
            },
            markdown_cell(f)
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_reports_the_worst() {
        assert!(
            matches!(combine(vec![Check::Ready("a".into()), Check::Pending("b".into())]), Check::Pending(m) if m.starts_with("1/2 not ready: b"))
        );
        assert!(
            matches!(combine(vec![Check::Pending("a".into()), Check::Failed("b".into())]), Check::Failed(m) if m == "b")
        );
        assert!(matches!(combine(vec![Check::Ready("a".into())]), Check::Ready(m) if m == "a"));
    }

    #[test]
    fn summary_is_a_table_and_escapes_cells() {
        let reports = vec![StageReport {
            name: "cluster".into(),
            ran: "terraform apply `infra` (targets: module.eks)".into(),
            gates: vec!["eks-cluster-active: ready in 3s (a|b)".into()],
            duration: Duration::from_secs(65),
            status: Status::Done,
        }];
        let md = summary_markdown("p", "c", "success", &reports, None, Duration::from_secs(70));
        assert!(md.contains("| stage | ran | gates | duration | result |"));
        assert!(md.contains("| cluster | terraform apply `infra` (targets: module.eks) | eks-cluster-active: ready in 3s (a\\|b) | 1m5s | ✅ done |"), "{md}");
    }
}

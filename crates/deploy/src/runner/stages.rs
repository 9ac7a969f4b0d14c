//! Stage execution: a stage's Terraform, its manifests (see [`super::apply`]) and its command,
//! in that order, then its gates; child processes get the run's credentials in their
//! environment only. And the dry run, which prints all of it without running anything.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Deploy;
use super::summary::{StageReport, Status};
use crate::duration;
use crate::kube;
use crate::log::Log;
use crate::manifests::{self, ManifestFile};
use crate::plan::Stage;
use crate::process::{self, Exit};
use crate::terraform;

impl Deploy<'_> {
    pub(super) async fn stage(&mut self, stage: &Stage, files: &[&ManifestFile]) -> bool {
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

    pub(super) async fn stage_steps(
        &mut self,
        stage: &Stage,
        files: &[&ManifestFile],
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
                result = self.child(&program, &args, Path::new("."), &self.log).await;
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
            for file in files {
                manifests.extend(
                    manifests::parse(&file.name, &file.bytes)
                        .map_err(|m| (Status::Failed, None, m))?,
                );
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
                    // The plan's own script: it may print workflow commands on purpose.
                    &self.log.for_trusted_child(),
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

    pub(super) fn dry_run(&self, stages: &[&Stage], files: &[ManifestFile]) {
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
            for file in files.iter().filter(|f| f.stage == i) {
                let objects = manifests::parse(&file.name, &file.bytes)
                    .map(|list| {
                        list.iter()
                            .map(|m| manifests::object_label(&m.object))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|e| e);
                log.line(&format!(
                    "  apply (server-side, field manager `{}`): {}: {objects}",
                    kube::FIELD_MANAGER,
                    file.name
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

    /// Runs a child, its output printed through `log`; `Err` carries the failure message.
    async fn child(
        &self,
        program: &str,
        args: &[String],
        dir: &Path,
        log: &Log,
    ) -> Result<(), (Status, String)> {
        let shown = format!("{program} {}", args.join(" "));
        self.log.line(&format!("$ {shown}"));
        let exit = process::run(
            program,
            args,
            dir,
            &self.child_env(),
            &self.child_env_removed(),
            log,
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
}

//! The policy gate: every manifest of the run is checked with `eksgate check`'s engine before
//! anything is applied; findings at or above the plan's `failOn` stop the run.
//!
//! Checking and printing are two steps, because in GitHub Actions the report is printed only
//! after the run's secrets are masked (see [`super::run`]), and in the `github` format there:
//! one annotation per finding, every value workflow-command-escaped. Elsewhere it is the human
//! report, as `eksgate check` prints it.

use std::time::{Duration, Instant};

use eksgate_policy::render::{Format, RenderOptions};
use eksgate_policy::{CheckOptions, Input, Limits, Policy, Report};

use super::Deploy;
use super::summary::{StageReport, Status};
use crate::manifests::ManifestFile;

/// The checked manifests, not printed yet.
pub(super) struct Verdict {
    report: Report,
    files: usize,
    policy: String,
    took: Duration,
    pub(super) fails: bool,
}

impl Deploy<'_> {
    /// Checks the manifests; prints nothing.
    pub(super) fn check_policy(&self, files: &[ManifestFile], policy: &Policy) -> Verdict {
        let started = Instant::now();
        let limits = Limits::default();
        let inputs: Vec<Input> = files
            .iter()
            .map(|f| Input::bytes(f.name.clone(), f.bytes.clone(), &limits))
            .collect();
        let report = eksgate_policy::check(inputs, policy, &CheckOptions::default());
        let fails = report.fails(self.plan.fail_on);
        Verdict {
            report,
            files: files.len(),
            policy: policy.name.clone(),
            took: started.elapsed(),
            fails,
        }
    }

    /// Prints the verdict and records it; `false` when it stops the run.
    pub(super) fn report_policy(&mut self, verdict: &Verdict) -> bool {
        let report = &verdict.report;
        let fails = verdict.fails;
        self.log.line(&format!(
            "policy gate: {} file(s) against policy `{}`: {} error(s), {} warning(s){}",
            verdict.files,
            eksgate_policy::render::escape::visible(&verdict.policy),
            report.summary.errors,
            report.summary.warnings,
            if fails { "" } else { " - passed" }
        ));
        if !report.diagnostics.is_empty() {
            let options = RenderOptions {
                color: false,
                version: env!("CARGO_PKG_VERSION"),
            };
            if self.log.runner().in_actions {
                // Annotations eksgate writes, with every value escaped for the runner.
                let text = eksgate_policy::render::render(report, Format::Github, options);
                self.log.command(&text);
            } else {
                let text = eksgate_policy::render::render(report, Format::Human, options);
                self.log.raw(&text);
            }
        }
        self.reports.push(StageReport {
            name: "policy gate".into(),
            ran: format!("eksgate check on {} manifest file(s)", verdict.files),
            gates: vec![format!(
                "{} error(s), {} warning(s)",
                report.summary.errors, report.summary.warnings
            )],
            duration: verdict.took,
            status: if fails { Status::Failed } else { Status::Done },
        });
        if fails {
            let threshold = self.plan.fail_on;
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
}

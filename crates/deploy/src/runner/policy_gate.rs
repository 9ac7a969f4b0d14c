//! The policy gate: every manifest of the run is checked with `eksgate check`'s engine before
//! anything is applied; findings at or above the plan's `failOn` stop the run.

use std::time::Instant;

use eksgate_policy::render::{Format, RenderOptions};
use eksgate_policy::{CheckOptions, Input, Limits, Policy};

use super::Deploy;
use super::summary::{StageReport, Status};
use crate::manifests::ManifestFile;

impl Deploy<'_> {
    pub(super) fn policy_gate(&mut self, files: &[ManifestFile], policy: &Policy) -> bool {
        let started = Instant::now();
        let limits = Limits::default();
        let inputs: Vec<Input> = files
            .iter()
            .map(|f| Input::bytes(f.name.clone(), f.bytes.clone(), &limits))
            .collect();
        let report = eksgate_policy::check(inputs, policy, &CheckOptions::default());
        let text = eksgate_policy::render::render(
            &report,
            Format::Human,
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
            policy.name,
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
}

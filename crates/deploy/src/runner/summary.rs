//! How a run ends, for people and for the workflow: each stage's report, the step outputs
//! (`cluster-name`, `cluster-endpoint`, `stages-completed`, `result`), the job summary table and
//! the last line of the log. Everything is redacted of the run's secrets.

use std::time::Duration;

use super::{Deploy, EXIT_FAILED, EXIT_OK};
use crate::duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Done,
    Failed,
    Cancelled,
}

/// One row of the summary table.
#[derive(Clone, Debug)]
pub(super) struct StageReport {
    pub(super) name: String,
    pub(super) ran: String,
    pub(super) gates: Vec<String>,
    pub(super) duration: Duration,
    pub(super) status: Status,
}

impl Deploy<'_> {
    /// Writes the outputs and the summary; the exit code.
    pub(super) fn finish(&mut self, success: bool) -> u8 {
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

//! Everything a run reads before it starts: the plan (with `--role-arn` applied), the manifests
//! of the selected stages and the policy, each through `eksgate_io`'s bounded reader (regular
//! files only). An `Err` is the message of a usage error (exit 2).

use std::path::{Path, PathBuf};

use eksgate_policy::{Limits, Policy, SourceFile};

use super::RunOptions;
use crate::iam;
use crate::manifests::{self, ManifestFile};
use crate::plan::{DeployPlan, Stage};

/// The most eksgate reads of a plan or a policy file: what the policy core reads of any file.
fn limit() -> u64 {
    Limits::default().max_source_bytes as u64
}

/// Reads and checks the plan; `--role-arn` replaces its `spec.credentials.roleArn`.
pub(super) fn plan(options: &RunOptions) -> Result<DeployPlan, String> {
    let shown = eksgate_io::shown(&options.plan);
    let bytes = eksgate_io::read_user_file(&options.plan, limit())
        .map_err(|e| format!("cannot read plan `{shown}`: {}", e.kind))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("plan `{shown}` is not UTF-8"))?;
    let base_dir = options
        .plan
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let source = SourceFile::new(options.plan.display().to_string(), text);
    let mut plan =
        DeployPlan::from_source(&source, &base_dir).map_err(|e| format!("invalid plan: {e}"))?;
    if let Some(role) = options.role_arn.as_ref().filter(|r| !r.is_empty()) {
        if !iam::is_role_arn(role) {
            return Err(format!(
                "`--role-arn` `{role}` is not a role ARN like `arn:aws:iam::123456789012:role/eksgate-deploy`"
            ));
        }
        plan.credentials.role_arn = Some(role.clone());
    }
    if let Some(audience) = options.audience.as_ref().filter(|a| !a.is_empty()) {
        plan.credentials.audience.clone_from(audience);
    }
    if let Some(name) = options.session_name.as_ref().filter(|n| !n.is_empty()) {
        if !iam::valid_session_name(name) {
            return Err(format!(
                "`--role-session-name` `{}` is not an STS session name: 2 to 64 of letters, digits and `_+=,.@-`",
                eksgate_policy::render::escape::visible(name)
            ));
        }
        plan.credentials.session_name = Some(name.clone());
    }
    if let Some(seconds) = options.duration_seconds {
        if !(900..=43_200).contains(&seconds) {
            return Err(format!(
                "`--role-duration-seconds` `{seconds}` is outside 900..=43200 (15 minutes to 12 hours)"
            ));
        }
        plan.credentials.duration_seconds = Some(seconds);
    }
    Ok(plan)
}

/// The manifest files of the selected stages, read once: the policy gate checks exactly the
/// bytes that are applied.
pub(super) fn manifests(stages: &[&Stage]) -> Result<Vec<ManifestFile>, String> {
    let mut files = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        for path in &stage.manifests {
            let found =
                manifests::collect(path).map_err(|e| format!("stage `{}`: {e}", stage.name))?;
            files.extend(found.into_iter().map(|(name, bytes)| ManifestFile {
                stage: index,
                name,
                bytes,
            }));
        }
    }
    Ok(files)
}

/// The plan's `spec.policy`, else the built-in policy.
pub(super) fn policy(plan: &DeployPlan) -> Result<Policy, String> {
    let Some(path) = &plan.policy else {
        return Policy::default_policy().map_err(|e| format!("built-in policy: {e}"));
    };
    let shown = eksgate_io::shown(path);
    let bytes = eksgate_io::read_user_file(path, limit())
        .map_err(|e| format!("cannot read policy `{shown}`: {}", e.kind))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("policy `{shown}` is not UTF-8"))?;
    Policy::from_source(&SourceFile::new(path.display().to_string(), text))
        .map_err(|e| format!("invalid policy: {e}"))
}

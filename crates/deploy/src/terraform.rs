//! Terraform stages: `init -input=false` once per directory, an optional workspace, then
//! `apply -auto-approve -input=false` with the stage's targets, var files and vars.
//! `-target` applies print "Resource targeting is in effect" warnings: expected in a staged
//! deploy, not errors.

use crate::plan::TerraformStep;

/// The argument lists a stage runs, in order (without the program name).
#[must_use]
pub fn commands(step: &TerraformStep, needs_init: bool) -> Vec<Vec<String>> {
    let chdir = format!("-chdir={}", step.dir.display());
    let mut out = Vec::new();
    if needs_init {
        out.push(vec![chdir.clone(), "init".into(), "-input=false".into()]);
    }
    if let Some(ws) = &step.workspace {
        out.push(vec![
            chdir.clone(),
            "workspace".into(),
            "select".into(),
            "-or-create".into(),
            ws.clone(),
        ]);
    }
    let mut apply = vec![
        chdir,
        "apply".into(),
        "-auto-approve".into(),
        "-input=false".into(),
    ];
    apply.extend(step.targets.iter().map(|t| format!("-target={t}")));
    apply.extend(step.var_files.iter().map(|f| format!("-var-file={f}")));
    apply.extend(step.vars.iter().map(|(k, v)| format!("-var={k}={v}")));
    out.push(apply);
    out
}

/// Terraform's own settings for unattended runs.
#[must_use]
pub fn automation_env() -> Vec<(String, String)> {
    vec![
        ("TF_IN_AUTOMATION".into(), "1".into()),
        ("TF_INPUT".into(), "0".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    #[test]
    fn init_once_then_targeted_apply() {
        let step = TerraformStep {
            dir: PathBuf::from("infra"),
            targets: vec!["module.network".into()],
            var_files: vec!["env/prod.tfvars".into()],
            vars: BTreeMap::from([("replicas".to_string(), "3".to_string())]),
            workspace: Some("prod".into()),
        };
        let cmds = commands(&step, true);
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], ["-chdir=infra", "init", "-input=false"]);
        assert_eq!(
            cmds[1],
            ["-chdir=infra", "workspace", "select", "-or-create", "prod"]
        );
        assert_eq!(
            cmds[2],
            [
                "-chdir=infra",
                "apply",
                "-auto-approve",
                "-input=false",
                "-target=module.network",
                "-var-file=env/prod.tfvars",
                "-var=replicas=3"
            ]
        );
        assert_eq!(commands(&step, false).len(), 2);
    }
}

//! The plan file: `kind: DeployPlan` (`eksgate.dev/v1alpha1`).
//!
//! Parsed from text with spans (the policy core's YAML reader), so every error points at
//! `file:line:column`. Unknown keys are errors: a typo in a deploy plan must not silently skip a
//! gate. Schema for editors: `policies/schemas/deploy-plan.schema.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eksgate_policy::Severity;
use eksgate_policy::node::{Node, Span, Value};
use eksgate_policy::source::{self, Limits, ParseNoteKind, SourceFile};

use crate::duration;

/// A plan that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PlanError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A whole deploy: which cluster, which credentials, which policy, which stages.
#[derive(Clone, Debug)]
pub struct DeployPlan {
    pub name: String,
    pub cluster: ClusterRef,
    pub credentials: CredentialsSpec,
    /// Policy file for the manifests' policy gate (`None`: the built-in policy).
    pub policy: Option<PathBuf>,
    /// Findings at or above this severity stop the run (`None`: never).
    pub fail_on: Option<Severity>,
    /// Deadline for the whole run.
    pub timeout: Option<Duration>,
    pub stages: Vec<Stage>,
}

#[derive(Clone, Debug)]
pub struct ClusterRef {
    pub name: String,
    pub region: String,
}

#[derive(Clone, Debug)]
pub struct CredentialsSpec {
    /// Role to assume with the GitHub OIDC token (in Actions).
    pub role_arn: Option<String>,
    pub audience: String,
    pub duration_seconds: Option<i32>,
    pub session_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub terraform: Option<TerraformStep>,
    /// Files and directories of manifests, resolved against the plan's directory.
    pub manifests: Vec<PathBuf>,
    /// argv of an escape-hatch command, run in the plan's directory.
    pub command: Option<Vec<String>>,
    pub gates: Vec<GateRef>,
}

#[derive(Clone, Debug)]
pub struct TerraformStep {
    /// Root module directory, resolved against the plan's directory.
    pub dir: PathBuf,
    pub targets: Vec<String>,
    /// `-var-file` arguments, relative to `dir` (Terraform resolves them after `-chdir`).
    pub var_files: Vec<String>,
    pub vars: BTreeMap<String, String>,
    pub workspace: Option<String>,
}

/// One readiness gate of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateRef {
    pub kind: GateKind,
    pub timeout: Duration,
    /// Explicit object names (CRD names for `crds-established`); empty: what the run applied.
    pub names: Vec<String>,
}

/// The gates eksgate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GateKind {
    EksClusterActive,
    NodegroupsActive,
    AddonsActive,
    KubernetesApi,
    CrdsEstablished,
    NodeclassesReady,
    NodepoolsReady,
    WorkloadsAvailable,
}

impl GateKind {
    pub const ALL: [GateKind; 8] = [
        GateKind::EksClusterActive,
        GateKind::NodegroupsActive,
        GateKind::AddonsActive,
        GateKind::KubernetesApi,
        GateKind::CrdsEstablished,
        GateKind::NodeclassesReady,
        GateKind::NodepoolsReady,
        GateKind::WorkloadsAvailable,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            GateKind::EksClusterActive => "eks-cluster-active",
            GateKind::NodegroupsActive => "nodegroups-active",
            GateKind::AddonsActive => "addons-active",
            GateKind::KubernetesApi => "kubernetes-api",
            GateKind::CrdsEstablished => "crds-established",
            GateKind::NodeclassesReady => "nodeclasses-ready",
            GateKind::NodepoolsReady => "nodepools-ready",
            GateKind::WorkloadsAvailable => "workloads-available",
        }
    }

    #[must_use]
    pub fn from_name(name: &str) -> Option<GateKind> {
        Self::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The timeout when the plan gives none: about what the AWS waiters allow.
    #[must_use]
    pub fn default_timeout(self) -> Duration {
        let minutes = match self {
            GateKind::EksClusterActive | GateKind::NodegroupsActive => 20,
            GateKind::AddonsActive | GateKind::WorkloadsAvailable => 10,
            GateKind::KubernetesApi | GateKind::NodeclassesReady | GateKind::NodepoolsReady => 5,
            GateKind::CrdsEstablished => 2,
        };
        Duration::from_secs(minutes * 60)
    }

    /// Whether the gate talks to the Kubernetes API (and so needs its endpoint and a token).
    #[must_use]
    pub fn needs_kubernetes(self) -> bool {
        !matches!(
            self,
            GateKind::EksClusterActive | GateKind::NodegroupsActive | GateKind::AddonsActive
        )
    }
}

impl std::fmt::Display for GateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Stage {
    /// A one-line description of what the stage runs (for the summary and `--dry-run`).
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tf) = &self.terraform {
            let mut text = format!("terraform apply `{}`", tf.dir.display());
            if !tf.targets.is_empty() {
                text.push_str(&format!(" (targets: {})", tf.targets.join(", ")));
            }
            parts.push(text);
        }
        if !self.manifests.is_empty() {
            let list: Vec<String> = self
                .manifests
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            parts.push(format!("apply manifests {}", list.join(", ")));
        }
        if let Some(argv) = &self.command {
            parts.push(format!("command `{}`", argv.join(" ")));
        }
        if parts.is_empty() {
            "gates only".to_string()
        } else {
            parts.join("; ")
        }
    }
}

const API_VERSION: &str = "eksgate.dev/v1alpha1";

impl DeployPlan {
    /// Reads a plan. Relative paths in it are resolved against `base_dir` (the plan file's
    /// directory); nothing is read from the file system here.
    ///
    /// # Errors
    /// [`PlanError`] with the line and column of the first problem.
    pub fn from_source(source: &SourceFile, base_dir: &Path) -> Result<DeployPlan, PlanError> {
        let fail = |span: Span, message: String| {
            let (line, column) = source.line_col(span.start);
            PlanError {
                file: source.name.clone(),
                line,
                column,
                message,
            }
        };
        let loaded = source::load(0, source, &Limits::default());
        if let Some(note) = loaded
            .notes
            .iter()
            .find(|n| n.kind == ParseNoteKind::Syntax)
        {
            return Err(fail(note.span, note.message.clone()));
        }
        let mut plans = loaded
            .documents
            .iter()
            .filter(|d| d.kind() == Some("DeployPlan"));
        let Some(doc) = plans.next() else {
            return Err(fail(
                Span::empty(0),
                "no `kind: DeployPlan` document in the plan file".to_string(),
            ));
        };
        if let Some(extra) = plans.next() {
            return Err(fail(
                extra.root.span,
                "more than one `kind: DeployPlan` document; keep one per file".to_string(),
            ));
        }
        match doc.api_version() {
            Some(API_VERSION) => {}
            Some(other) => {
                let span = doc.root.get("apiVersion").map_or(doc.root.span, |n| n.span);
                return Err(fail(
                    span,
                    format!("unsupported apiVersion `{other}`; use `{API_VERSION}`"),
                ));
            }
            None => {
                return Err(fail(
                    doc.root.span,
                    format!("missing `apiVersion: {API_VERSION}`"),
                ));
            }
        }
        let mut reader = Reader {
            errors: Vec::new(),
            base_dir,
        };
        let plan = reader.plan(&doc.root);
        match (reader.errors.into_iter().next(), plan) {
            (Some((span, message)), _) => Err(fail(span, message)),
            (None, Some(plan)) => Ok(plan),
            (None, None) => Err(fail(doc.root.span, "the plan is incomplete".to_string())),
        }
    }

    /// The stages `--only` / `--from` select, in plan order.
    ///
    /// # Errors
    /// A message naming the unknown stage and the stages that exist.
    pub fn select(&self, only: &[String], from: Option<&str>) -> Result<Vec<&Stage>, String> {
        let known: Vec<&str> = self.stages.iter().map(|s| s.name.as_str()).collect();
        let unknown = |name: &str| {
            format!(
                "no stage `{name}` in the plan; stages are: {}",
                known.join(", ")
            )
        };
        for name in only {
            if !known.contains(&name.as_str()) {
                return Err(unknown(name));
            }
        }
        let start = match from {
            Some(name) => self
                .stages
                .iter()
                .position(|s| s.name == name)
                .ok_or_else(|| unknown(name))?,
            None => 0,
        };
        Ok(self
            .stages
            .iter()
            .skip(start)
            .filter(|s| only.is_empty() || only.contains(&s.name))
            .collect())
    }
}

struct Reader<'b> {
    errors: Vec<(Span, String)>,
    base_dir: &'b Path,
}

impl Reader<'_> {
    fn error(&mut self, node: &Node, message: String) {
        self.errors.push((node.span, message));
    }

    fn known_keys(&mut self, node: &Node, what: &str, known: &[&str]) {
        for entry in node.entries() {
            let key = entry.key_str().unwrap_or("");
            if !known.contains(&key) {
                self.error(
                    &entry.key,
                    format!(
                        "unknown field `{key}` in {what}; expected one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n Node> {
        if node.as_map().is_some() {
            Some(node)
        } else {
            self.error(
                node,
                format!("{what} must be a mapping, found {}", node.type_name()),
            );
            None
        }
    }

    fn required<'n>(&mut self, parent: &'n Node, key: &str, what: &str) -> Option<&'n Node> {
        let found = parent.get(key);
        if found.is_none() {
            self.error(
                parent,
                format!("{what} is missing the required field `{key}`"),
            );
        }
        found
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.is_empty() => Some(s.clone()),
            Value::Str(_) => {
                self.error(node, format!("{what} must not be empty"));
                None
            }
            _ => {
                self.error(
                    node,
                    format!("{what} must be a string, found {}", node.type_name()),
                );
                None
            }
        }
    }

    fn strings(&mut self, node: Option<&Node>, what: &str) -> Vec<String> {
        let Some(node) = node else {
            return Vec::new();
        };
        if node.as_seq().is_none() {
            self.error(node, format!("{what} must be a list of strings"));
            return Vec::new();
        }
        node.items()
            .iter()
            .filter_map(|n| self.string(n, what))
            .collect()
    }

    fn duration(&mut self, node: &Node, what: &str) -> Option<Duration> {
        if let Value::Int(n) = node.value {
            self.error(
                node,
                format!("{what} `{n}` has no unit; write it like `{n}s` or `{n}m`"),
            );
            return None;
        }
        let text = self.string(node, what)?;
        match duration::parse(&text) {
            Ok(d) if d > Duration::ZERO => Some(d),
            Ok(_) => {
                self.error(node, format!("{what} must be longer than zero"));
                None
            }
            Err(message) => {
                self.error(node, format!("{what}: {message}"));
                None
            }
        }
    }

    fn path(&self, text: &str) -> PathBuf {
        self.base_dir.join(text)
    }

    fn plan(&mut self, root: &Node) -> Option<DeployPlan> {
        self.known_keys(
            root,
            "the plan",
            &["apiVersion", "kind", "metadata", "spec"],
        );
        let name = root
            .path(&["metadata", "name"])
            .and_then(|n| self.string(n, "`metadata.name`"))
            .unwrap_or_else(|| "deploy".to_string());
        let spec = self.required(root, "spec", "the plan")?;
        let spec = self.mapping(spec, "`spec`")?;
        self.known_keys(
            spec,
            "`spec`",
            &[
                "cluster",
                "credentials",
                "policy",
                "failOn",
                "timeout",
                "stages",
            ],
        );
        let cluster = self.cluster(spec);
        let credentials = self.credentials(spec.get("credentials"));
        let policy = spec
            .get("policy")
            .and_then(|n| self.string(n, "`spec.policy`"))
            .map(|p| self.path(&p));
        let fail_on = match spec.get("failOn") {
            None => Some(Severity::Error),
            Some(node) => match node.as_str() {
                Some("never") => None,
                Some(text) => match Severity::parse(text) {
                    Some(s) => Some(s),
                    None => {
                        self.error(
                            node,
                            format!(
                                "`spec.failOn` is `{text}`; use `error`, `warning`, `info` or `never`"
                            ),
                        );
                        None
                    }
                },
                None => {
                    self.error(node, "`spec.failOn` must be a string".to_string());
                    None
                }
            },
        };
        let timeout = spec
            .get("timeout")
            .and_then(|n| self.duration(n, "`spec.timeout`"));
        let stages = self.stages(spec);
        Some(DeployPlan {
            name,
            cluster: cluster?,
            credentials,
            policy,
            fail_on,
            timeout,
            stages,
        })
    }

    fn cluster(&mut self, spec: &Node) -> Option<ClusterRef> {
        let node = self.required(spec, "cluster", "`spec`")?;
        let node = self.mapping(node, "`spec.cluster`")?;
        self.known_keys(node, "`spec.cluster`", &["name", "region"]);
        let name = self
            .required(node, "name", "`spec.cluster`")
            .and_then(|n| self.string(n, "`spec.cluster.name`"));
        let region = self
            .required(node, "region", "`spec.cluster`")
            .and_then(|n| self.string(n, "`spec.cluster.region`"));
        if let (Some(r), Some(n)) = (&region, node.get("region"))
            && !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.error(
                n,
                format!("`spec.cluster.region` `{r}` is not a region name like `us-east-1`"),
            );
        }
        Some(ClusterRef {
            name: name?,
            region: region?,
        })
    }

    fn credentials(&mut self, node: Option<&Node>) -> CredentialsSpec {
        let mut spec = CredentialsSpec {
            role_arn: None,
            audience: "sts.amazonaws.com".to_string(),
            duration_seconds: None,
            session_name: None,
        };
        let Some(node) = node.and_then(|n| self.mapping(n, "`spec.credentials`")) else {
            return spec;
        };
        self.known_keys(
            node,
            "`spec.credentials`",
            &["roleArn", "audience", "durationSeconds", "sessionName"],
        );
        if let Some(n) = node.get("roleArn") {
            spec.role_arn = self.string(n, "`spec.credentials.roleArn`");
            if let Some(arn) = &spec.role_arn
                && !crate::iam::is_role_arn(arn)
            {
                self.error(
                    n,
                    format!(
                        "`spec.credentials.roleArn` `{arn}` is not a role ARN like `arn:aws:iam::123456789012:role/eksgate-deploy`"
                    ),
                );
            }
        }
        if let Some(n) = node.get("audience")
            && let Some(a) = self.string(n, "`spec.credentials.audience`")
        {
            spec.audience = a;
        }
        if let Some(n) = node.get("durationSeconds") {
            match n.as_i64() {
                Some(v @ 900..=43_200) => spec.duration_seconds = i32::try_from(v).ok(),
                _ => self.error(
                    n,
                    "`spec.credentials.durationSeconds` must be an integer from 900 to 43200 (and at most the role's MaxSessionDuration)".to_string(),
                ),
            }
        }
        if let Some(n) = node.get("sessionName")
            && let Some(s) = self.string(n, "`spec.credentials.sessionName`")
        {
            if crate::iam::valid_session_name(&s) {
                spec.session_name = Some(s);
            } else {
                self.error(
                    n,
                    format!(
                        "`spec.credentials.sessionName` `{s}` is not valid for STS: 2 to 64 characters of letters, digits and `+=,.@-_`"
                    ),
                );
            }
        }
        spec
    }

    fn stages(&mut self, spec: &Node) -> Vec<Stage> {
        let Some(node) = self.required(spec, "stages", "`spec`") else {
            return Vec::new();
        };
        let Some(items) = node.as_seq() else {
            self.error(node, "`spec.stages` must be a list of stages".to_string());
            return Vec::new();
        };
        if items.is_empty() {
            self.error(
                node,
                "`spec.stages` is empty; add at least one stage".to_string(),
            );
        }
        let mut stages: Vec<Stage> = Vec::new();
        for item in items {
            let Some(stage) = self.stage(item) else {
                continue;
            };
            if stages.iter().any(|s| s.name == stage.name) {
                let at = item.get("name").unwrap_or(item);
                self.error(
                    at,
                    format!(
                        "stage name `{}` is used twice; names must be unique",
                        stage.name
                    ),
                );
            }
            stages.push(stage);
        }
        stages
    }

    fn stage(&mut self, node: &Node) -> Option<Stage> {
        let node = self.mapping(node, "a stage")?;
        self.known_keys(
            node,
            "a stage",
            &["name", "terraform", "manifests", "command", "gates"],
        );
        let name_node = self.required(node, "name", "a stage")?;
        let name = self.string(name_node, "the stage name")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.error(
                name_node,
                format!("stage name `{name}` may only use letters, digits, `-`, `_` and `.`"),
            );
        }
        let what = format!("stage `{name}`");
        let terraform = node.get("terraform").and_then(|n| self.terraform(n, &what));
        let manifests = match node.get("manifests") {
            Some(n) => {
                let list = self.strings(Some(n), &format!("`manifests` of {what}"));
                if list.is_empty() && n.as_seq().is_some() {
                    self.error(n, format!("`manifests` of {what} is empty"));
                }
                list.iter().map(|p| self.path(p)).collect()
            }
            None => Vec::new(),
        };
        let command = match node.get("command") {
            Some(n) => {
                let argv = self.strings(Some(n), &format!("`command` of {what}"));
                if argv.is_empty() {
                    self.error(
                        n,
                        format!("`command` of {what} must be a non-empty list: the program and its arguments"),
                    );
                    None
                } else {
                    Some(argv)
                }
            }
            None => None,
        };
        let gates = self.gates(node.get("gates"), &what);
        if terraform.is_none() && manifests.is_empty() && command.is_none() && gates.is_empty() {
            self.error(
                node,
                format!(
                    "{what} does nothing; give it `terraform`, `manifests`, `command` or `gates`"
                ),
            );
        }
        Some(Stage {
            name,
            terraform,
            manifests,
            command,
            gates,
        })
    }

    fn terraform(&mut self, node: &Node, what: &str) -> Option<TerraformStep> {
        let node = self.mapping(node, &format!("`terraform` of {what}"))?;
        self.known_keys(
            node,
            &format!("`terraform` of {what}"),
            &["dir", "targets", "varFiles", "vars", "workspace"],
        );
        let dir = self
            .required(node, "dir", &format!("`terraform` of {what}"))
            .and_then(|n| self.string(n, "`terraform.dir`"))?;
        let targets = self.strings(node.get("targets"), "`terraform.targets`");
        let var_files = self.strings(node.get("varFiles"), "`terraform.varFiles`");
        let mut vars = BTreeMap::new();
        if let Some(n) = node.get("vars")
            && let Some(map) = self.mapping(n, "`terraform.vars`")
        {
            for entry in map.entries() {
                let key = entry.key_str().unwrap_or_default().to_string();
                match entry.value.scalar_text() {
                    Some(v) if !matches!(entry.value.value, Value::Null) => {
                        vars.insert(key, v);
                    }
                    _ => self.error(
                        &entry.value,
                        format!("`terraform.vars.{key}` must be a string, number or boolean"),
                    ),
                }
            }
        }
        let workspace = node
            .get("workspace")
            .and_then(|n| self.string(n, "`terraform.workspace`"));
        Some(TerraformStep {
            dir: self.path(&dir),
            targets,
            var_files,
            vars,
            workspace,
        })
    }

    fn gates(&mut self, node: Option<&Node>, what: &str) -> Vec<GateRef> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Some(items) = node.as_seq() else {
            self.error(node, format!("`gates` of {what} must be a list"));
            return Vec::new();
        };
        let known: Vec<&str> = GateKind::ALL.iter().map(|g| g.name()).collect();
        let mut gates = Vec::new();
        for item in items {
            let (name_node, timeout_node, names) = match &item.value {
                Value::Str(_) => (item, None, Vec::new()),
                Value::Map(_) => {
                    self.known_keys(item, "a gate", &["name", "timeout", "names"]);
                    let Some(n) = self.required(item, "name", "a gate") else {
                        continue;
                    };
                    let names = self.strings(item.get("names"), "`names` of a gate");
                    (n, item.get("timeout"), names)
                }
                _ => {
                    self.error(item, "a gate is a name or `{name, timeout}`".to_string());
                    continue;
                }
            };
            let Some(name) = self.string(name_node, "the gate name") else {
                continue;
            };
            let Some(kind) = GateKind::from_name(&name) else {
                self.error(
                    name_node,
                    format!("unknown gate `{name}`; known gates: {}", known.join(", ")),
                );
                continue;
            };
            let timeout = timeout_node
                .and_then(|n| self.duration(n, "the gate timeout"))
                .unwrap_or_else(|| kind.default_timeout());
            gates.push(GateRef {
                kind,
                timeout,
                names,
            });
        }
        gates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DeployPlan, PlanError> {
        DeployPlan::from_source(&SourceFile::new("plan.yaml", text), Path::new("/repo"))
    }

    const GOOD: &str = "\
apiVersion: eksgate.dev/v1alpha1
kind: DeployPlan
metadata: {name: acme-prod}
spec:
  cluster: {name: acme-prod, region: us-east-1}
  credentials:
    roleArn: arn:aws:iam::123456789012:role/eksgate-deploy
    durationSeconds: 3600
  policy: policies/acme.yaml
  stages:
    - name: network
      terraform: {dir: infra, targets: [module.network], varFiles: [env/prod.tfvars], vars: {replicas: 3}}
    - name: cluster
      terraform: {dir: infra, targets: [module.eks]}
      gates: [eks-cluster-active, kubernetes-api]
    - name: node-pools
      manifests: [k8s/nodepools]
      gates: [{name: nodepools-ready, timeout: 10m}]
";

    #[test]
    fn reads_the_design_example() {
        let plan = parse(GOOD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.name, "acme-prod");
        assert_eq!(plan.cluster.region, "us-east-1");
        assert_eq!(plan.credentials.audience, "sts.amazonaws.com");
        assert_eq!(plan.policy, Some(PathBuf::from("/repo/policies/acme.yaml")));
        assert_eq!(plan.stages.len(), 3);
        let tf = plan.stages[0]
            .terraform
            .as_ref()
            .unwrap_or_else(|| panic!("terraform"));
        assert_eq!(tf.dir, PathBuf::from("/repo/infra"));
        assert_eq!(tf.vars.get("replicas").map(String::as_str), Some("3"));
        assert_eq!(plan.stages[1].gates[1].kind, GateKind::KubernetesApi);
        assert_eq!(plan.stages[1].gates[1].timeout, Duration::from_secs(300));
        assert_eq!(plan.stages[2].gates[0].timeout, Duration::from_secs(600));
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let bad = GOOD.replace("gates: [eks-cluster-active,", "gates: [eks-cluster-up,");
        let err = parse(&bad).err().unwrap_or_else(|| panic!("must fail"));
        assert_eq!((err.line, err.column), (15, 15));
        assert!(
            err.message.contains("unknown gate `eks-cluster-up`"),
            "{err}"
        );
        assert!(err.to_string().starts_with("plan.yaml:15:15: "));

        let typo = GOOD.replace("varFiles:", "varfiles:");
        let err = parse(&typo).err().unwrap_or_else(|| panic!("must fail"));
        assert_eq!(err.line, 12);
        assert!(err.message.contains("unknown field `varfiles`"), "{err}");

        let syntax = "apiVersion: eksgate.dev/v1alpha1\nkind: DeployPlan\nspec: [\n";
        assert!(parse(syntax).is_err());

        let timeout = GOOD.replace("timeout: 10m", "timeout: 10");
        let err = parse(&timeout).err().unwrap_or_else(|| panic!("must fail"));
        assert!(err.message.contains("no unit"), "{err}");
    }

    #[test]
    fn duplicate_and_empty_stages_are_refused() {
        let dup = GOOD.replace("name: cluster", "name: network");
        let err = parse(&dup).err().unwrap_or_else(|| panic!("must fail"));
        assert!(err.message.contains("used twice"), "{err}");
        let empty = "apiVersion: eksgate.dev/v1alpha1\nkind: DeployPlan\nspec:\n  cluster: {name: a, region: us-east-1}\n  stages:\n    - name: x\n";
        let err = parse(empty).err().unwrap_or_else(|| panic!("must fail"));
        assert!(err.message.contains("does nothing"), "{err}");
        assert_eq!(err.line, 6);
    }

    #[test]
    fn selects_stages() {
        let plan = parse(GOOD).unwrap_or_else(|e| panic!("{e}"));
        let names = |v: Vec<&Stage>| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(plan.select(&[], Some("cluster")).unwrap_or_default()),
            ["cluster", "node-pools"]
        );
        assert_eq!(
            names(plan.select(&["network".into()], None).unwrap_or_default()),
            ["network"]
        );
        assert!(
            plan.select(&["nope".into()], None)
                .is_err_and(|e| e.contains("network, cluster, node-pools"))
        );
    }
}

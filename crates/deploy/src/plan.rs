//! The plan file: `kind: DeployPlan` (`eksgate.dev/v1alpha1`).
//!
//! One concept in one file (a little over 800 lines): the plan's types, their documentation
//! (which is the plan's JSON Schema) and the checks the types cannot express belong together.
//!
//! Read by the policy core's typed reader (`eksgate_policy::reader`) into the types below, so
//! every error points at `file:line:column` and names the field's JSON pointer. Unknown keys
//! are errors: a typo in a deploy plan must not silently skip a gate. The types' doc comments
//! are the descriptions of `policies/schemas/deploy-plan.schema.json`, which is generated from
//! them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eksgate_policy::Severity;
use eksgate_policy::reader::{
    self, Checker, NonEmptyString, OwnDocument, ReadError, Spanned, field_error,
};
use eksgate_policy::source::SourceFile;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::duration;

/// A plan that cannot be used: file, line, column, JSON pointer and why.
pub type PlanError = ReadError;

/// A staged EKS deploy: Terraform, manifests and commands per stage, each followed by readiness gates. Read by `eksgate deploy --plan FILE`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeployPlan {
    /// `metadata.name` (`deploy` when unset).
    #[serde(skip)]
    pub name: String,
    /// The EKS cluster the plan deploys.
    pub cluster: ClusterRef,
    /// In GitHub Actions with roleArn: the job's OIDC token through STS AssumeRoleWithWebIdentity. Elsewhere: the standard AWS credential chain.
    #[serde(default)]
    pub credentials: CredentialsSpec,
    /// Policy file for the manifests' policy gate (relative to the plan); the built-in policy when absent.
    #[serde(default, deserialize_with = "opt_path")]
    #[schemars(with = "Option<NonEmptyString>")]
    pub policy: Option<PathBuf>,
    /// Findings at or above this severity stop the run; `never` lets every finding through.
    #[serde(default = "default_fail_on", deserialize_with = "fail_on")]
    #[schemars(with = "FailOn")]
    pub fail_on: Option<Severity>,
    /// Deadline for the whole run.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<Duration>,
    /// The stages, run in order.
    #[schemars(length(min = 1))]
    pub stages: Spanned<Vec<Spanned<Stage>>>,
}

/// Which cluster.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterRef {
    /// The EKS cluster's name.
    #[serde(deserialize_with = "reader::non_empty")]
    #[schemars(length(min = 1))]
    pub name: String,
    /// Its AWS region, like `us-east-1`.
    #[serde(deserialize_with = "region")]
    #[schemars(regex(pattern = r"^[a-z0-9-]+$"))]
    pub region: String,
}

/// How the run gets AWS credentials.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialsSpec {
    /// Role to assume with the GitHub OIDC token (in Actions).
    #[serde(default, deserialize_with = "role_arn")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub role_arn: Option<String>,
    /// The audience of the OIDC token.
    #[serde(default = "default_audience", deserialize_with = "reader::non_empty")]
    #[schemars(length(min = 1))]
    pub audience: String,
    /// How long the assumed role's session lasts (at most the role's MaxSessionDuration).
    #[serde(default, deserialize_with = "duration_seconds")]
    #[schemars(range(min = 900, max = 43200))]
    pub duration_seconds: Option<i32>,
    /// The STS session name (default: from the repository and run).
    #[serde(default, deserialize_with = "session_name")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_+=,.@-]{2,64}$"))]
    pub session_name: Option<String>,
}

impl Default for CredentialsSpec {
    fn default() -> Self {
        Self {
            role_arn: None,
            audience: default_audience(),
            duration_seconds: None,
            session_name: None,
        }
    }
}

fn default_audience() -> String {
    "sts.amazonaws.com".to_string()
}

/// One stage: what it runs, then the gates it waits on.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("anyOf" = [
    {"required": ["terraform"]},
    {"required": ["manifests"]},
    {"required": ["command"]},
    {"required": ["gates"]}
]))]
pub struct Stage {
    /// The stage's name, unique in the plan (`--only`, `--from`).
    #[serde(deserialize_with = "stage_name")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]+$"))]
    pub name: String,
    /// A Terraform apply.
    #[serde(default)]
    pub terraform: Option<TerraformStep>,
    /// Files and directories of manifests, resolved against the plan's directory.
    #[serde(default, deserialize_with = "paths")]
    #[schemars(with = "Vec<NonEmptyString>", length(min = 1))]
    pub manifests: Vec<PathBuf>,
    /// argv of an escape-hatch command, run in the plan's directory.
    #[serde(default, deserialize_with = "command")]
    #[schemars(with = "Option<Vec<NonEmptyString>>", length(min = 1))]
    pub command: Option<Vec<String>>,
    /// Readiness gates, waited on in order after the stage ran.
    #[serde(default)]
    pub gates: Vec<GateRef>,
}

/// A Terraform apply of one root module.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TerraformStep {
    /// Root module directory, resolved against the plan's directory.
    #[serde(deserialize_with = "path")]
    #[schemars(with = "NonEmptyString")]
    pub dir: PathBuf,
    /// `-target` addresses; none: the full apply.
    #[serde(default, deserialize_with = "strings")]
    #[schemars(with = "Vec<NonEmptyString>")]
    pub targets: Vec<String>,
    /// `-var-file` arguments, relative to `dir` (Terraform resolves them after `-chdir`).
    #[serde(default, deserialize_with = "strings")]
    #[schemars(with = "Vec<NonEmptyString>")]
    pub var_files: Vec<String>,
    /// `-var` values.
    #[serde(default, deserialize_with = "vars")]
    #[schemars(with = "BTreeMap<String, ScalarText>")]
    pub vars: BTreeMap<String, String>,
    /// The Terraform workspace to select (created if missing).
    #[serde(default, deserialize_with = "reader::non_empty_opt")]
    #[schemars(length(min = 1))]
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

impl OwnDocument for DeployPlan {
    const KIND: &'static str = "DeployPlan";
    const SCHEMA_FILE: &'static str = "deploy-plan.schema.json";
    const FILE: &'static str = "plan file";

    fn check(&mut self, checker: &mut Checker<'_>) {
        if self.stages.is_empty() {
            checker.at(
                &self.stages,
                "`spec.stages` is empty; add at least one stage",
            );
        }
        for (i, stage) in self.stages.iter().enumerate() {
            let name_at = checker.field(stage.span, "name").unwrap_or(stage.span);
            if self.stages.iter().take(i).any(|s| s.name == stage.name) {
                checker.error(
                    name_at,
                    format!(
                        "stage name `{}` is used twice; names must be unique",
                        stage.name
                    ),
                );
            }
            let what = format!("stage `{}`", stage.name);
            if stage.manifests.is_empty()
                && let Some(at) = checker.field(stage.span, "manifests")
            {
                checker.error(at, format!("`manifests` of {what} is empty"));
            }
            if stage.command.as_ref().is_some_and(Vec::is_empty)
                && let Some(at) = checker.field(stage.span, "command")
            {
                checker.error(
                    at,
                    format!("`command` of {what} must be a non-empty list: the program and its arguments"),
                );
            }
            if stage.terraform.is_none()
                && stage.manifests.is_empty()
                && stage.command.as_ref().is_none_or(Vec::is_empty)
                && stage.gates.is_empty()
            {
                checker.at(
                    stage,
                    format!(
                        "{what} does nothing; give it `terraform`, `manifests`, `command` or `gates`"
                    ),
                );
            }
        }
    }
}

impl DeployPlan {
    /// Reads a plan. Relative paths in it are resolved against `base_dir` (the plan file's
    /// directory); nothing is read from the file system here.
    ///
    /// # Errors
    /// [`PlanError`] with the line, column and JSON pointer of the first problem.
    pub fn from_source(source: &SourceFile, base_dir: &Path) -> Result<DeployPlan, PlanError> {
        let read = reader::read_document::<DeployPlan>(source)?;
        let mut plan = read.spec;
        plan.name = read.metadata.name.unwrap_or_else(|| "deploy".to_string());
        plan.policy = plan.policy.map(|p| base_dir.join(p));
        for stage in plan.stages.iter_mut() {
            for path in &mut stage.manifests {
                *path = base_dir.join(&*path);
            }
            if let Some(tf) = &mut stage.terraform {
                tf.dir = base_dir.join(&tf.dir);
            }
        }
        Ok(plan)
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
            .map(|s| &s.value)
            .filter(|s| only.is_empty() || only.contains(&s.name))
            .collect())
    }
}

fn path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    reader::non_empty(d).map(PathBuf::from)
}

fn opt_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    reader::non_empty_opt(d).map(|p| p.map(PathBuf::from))
}

fn paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    let list = Vec::<NonEmptyString>::deserialize(d)?;
    Ok(list.into_iter().map(|p| PathBuf::from(p.0)).collect())
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<NonEmptyString>::deserialize(d)?;
    Ok(list.into_iter().map(NonEmptyString::into_inner).collect())
}

fn command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    strings(d).map(Some)
}

fn region<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let region = reader::non_empty(d)?;
    if region
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(region)
    } else {
        Err(field_error(format!(
            "`{region}` is not a region name like `us-east-1`"
        )))
    }
}

/// `arn:aws[-partition]:iam::<12 digits>:role/<path and name>`, what the schema's pattern says.
fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let partition_end = rest.find(':').unwrap_or(rest.len());
    let (partition, rest) = rest.split_at(partition_end);
    let Some(rest) = rest.strip_prefix(":iam::") else {
        return false;
    };
    let Some((account, role)) = rest.split_once(":role/") else {
        return false;
    };
    partition
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '-')
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !role.is_empty()
}

fn role_arn<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match reader::non_empty_opt(d)? {
        Some(arn) if !is_role_arn(&arn) => Err(field_error(format!(
            "`{arn}` is not a role ARN like `arn:aws:iam::123456789012:role/eksgate-deploy`"
        ))),
        other => Ok(other),
    }
}

fn duration_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let fail = || {
        field_error(
            "must be an integer from 900 to 43200 (and at most the role's MaxSessionDuration)",
        )
    };
    match Option::<i64>::deserialize(d).map_err(|_: D::Error| fail())? {
        Some(v @ 900..=43_200) => Ok(i32::try_from(v).ok()),
        Some(_) => Err(fail()),
        None => Ok(None),
    }
}

fn session_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match reader::non_empty_opt(d)? {
        Some(s) if !crate::iam::valid_session_name(&s) => Err(field_error(format!(
            "`{s}` is not valid for STS: 2 to 64 characters of letters, digits and `+=,.@-_`"
        ))),
        other => Ok(other),
    }
}

fn stage_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = reader::non_empty(d)?;
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(name)
    } else {
        Err(de::Error::custom(format!(
            "stage name `{name}` may only use letters, digits, `-`, `_` and `.`"
        )))
    }
}

/// `spec.failOn` as written.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "serde's `default` wants the field's type"
)]
fn default_fail_on() -> Option<Severity> {
    Some(Severity::Error)
}

fn fail_on<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Severity>, D::Error> {
    Ok(match FailOn::deserialize(d)? {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    })
}

/// A duration as written: `90s`, `10m`, `1h30m`; a bare number is refused.
struct DurationText(Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;

        impl Visitor<'_> for V {
            type Value = DurationText;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration like `90s`, `10m` or `1h30m`")
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<DurationText, E> {
                Err(field_error(format!(
                    "`{n}` has no unit; write it like `{n}s` or `{n}m`"
                )))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<DurationText, E> {
                Err(field_error(format!(
                    "`{n}` has no unit; write it like `{n}s` or `{n}m`"
                )))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationText, E> {
                match duration::parse(text) {
                    Ok(d) if d > Duration::ZERO => Ok(DurationText(d)),
                    Ok(_) => Err(field_error("must be longer than zero")),
                    Err(message) => Err(field_error(format!(": {message}"))),
                }
            }
        }

        d.deserialize_any(V)
    }
}

impl JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$",
            "description": "Like 90s, 10m or 1h30m.",
        })
    }
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    Option::<DurationText>::deserialize(d).map(|t| t.map(|t| t.0))
}

/// A `-var` value: a string, number or boolean, passed as its text.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;

        impl Visitor<'_> for V {
            type Value = ScalarText;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }

        d.deserialize_any(V)
    }
}

impl JsonSchema for ScalarText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ScalarText".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "number", "boolean"]})
    }
}

fn vars<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<String, ScalarText>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}

impl<'de> Deserialize<'de> for GateKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        GateKind::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = GateKind::ALL.iter().map(|g| g.name()).collect();
            let near = eksgate_policy::text::closest_name(&name, &known)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            de::Error::custom(format!(
                "unknown gate `{name}`; known gates: {}{near}",
                known.join(", ")
            ))
        })
    }
}

impl JsonSchema for GateKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GateName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = GateKind::ALL.iter().map(|g| g.name()).collect();
        json_schema!({"enum": names})
    }
}

/// A gate written as a mapping: its name, and what differs from its defaults.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GateSpec {
    /// Which gate.
    name: GateKind,
    /// How long to wait (default: about what the AWS waiters allow for the gate).
    #[serde(default)]
    timeout: Option<DurationText>,
    /// crds-established: the CRD names to wait for (default: the CRDs this run applied).
    #[serde(default)]
    names: Vec<String>,
}

impl<'de> Deserialize<'de> for GateRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;

        impl<'de> Visitor<'de> for V {
            type Value = GateRef;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a gate's name or `{name, timeout}`")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<GateRef, E> {
                let kind = GateKind::deserialize(de::value::StrDeserializer::<E>::new(name))?;
                Ok(GateRef {
                    kind,
                    timeout: kind.default_timeout(),
                    names: Vec::new(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<GateRef, A::Error> {
                let spec = GateSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(GateRef {
                    kind: spec.name,
                    timeout: spec
                        .timeout
                        .map_or_else(|| spec.name.default_timeout(), |t| t.0),
                    names: spec.names,
                })
            }
        }

        d.deserialize_any(V)
    }
}

impl JsonSchema for GateRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Gate".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "oneOf": [
                generator.subschema_for::<GateKind>(),
                generator.subschema_for::<GateSpec>(),
            ]
        })
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

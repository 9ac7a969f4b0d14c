//! `kind: ClusterRequest`: what a client team asks for (the self-service form's output), read
//! by the typed reader like `Policy` and `DeployPlan`.
//!
//! The types below are the document; their doc comments are the descriptions of
//! `policies/schemas/cluster-request.schema.json`. What the types cannot say (names that are
//! DNS labels, unique pool names, quantities) is checked in [`check`]; what depends on the
//! policy (capacity types, billing tag values, the hop limit) is judged by the policy's own
//! rules over the rendered manifests (`crate::generate`), reported on the request's lines.

mod check;
pub mod prices;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::policy::CapacityType;
use crate::reader::{self, OrderedMap, OwnDocument, Spanned};

/// A client team's request for an EKS cluster: who it is for, where, which node pools, how they are billed. `eksgate render` turns it into node classes, NodePools, `terraform.tfvars.json` and a DeployPlan that pass the policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterRequest {
    /// The client's name: a DNS label (lower-case letters, digits and `-`, at most 40 characters). The cluster is `<clientName>-<environment>`.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$"))]
    pub client_name: Spanned<String>,
    /// Which environment the cluster serves.
    pub environment: Spanned<Environment>,
    /// The AWS region, like `us-east-1`.
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$"))]
    pub region: Spanned<String>,
    /// The Kubernetes minor version, quoted (`"1.33"`).
    #[schemars(regex(pattern = r"^1\.[0-9]{2}$"))]
    pub kubernetes_version: Spanned<String>,
    /// `karpenter` (self-managed Karpenter: EC2NodeClass) or `auto-mode` (EKS Auto Mode: NodeClass).
    #[serde(default)]
    pub mode: Spanned<Mode>,
    /// The infrastructure pool (Istio, Vault, SigNoz, ingress, monitoring): tainted and labelled by the policy's infrastructure class.
    pub infra_pool: Spanned<InfraPool>,
    /// The client's application pools, at least one.
    #[schemars(length(min = 1))]
    pub client_pools: Spanned<Vec<Spanned<ClientPool>>>,
    /// How the client's capacity is billed: these become the node classes' billing tags.
    pub billing: Spanned<Billing>,
    /// Encryption and instance metadata settings.
    #[serde(default)]
    pub compliance: Spanned<Compliance>,
    /// Where the rendered DeployPlan finds the platform's Terraform, and which role deploys.
    #[serde(default)]
    pub deploy: Deploy,
}

impl OwnDocument for ClusterRequest {
    const KIND: &'static str = "ClusterRequest";
    const SCHEMA_FILE: &'static str = "cluster-request.schema.json";
    const FILE: &'static str = "cluster request";

    fn check(&mut self, checker: &mut reader::Checker<'_>) {
        check::request(self, checker);
    }
}

/// The environment a cluster serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Dev,
    Staging,
    Prod,
}

impl Environment {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Staging => "staging",
            Environment::Prod => "prod",
        }
    }
}

/// How nodes are provisioned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Self-managed Karpenter: `karpenter.k8s.aws/v1` EC2NodeClass.
    #[default]
    Karpenter,
    /// EKS Auto Mode: `eks.amazonaws.com/v1` NodeClass (AWS manages AMIs, IMDS and volumes).
    AutoMode,
}

impl Mode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Karpenter => "karpenter",
            Mode::AutoMode => "auto-mode",
        }
    }
}

/// A CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Amd64,
    Arm64,
}

impl Architecture {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Amd64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// A pool's ceiling: Karpenter launches no node past it, which also bounds its spend.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// vCPUs, at least 1.
    #[schemars(range(min = 1, max = 100000))]
    pub cpu: Spanned<i64>,
    /// Memory as a Kubernetes quantity in binary units (`256Gi`).
    #[schemars(regex(pattern = r"^[1-9][0-9]*(Mi|Gi|Ti)$"))]
    pub memory: Spanned<String>,
}

/// The infrastructure pool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfraPool {
    /// Capacity types the pool may launch (default `[on-demand]`; the default policy allows only on-demand here).
    #[serde(default = "on_demand")]
    #[schemars(length(min = 1))]
    pub capacity_types: Spanned<Vec<Spanned<CapacityType>>>,
    /// CPU architectures (default `[amd64]`).
    #[serde(default = "amd64")]
    #[schemars(length(min = 1))]
    pub architectures: Spanned<Vec<Spanned<Architecture>>>,
    /// EC2 instance categories, like `c`, `m`, `r` (default `[c, m, r]`).
    #[serde(default = "categories")]
    #[schemars(length(min = 1))]
    pub instance_categories: Spanned<Vec<Spanned<String>>>,
    /// Instance sizes, like `large`, `xlarge`, `2xlarge` (none: any size).
    #[serde(default)]
    pub instance_sizes: Spanned<Vec<Spanned<String>>>,
    /// The pool's CPU and memory ceiling.
    pub limits: Spanned<Limits>,
    /// The infrastructure pool's own billing tags (default: the values the policy's infrastructure class allows, when it allows one).
    #[serde(default)]
    pub billing: Option<Spanned<InfraBilling>>,
}

/// Billing of the infrastructure pool, when it differs from what the policy implies.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfraBilling {
    /// The `cost-center` tag of the infrastructure node class.
    #[serde(default)]
    pub cost_centre: Option<Spanned<String>>,
    /// The `billing-team` tag of the infrastructure node class.
    #[serde(default)]
    pub team: Option<Spanned<String>>,
}

/// One of the client's application pools.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientPool {
    /// The pool's name, a DNS label unique in the request; the NodePool is `<clientName>-<name>`.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$"))]
    pub name: Spanned<String>,
    /// Capacity types (default `[spot, on-demand]`: spot first, on-demand when spot has none).
    #[serde(default = "spot_and_on_demand")]
    #[schemars(length(min = 1))]
    pub capacity_types: Spanned<Vec<Spanned<CapacityType>>>,
    /// CPU architectures (default `[amd64]`).
    #[serde(default = "amd64")]
    #[schemars(length(min = 1))]
    pub architectures: Spanned<Vec<Spanned<Architecture>>>,
    /// EC2 instance categories, like `c`, `m`, `r` (default `[c, m, r]`).
    #[serde(default = "categories")]
    #[schemars(length(min = 1))]
    pub instance_categories: Spanned<Vec<Spanned<String>>>,
    /// Instance generations allowed, like `[6, 7]` (none: newer than 4).
    #[serde(default)]
    pub instance_generations: Spanned<Vec<Spanned<i64>>>,
    /// The pool's CPU and memory ceiling.
    pub limits: Spanned<Limits>,
    /// How Karpenter consolidates the pool's nodes.
    #[serde(default)]
    pub consolidation: Consolidation,
}

/// Consolidation settings of a client pool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Consolidation {
    /// `WhenEmptyOrUnderutilized` (default) or `WhenEmpty`.
    #[serde(default)]
    pub policy: ConsolidationPolicy,
    /// How long a node must be empty or underutilized first: a duration (`30s`, `5m`, `1h`) or `Never` (default `1m`).
    #[serde(default = "one_minute")]
    #[schemars(regex(pattern = r"^(([0-9]+(s|m|h))+|Never)$"))]
    pub after: Spanned<String>,
}

impl Default for Consolidation {
    fn default() -> Self {
        Self {
            policy: ConsolidationPolicy::default(),
            after: one_minute(),
        }
    }
}

/// Karpenter's consolidation policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ConsolidationPolicy {
    #[default]
    WhenEmptyOrUnderutilized,
    WhenEmpty,
}

impl ConsolidationPolicy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ConsolidationPolicy::WhenEmptyOrUnderutilized => "WhenEmptyOrUnderutilized",
            ConsolidationPolicy::WhenEmpty => "WhenEmpty",
        }
    }
}

/// The client's billing: the `cost-center`, `billing-team` and `client-id` tags of its node classes (and the `client-id` label of its pools).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Billing {
    /// The `cost-center` tag, as the policy's applications class allows it.
    #[schemars(length(min = 1))]
    pub cost_centre: Spanned<String>,
    /// The `billing-team` tag.
    #[schemars(length(min = 1))]
    pub team: Spanned<String>,
    /// The `client-id` tag and label (the default policy wants a DNS label).
    #[schemars(length(min = 1))]
    pub client_id: Spanned<String>,
    /// More tags for every node class, as the policy may require.
    #[serde(default)]
    pub tags: OrderedMap<Spanned<String>, Spanned<String>>,
}

/// Encryption and instance metadata.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Compliance {
    /// Customer-managed KMS key for node volumes (`arn:aws:kms:<region>:<account>:key/<id>`); AWS's default key when absent.
    #[serde(default)]
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$"
    ))]
    pub kms_key_arn: Option<Spanned<String>>,
    /// IMDSv2 response hop limit of the nodes (default 1: pods cannot reach instance metadata). Not used in Auto Mode, where AWS sets it.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 64))]
    pub imds_hop_limit: Spanned<i64>,
}

impl Default for Compliance {
    fn default() -> Self {
        Self {
            kms_key_arn: None,
            imds_hop_limit: one(),
        }
    }
}

/// What the rendered DeployPlan points at. Paths are relative to the directory `eksgate render` writes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Deploy {
    /// The platform's Terraform root module (default `../../infra`: render into `clusters/<cluster>/` of a repository whose Terraform is in `infra/`).
    #[serde(default = "default_terraform_dir")]
    #[schemars(length(min = 1))]
    pub terraform_dir: Spanned<String>,
    /// The rendered `terraform.tfvars.json` as Terraform sees it from `terraformDir` (default `../clusters/<cluster>/terraform.tfvars.json`, right for the default `terraformDir`).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub var_file: Option<Spanned<String>>,
    /// The IAM role the deploy assumes with GitHub OIDC.
    #[serde(default)]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub role_arn: Option<Spanned<String>>,
    /// The policy file for the deploy's policy gate, relative to the rendered directory (default: the built-in policy).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub policy: Option<Spanned<String>>,
}

impl Default for Deploy {
    fn default() -> Self {
        Self {
            terraform_dir: default_terraform_dir(),
            var_file: None,
            role_arn: None,
            policy: None,
        }
    }
}

impl ClusterRequest {
    /// The EKS cluster's name: `<clientName>-<environment>`.
    #[must_use]
    pub fn cluster_name(&self) -> String {
        format!("{}-{}", self.client_name.value, self.environment.as_str())
    }
}

impl ClientPool {
    /// The NodePool's (and its node class's) name: `<clientName>-<name>`.
    #[must_use]
    pub fn resource_name(&self, client: &str) -> String {
        format!("{client}-{}", self.name.value)
    }
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, crate::node::Span::default())
}

fn on_demand() -> Spanned<Vec<Spanned<CapacityType>>> {
    spanned(vec![spanned(CapacityType::OnDemand)])
}

fn spot_and_on_demand() -> Spanned<Vec<Spanned<CapacityType>>> {
    spanned(vec![
        spanned(CapacityType::Spot),
        spanned(CapacityType::OnDemand),
    ])
}

fn amd64() -> Spanned<Vec<Spanned<Architecture>>> {
    spanned(vec![spanned(Architecture::Amd64)])
}

fn categories() -> Spanned<Vec<Spanned<String>>> {
    spanned(
        ["c", "m", "r"]
            .into_iter()
            .map(|c| spanned(c.to_string()))
            .collect(),
    )
}

fn one_minute() -> Spanned<String> {
    spanned("1m".to_string())
}

fn one() -> Spanned<i64> {
    spanned(1)
}

fn default_terraform_dir() -> Spanned<String> {
    spanned("../../infra".to_string())
}

#[cfg(test)]
pub(crate) mod tests;

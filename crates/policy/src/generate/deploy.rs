//! The deploy side of a render: `terraform.tfvars.json` for the platform's Terraform, and the
//! DeployPlan that `eksgate deploy` runs in stages (network, cluster, CRDs, node classes and
//! pools, apps), each gated on the real condition the next one needs.

use super::tree::Y;
use crate::model::request::{ClusterRequest, Mode};

/// The file names of a render, relative to its directory.
pub const PLAN_FILE: &str = "deploy.yaml";
pub const TFVARS_FILE: &str = "terraform.tfvars.json";
pub const NODE_CLASSES_DIR: &str = "nodeclasses";
pub const NODE_POOLS_DIR: &str = "nodepools";
pub const EXAMPLES_DIR: &str = "examples";

/// `terraform.tfvars.json`: what the platform's Terraform needs to build this cluster.
pub(super) fn tfvars(request: &ClusterRequest) -> Y {
    let billing = &request.billing.value;
    let mut tags = vec![
        (
            "cost-center".to_string(),
            Y::str(&billing.cost_centre.value).from(billing.cost_centre.span),
        ),
        (
            "billing-team".to_string(),
            Y::str(&billing.team.value).from(billing.team.span),
        ),
        (
            "client-id".to_string(),
            Y::str(&billing.client_id.value).from(billing.client_id.span),
        ),
    ];
    for (k, v) in &billing.tags {
        if !tags.iter().any(|(key, _)| *key == k.value) {
            tags.push((k.value.clone(), Y::str(&v.value).from(v.span)));
        }
    }
    let cluster = request.cluster_name();
    Y::map([
        ("cluster_name", Y::str(&cluster)),
        ("client_name", Y::str(&request.client_name.value)),
        ("environment", Y::str(request.environment.as_str())),
        ("region", Y::str(&request.region.value)),
        (
            "kubernetes_version",
            Y::str(&request.kubernetes_version.value),
        ),
        ("compute_mode", Y::str(request.mode.as_str())),
        ("node_role_name", Y::str(format!("{cluster}-node"))),
        (
            "kms_key_arn",
            request
                .compliance
                .kms_key_arn
                .as_ref()
                .map_or(Y::Null, |k| Y::str(&k.value)),
        ),
        (
            "imds_hop_limit",
            Y::Int(request.compliance.imds_hop_limit.value),
        ),
        ("tags", Y::Map(tags)),
    ])
}

fn gate(name: &str) -> Y {
    Y::str(name)
}

fn gate_with(name: &str, extra: Vec<(&str, Y)>) -> Y {
    let mut entries = vec![("name", Y::str(name))];
    entries.extend(extra);
    Y::map(entries)
}

/// The staged DeployPlan.
pub(super) fn plan(request: &ClusterRequest) -> Y {
    let cluster = request.cluster_name();
    let deploy = &request.deploy;
    let var_file = deploy.var_file.as_ref().map_or_else(
        || format!("../clusters/{cluster}/{TFVARS_FILE}"),
        |v| v.value.clone(),
    );
    let terraform = |targets: &[&str]| {
        let mut entries = vec![("dir", Y::str(&deploy.terraform_dir.value))];
        if !targets.is_empty() {
            entries.push(("targets", Y::seq(targets.iter().map(|t| Y::str(*t)))));
        }
        entries.push(("varFiles", Y::seq([Y::str(&var_file)])));
        entries.push(("workspace", Y::str(&cluster)));
        Y::map(entries)
    };
    let crd_names = match request.mode.value {
        Mode::Karpenter => [
            "nodepools.karpenter.sh",
            "nodeclaims.karpenter.sh",
            "ec2nodeclasses.karpenter.k8s.aws",
        ],
        Mode::AutoMode => [
            "nodepools.karpenter.sh",
            "nodeclaims.karpenter.sh",
            "nodeclasses.eks.amazonaws.com",
        ],
    };
    let crds_gate = gate_with(
        "crds-established",
        vec![("names", Y::seq(crd_names.iter().map(|n| Y::str(*n))))],
    );
    let crds = match request.mode.value {
        // The Karpenter chart (and its CRDs) is the platform Terraform's `module.karpenter`.
        Mode::Karpenter => Y::map([
            ("name", Y::str("crds")),
            ("terraform", terraform(&["module.karpenter"])),
            ("gates", Y::seq([crds_gate])),
        ]),
        // Auto Mode serves its CRDs with the cluster: wait until they are served.
        Mode::AutoMode => Y::map([("name", Y::str("crds")), ("gates", Y::seq([crds_gate]))]),
    };
    let mut credentials = Vec::new();
    if let Some(role) = &deploy.role_arn {
        credentials.push(("roleArn", Y::str(&role.value).from(role.span)));
        credentials.push(("audience", Y::str("sts.amazonaws.com")));
    }
    let mut spec = vec![(
        "cluster",
        Y::map([
            ("name", Y::str(&cluster)),
            (
                "region",
                Y::str(&request.region.value).from(request.region.span),
            ),
        ]),
    )];
    if !credentials.is_empty() {
        spec.push(("credentials", Y::map(credentials)));
    }
    if let Some(policy) = &deploy.policy {
        spec.push(("policy", Y::str(&policy.value).from(policy.span)));
    }
    spec.push(("failOn", Y::str("error")));
    spec.push((
        "stages",
        Y::seq([
            Y::map([
                ("name", Y::str("network")),
                ("terraform", terraform(&["module.network"])),
            ]),
            Y::map([
                ("name", Y::str("cluster")),
                ("terraform", terraform(&["module.eks"])),
                (
                    "gates",
                    Y::seq([
                        gate("eks-cluster-active"),
                        gate_with("kubernetes-api", vec![("timeout", Y::str("5m"))]),
                    ]),
                ),
            ]),
            crds,
            Y::map([
                ("name", Y::str("node-pools")),
                (
                    "manifests",
                    Y::seq([Y::str(NODE_CLASSES_DIR), Y::str(NODE_POOLS_DIR)]),
                ),
                (
                    "gates",
                    Y::seq([
                        gate("nodeclasses-ready"),
                        gate_with("nodepools-ready", vec![("timeout", Y::str("10m"))]),
                    ]),
                ),
            ]),
            Y::map([
                ("name", Y::str("apps")),
                ("terraform", terraform(&[])),
                ("gates", Y::seq([gate("workloads-available")])),
            ]),
        ]),
    ));
    Y::map([
        ("apiVersion", Y::str(crate::reader::API_VERSION)),
        ("kind", Y::str("DeployPlan")),
        ("metadata", Y::map([("name", Y::str(&cluster))])),
        ("spec", Y::map(spec)),
    ])
}

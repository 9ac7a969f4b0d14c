use crate::model::{KarpenterApi, NodeClassFlavor};
use crate::rules::{Context, Findings, Rule, declare_rule};
use crate::text::shorten;

declare_rule! {
    /// A tag key is reserved by Karpenter or EKS.
    ///
    /// ## Why
    /// Karpenter tags every instance, volume and launch template it creates with keys of its
    /// own, and finds its instances again by them; the node class CRDs therefore reject these
    /// keys in `spec.tags` (the API server answers `tag contains a restricted tag matching ...`),
    /// so the whole object fails to apply. Reserved keys:
    ///
    /// - EC2NodeClass `karpenter.k8s.aws/v1`: any key starting with `kubernetes.io/cluster`,
    ///   and `eks:eks-cluster-name`, `karpenter.sh/nodepool`, `karpenter.sh/nodeclaim`,
    ///   `karpenter.k8s.aws/ec2nodeclass`;
    /// - EC2NodeClass `v1beta1`: the same, and `karpenter.sh/managed-by`;
    /// - EKS Auto Mode NodeClass: any key starting with `kubernetes.io/cluster`, and
    ///   `karpenter.sh/provisioner-name`, `karpenter.sh/nodepool`, `karpenter.sh/nodeclaim`,
    ///   `karpenter.sh/managed-by`, `eks.amazonaws.com/nodeclass`; and the tags Auto Mode puts
    ///   on its instances itself and its IAM policies check (`eks:eks-cluster-name`,
    ///   `eks:kubernetes-node-class-name`, `eks:kubernetes-node-pool-name`).
    ///
    /// Keys are compared exactly, as the API server does. `Name` is not reserved: Karpenter
    /// keeps a `Name` tag set in `spec.tags`.
    ///
    /// On a v1beta1 EC2NodeClass, API001 reports `karpenter.sh/managed-by` and
    /// `eks:eks-cluster-name` with what changed in v1, and TAG004 is silent there.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags:
    ///     cost-center: shared-services
    ///     billing-team: platform
    ///     workload-type: infrastructure
    ///     kubernetes.io/cluster/demo: owned
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags:
    ///     cost-center: shared-services
    ///     billing-team: platform
    ///     workload-type: infrastructure
    /// ```
    pub TagKeyReserved { id: "TAG004", name: "tag-key-reserved", severity: Error }
}

/// How a reserved key is matched, and what the owner puts there.
struct Reserved {
    key: &'static str,
    /// `true`: every key starting with `key` (CEL `startsWith`).
    prefix: bool,
    /// What Karpenter or EKS sets under this key (`None`: a legacy key it only keeps free).
    sets: Option<&'static str>,
    /// Whether the CRD rejects it (otherwise the owner only overwrites it).
    rejected: bool,
}

const fn exact(key: &'static str, sets: &'static str) -> Reserved {
    Reserved {
        key,
        prefix: false,
        sets: Some(sets),
        rejected: true,
    }
}

/// A key the CRD rejects though nothing documents what sets it today.
const fn legacy(key: &'static str) -> Reserved {
    Reserved {
        key,
        prefix: false,
        sets: None,
        rejected: true,
    }
}

const CLUSTER: Reserved = Reserved {
    key: "kubernetes.io/cluster",
    prefix: true,
    sets: Some("`kubernetes.io/cluster/<cluster name>: owned`"),
    rejected: true,
};

/// Karpenter `karpenter.k8s.aws/v1` EC2NodeClass (CEL on `spec.tags`).
const EC2_V1: &[Reserved] = &[
    CLUSTER,
    exact("eks:eks-cluster-name", "the cluster name"),
    exact("karpenter.sh/nodepool", "the NodePool name"),
    exact("karpenter.sh/nodeclaim", "the NodeClaim name"),
    exact("karpenter.k8s.aws/ec2nodeclass", "the EC2NodeClass name"),
];

/// `v1beta1` restricted `karpenter.sh/managed-by` as well.
const EC2_V1BETA1_EXTRA: &[Reserved] = &[exact("karpenter.sh/managed-by", "the cluster name")];

/// EKS Auto Mode `eks.amazonaws.com/v1` NodeClass.
const AUTO_MODE: &[Reserved] = &[
    CLUSTER,
    legacy("karpenter.sh/provisioner-name"),
    exact("karpenter.sh/nodepool", "the NodePool name"),
    exact("karpenter.sh/nodeclaim", "the NodeClaim name"),
    legacy("karpenter.sh/managed-by"),
    exact("eks.amazonaws.com/nodeclass", "the NodeClass name"),
    Reserved {
        key: "eks:eks-cluster-name",
        prefix: false,
        sets: Some("the cluster name"),
        rejected: false,
    },
    Reserved {
        key: "eks:kubernetes-node-class-name",
        prefix: false,
        sets: Some("the NodeClass name"),
        rejected: false,
    },
    Reserved {
        key: "eks:kubernetes-node-pool-name",
        prefix: false,
        sets: Some("the NodePool name"),
        rejected: false,
    },
];

impl Reserved {
    fn matches(&self, key: &str) -> bool {
        if self.prefix {
            key.starts_with(self.key)
        } else {
            key == self.key
        }
    }
}

impl Rule for TagKeyReserved {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for class in &cx.node_classes {
            let Some(tags) = class.tags else {
                continue;
            };
            let (lists, owner): (&[&[Reserved]], &str) = match class.flavor {
                NodeClassFlavor::Ec2(KarpenterApi::V1) => (&[EC2_V1], "Karpenter"),
                NodeClassFlavor::Ec2(KarpenterApi::V1beta1) => {
                    (&[EC2_V1, EC2_V1BETA1_EXTRA], "Karpenter")
                }
                NodeClassFlavor::AutoMode => (&[AUTO_MODE], "EKS Auto Mode"),
            };
            for entry in tags.entries() {
                let Some(key) = entry.key_str() else {
                    continue;
                };
                let Some(reserved) = lists.iter().flat_map(|l| l.iter()).find(|r| r.matches(key))
                else {
                    continue;
                };
                let key_shown = shorten(key);
                let message = match (reserved.rejected, reserved.sets) {
                    (true, Some(_)) => format!(
                        "tag key `{key_shown}` is reserved: the API server rejects it, and {owner} sets it itself"
                    ),
                    (true, None) => {
                        format!("tag key `{key_shown}` is reserved: the API server rejects it")
                    }
                    (false, _) => format!(
                        "tag key `{key_shown}` is reserved: {owner} sets it itself on every instance"
                    ),
                };
                let setting = match reserved.sets {
                    Some(sets) if reserved.prefix => {
                        format!("{owner} sets {sets} on every instance")
                    }
                    Some(sets) => {
                        format!(
                            "{owner} sets `{}` to {sets} on every instance",
                            reserved.key
                        )
                    }
                    None => format!("{owner} keeps `{}` for itself", reserved.key),
                };
                // The CRD's message names `kubernetes.io/cluster/`, with the slash.
                let matching = if reserved.prefix {
                    format!("{}/", reserved.key)
                } else {
                    reserved.key.to_string()
                };
                let help = if reserved.rejected {
                    format!(
                        "remove it from `spec.tags`; {setting} (the API server answers `tag contains a restricted tag matching {matching}`)"
                    )
                } else {
                    format!(
                        "remove it from `spec.tags`; {setting}, and its IAM policies check that value"
                    )
                };
                out.report(class.doc, &entry.key, message).help(help);
            }
        }
    }
}

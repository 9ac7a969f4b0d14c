//! Findings made while reading sources and suppressions. The engine reports these; the rule
//! structs carry their documentation and their place in the registry.

use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// The source cannot be parsed.
    ///
    /// ## Why
    /// A file that is not valid YAML or JSON is rejected by `kubectl`, Flux or Terraform, and
    /// eksgate cannot check what it cannot read: nothing after the fault is checked. The finding
    /// points at the line and column where the parser stopped. Files that are not UTF-8, larger
    /// than the size limit, nested deeper than 100 levels, that repeat a mapping key, or whose
    /// aliases expand past 100 000 nodes ("billion laughs") are reported here too.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    ///  spec: {}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   limits: {cpu: "100"}
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
    ///       requirements: []
    /// ```
    pub SourceUnparsable { id: "YAML001", name: "source-unparsable", severity: Error }
}

impl Rule for SourceUnparsable {}

declare_rule! {
    /// A plain scalar means something else to Kubernetes than it seems to.
    ///
    /// ## Why
    /// Kubernetes decodes manifests with a YAML 1.1 reader: unquoted `yes`, `no`, `on`, `off`,
    /// `y` and `n` are booleans, and a number with a leading zero (`0755`) is octal. Editors and
    /// most YAML 1.2 tools read them as strings or decimals, so a label value `on` or a client ID
    /// `0042` silently becomes `true` or `34`, and the API server rejects or misfiles it.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata:
    ///   name: flags
    /// data:
    ///   feature: on
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata:
    ///   name: flags
    /// data:
    ///   feature: "on"
    /// ```
    pub Yaml11Scalar { id: "YAML002", name: "yaml11-ambiguous-scalar", severity: Warning }
}

impl Rule for Yaml11Scalar {}

declare_rule! {
    /// A suppression has no reason, or names a rule that does not exist.
    ///
    /// ## Why
    /// A finding can be silenced with the annotation `eksgate.dev/ignore: "RULE[,RULE]: reason"`
    /// on the object, or a comment `# eksgate:ignore RULE[,RULE] reason` on the line of the
    /// finding or alone on the line above it. Without a reason the next reader cannot tell a
    /// deliberate exception from a shortcut, and a misspelt rule ID silences nothing.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: legacy
    ///   annotations:
    ///     eksgate.dev/ignore: "IMDS002"
    /// spec:
    ///   role: KarpenterNodeRole
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 2}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: legacy
    ///   annotations:
    ///     eksgate.dev/ignore: "IMDS002: the AWS Load Balancer Controller still reads IMDS from pods"
    /// spec:
    ///   role: KarpenterNodeRole
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 2}
    /// ```
    pub SuppressionWithoutReason { id: "SUP001", name: "suppression-without-reason", severity: Warning }
}

impl Rule for SuppressionWithoutReason {}

//! Findings made while reading sources and suppressions. The engine reports these; the rule
//! structs carry their documentation and their place in the registry.

mod unresolved_placeholder;

use crate::rules::{Rule, declare_rule};

pub use unresolved_placeholder::UnresolvedPlaceholder;

declare_rule! {
    /// The source cannot be parsed.
    ///
    /// ## Why
    /// A file that is not valid YAML or JSON is rejected by `kubectl`, Flux or Terraform, and
    /// eksgate cannot check what it cannot read: nothing after the fault is checked. The finding
    /// points at the line and column where the parser stopped.
    ///
    /// eksgate reads YAML as Kubernetes does (kubectl, the API server and Flux decode it with
    /// go-yaml v2, a port of libyaml, through `sigs.k8s.io/yaml`), so it accepts and rejects the
    /// same files `kubectl apply` does: a tab after a block sequence's `-` is an error here as
    /// there ("found character that cannot start any token"), and a flow sequence closed at its
    /// key's indentation is fine. Also reported here: text after `---` on the separator line
    /// (kubectl: "invalid Yaml document separator"), values JSON cannot hold in a Kubernetes
    /// object (`.nan`, `.inf`, a mapping or `null` as a key: kubectl "error converting YAML to
    /// JSON"), control characters, files that are not UTF-8 or larger than the size limit,
    /// nesting deeper than 100 levels, more than 4 000 000 values in one file, and aliases that
    /// expand past 100 000 nodes ("billion laughs"; a scalar weighs a node per 32 bytes of its
    /// text, since aliases copy scalars).
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
    /// A mapping repeats a key, or a `<<` merge overrides a key written before it.
    ///
    /// ## Why
    /// kubectl and the API server decode YAML with go-yaml v2 without strict mode: of a repeated
    /// key, the last value wins and nothing is said (`sigs.k8s.io/yaml` `YAMLToJSON`: "duplicate
    /// fields are ... ignored"). The first value, often the one a reviewer reads, is silently
    /// dropped. kustomize, and so Flux's kustomize-controller, rejects the same file ("mapping key
    /// already defined"). go-yaml v2 also applies `<<` merge keys in document order, so a key
    /// written *before* `<<: *base` is replaced by the merged value, unlike in YAML 1.2 tools.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole
    ///   amiSelectorTerms: [{alias: al2023@latest}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   metadataOptions:
    ///     httpTokens: required
    ///     httpTokens: optional
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole
    ///   amiSelectorTerms: [{alias: al2023@latest}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   metadataOptions:
    ///     httpTokens: required
    /// ```
    pub DuplicateKey { id: "YAML003", name: "duplicate-key", severity: Warning }
}

impl Rule for DuplicateKey {}

declare_rule! {
    /// A document that Kubernetes never reads.
    ///
    /// ## Why
    /// kubectl splits a stream at lines that start with `---` (apimachinery's `YAMLReader`) and
    /// decodes only the first document of each piece (`yaml.Unmarshal`). A document that follows
    /// a `...` end marker without a `---` line of its own is never applied, yet it looks applied
    /// to a reader and to tools that follow the YAML spec.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: team-a}
    /// ...
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: team-b}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: team-a}
    /// ---
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata: {name: team-b}
    /// ```
    pub DocumentIgnored { id: "YAML004", name: "document-ignored", severity: Warning }
}

impl Rule for DocumentIgnored {}

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

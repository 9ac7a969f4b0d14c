use crate::rules::{Context, Findings, Rule, declare_rule};
use crate::schema::IssueKind;

declare_rule! {
    /// A field is unknown to the kind's schema, so the API server would drop it without a word.
    ///
    /// ## Why
    /// A custom resource keeps only the fields its CRD's schema names: the API server prunes
    /// every other field and stores the object without it. `kubectl apply` asks for strict
    /// field validation and refuses such an object, but clients that do not (Helm, GitOps
    /// controllers, Terraform) get it stored without the field, with at most a warning, and the
    /// setting silently does nothing. The classic case is the v1beta1 to v1
    /// move: `spec.template.spec.kubelet` on a `karpenter.sh/v1` NodePool is dropped, because
    /// v1 moved kubelet settings to the EC2NodeClass (`spec.kubelet`). Typos are dropped the
    /// same way: `httpToken: optional` leaves IMDS at its default.
    ///
    /// The finding points at the unknown key and says what it probably meant: the known field
    /// with the closest name (`httpToken` -> `httpTokens`), or where Karpenter v1 moved it
    /// (`spec.disruption.expireAfter` -> `spec.template.spec.expireAfter`,
    /// `nodeClassRef.apiVersion` -> `group`). Fields under `x-kubernetes-preserve-unknown-fields`
    /// and in maps (`additionalProperties`) are kept and not reported. In `metadata`, any
    /// ObjectMeta field is fine (`generateName`, `ownerReferences`, ...); another name is
    /// reported, as the API server drops it too.
    ///
    /// ## Fix
    /// Unsafe (`--fix --unsafe-fixes`): a field one typo away from a field of the schema
    /// (`httpToken` for `httpTokens`) is renamed to it, when the mapping does not have that
    /// field already. The value you wrote then takes effect where it was dropped before, which
    /// can change what the cluster does (`httpToken: optional` renamed enables IMDSv1, which
    /// IMDS001 then reports), so review it. Fields that moved between API versions
    /// (`eksgate migrate`) and unknown fields without a near name are left to you.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
    ///       requirements:
    ///         - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
    ///       kubelet:
    ///         maxPods: 110
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
    ///       requirements:
    ///         - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   kubelet:
    ///     maxPods: 110
    /// ```
    pub UnknownFieldPruned { id: "SCH002", name: "unknown-field-pruned", severity: Error, fix: Unsafe }
}

impl Rule for UnknownFieldPruned {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        super::report(cx, out, IssueKind::Pruned);
    }
}

use crate::rules::{Context, Findings, Rule, declare_rule};
use crate::schema::IssueKind;

declare_rule! {
    /// A field has the wrong type, a value outside its enum, pattern or bounds, or a required field is missing.
    ///
    /// ## Why
    /// The Kubernetes API server validates a custom resource against its CRD's schema and
    /// rejects the whole object when one field is wrong, so a typo such as `volumeSize: 20GB`
    /// or `httpTokens: Required` fails the deploy (or, in GitOps, leaves the old object in
    /// place while the sync keeps failing). eksgate checks the same schema offline: Karpenter v1
    /// NodePool and EC2NodeClass and EKS Auto Mode NodeClass are built in, and `--crd` adds any
    /// CustomResourceDefinition.
    ///
    /// What is checked: types as Kubernetes reads YAML (`1` is an integer and `"1"` a string, so
    /// a label value `1` or a quoted hop limit `"2"` is wrong; `x-kubernetes-int-or-string`
    /// takes either), enums, patterns (Go RE2), minimum and maximum, string lengths, list and
    /// map sizes, unique items of `set` and `map` lists, integer formats (`int32`), and
    /// required fields. A required field that has a default is not reported (the API server
    /// fills it in), and `null` in a field that is not `nullable` counts as leaving it out, as
    /// the API server drops it. In `metadata`, only the types of `name`, `generateName`,
    /// `namespace`, `labels` and `annotations` are checked; `status` is not user input and is
    /// skipped. The CRDs' CEL rules are CEL001; unknown fields are SCH002.
    ///
    /// One problem, one finding: where a rule that knows the field reports the same value,
    /// SCH001 is silent (`encrypted: "true"` is ENC001's, a tag value that is not a string
    /// TAG003's, a `group` with a version REF002's, a YAML 1.1 `yes` or `0042` YAML002's).
    ///
    /// ## Fix
    /// Safe, for one kind of finding: a boolean or number in quotes where the schema wants a
    /// boolean or number (`encrypted: "true"`, `httpPutResponseHopLimit: "1"`) is written
    /// without them. The API server rejects the quoted value, so nothing that worked changes.
    /// Numbers with a leading zero, a sign or an exponent are left to you (YAML reads them
    /// differently). Other violations have no automatic fix.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   blockDeviceMappings:
    ///     - deviceName: /dev/xvda
    ///       ebs: {volumeSize: 100GB, volumeType: gp3, encrypted: true}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   blockDeviceMappings:
    ///     - deviceName: /dev/xvda
    ///       ebs: {volumeSize: 100Gi, volumeType: gp3, encrypted: true}
    /// ```
    pub SchemaViolation { id: "SCH001", name: "schema-violation", severity: Error, fix: Safe }
}

impl Rule for SchemaViolation {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        super::report(cx, out, IssueKind::Violation);
    }
}

use crate::fix::{Applicability, Change, Quotes};
use crate::model::NodeClassFlavor;
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// An EC2NodeClass allows IMDSv1.
    ///
    /// ## Why
    /// IMDSv1 answers plain unauthenticated GETs, so a server-side request forgery in any pod
    /// can read the node role's credentials. `metadataOptions.httpTokens: required` enforces
    /// IMDSv2 (session tokens). Karpenter's default is `required`, so leaving `metadataOptions`
    /// or `httpTokens` out is compliant; only an explicit `optional` is reported (unless
    /// `httpEndpoint: disabled` turns the metadata service off entirely). EKS Auto Mode node
    /// classes always enforce IMDSv2. The policy's `imds.requireV2: false` turns this off.
    ///
    /// ## Fix
    /// Safe: `eksgate check --fix` sets `httpTokens: required` (quotes and comments kept).
    /// Clients that still use IMDSv1 get `401` from the metadata service; the AWS SDKs and
    /// CLI have used IMDSv2 for years.
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
    ///   metadataOptions:
    ///     httpTokens: optional
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
    ///   metadataOptions:
    ///     httpTokens: required
    /// ```
    pub ImdsV1Allowed { id: "IMDS001", name: "imdsv1-allowed", severity: Error, fix: Safe }
}

impl Rule for ImdsV1Allowed {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if !cx.policy.imds.require_v2 {
            return;
        }
        for class in &cx.node_classes {
            if !matches!(class.flavor, NodeClassFlavor::Ec2(_)) {
                continue;
            }
            let Some(options) = class.spec.and_then(|s| s.get("metadataOptions")) else {
                continue;
            };
            if options.get("httpEndpoint").and_then(Node::as_str) == Some("disabled") {
                continue;
            }
            let Some(tokens) = options.get("httpTokens") else {
                continue;
            };
            if tokens.as_str() != Some("required") {
                let shown = tokens
                    .scalar_text()
                    .unwrap_or_else(|| tokens.type_name().to_string());
                out.report(
                    class.doc,
                    tokens,
                    format!("`httpTokens` is `{shown}`, so nodes answer IMDSv1 requests"),
                )
                .help("set `metadataOptions.httpTokens: required` to enforce IMDSv2")
                .fix(
                    Applicability::Safe,
                    "set `httpTokens: required`",
                    Change::Replace {
                        node: tokens,
                        text: "required".to_string(),
                        quotes: Quotes::Keep,
                    },
                );
            }
        }
    }
}

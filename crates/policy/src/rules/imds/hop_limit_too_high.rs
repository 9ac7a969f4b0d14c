use crate::fix::{Applicability, Change, NewValue, Quotes};
use crate::model::{KarpenterApi, NodeClassFlavor};
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// An EC2NodeClass's IMDS hop limit is above the policy maximum, so pods can reach instance metadata.
    ///
    /// ## Why
    /// `metadataOptions.httpPutResponseHopLimit` is how many network hops the IMDSv2 token
    /// response may travel. With `1` it stops at the node; with `2` or more it reaches every pod
    /// that does not use host networking, and any of them can read the node role's credentials
    /// from instance metadata. The policy's `imds.maxHopLimit` (default `1`) is the highest
    /// value allowed.
    ///
    /// Omitted values are judged by their real defaults: Karpenter v1 defaults the hop limit to
    /// `1` (compliant), but a `karpenter.k8s.aws/v1beta1` EC2NodeClass defaults it to `2`, with
    /// or without `metadataOptions`, so a v1beta1 class that does not set it is reported.
    /// Classes with `httpEndpoint: disabled` have no metadata service and are skipped, and EKS
    /// Auto Mode node classes are never reported (AWS enforces IMDSv2 with hop limit 1 there).
    ///
    /// Some pods legitimately need a hop limit of `2`: the AWS Load Balancer Controller without
    /// IRSA or EKS Pod Identity, for example, reads its Region and VPC from instance metadata.
    /// Prefer giving such pods IRSA or Pod Identity; when that is not possible, keep the hop
    /// limit on a dedicated node class and suppress the finding on it with the annotation
    /// `eksgate.dev/ignore: "IMDS002: <reason>"`.
    ///
    /// ## Fix
    /// Safe: `eksgate check --fix` sets `httpPutResponseHopLimit` to the policy maximum (and
    /// adds it, with `metadataOptions` if needed, where a v1beta1 default is too high).
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
    ///     httpTokens: required
    ///     httpPutResponseHopLimit: 2
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
    ///     httpPutResponseHopLimit: 1
    /// ```
    pub HopLimitTooHigh { id: "IMDS002", name: "imds-hop-limit-too-high", severity: Warning, fix: Safe }
}

/// `httpPutResponseHopLimit` when a Karpenter API version leaves it out.
const fn default_hop_limit(api: KarpenterApi) -> i64 {
    match api {
        KarpenterApi::V1 => 1,
        KarpenterApi::V1beta1 => 2,
    }
}

impl Rule for HopLimitTooHigh {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let max = cx.policy.imds.max_hop_limit;
        for class in &cx.node_classes {
            let NodeClassFlavor::Ec2(api) = class.flavor else {
                continue;
            };
            let options = class.spec.and_then(|s| s.get("metadataOptions"));
            if options
                .and_then(|o| o.get("httpEndpoint"))
                .and_then(Node::as_str)
                == Some("disabled")
            {
                continue;
            }
            let help = format!(
                "set `metadataOptions.httpPutResponseHopLimit: {}`; a pod that needs instance \
                 metadata (the AWS Load Balancer Controller without IRSA or Pod Identity needs \
                 hop limit 2) should get IRSA or EKS Pod Identity instead, or keep the higher \
                 limit on its own node class annotated `eksgate.dev/ignore: \"IMDS002: <reason>\"`",
                max.max(1)
            );
            match options.and_then(|o| o.get("httpPutResponseHopLimit")) {
                // A mistyped value is a schema finding, not this rule's.
                Some(hop) => {
                    let Some(value) = hop.as_i64() else {
                        continue;
                    };
                    if value > max {
                        out.report(
                            class.doc,
                            hop,
                            format!(
                                "`httpPutResponseHopLimit` is `{value}`, above the policy maximum \
                                 `{max}`: pods can reach instance metadata and the node role's credentials"
                            ),
                        )
                        .help(help)
                        .fix(
                            Applicability::Safe,
                            format!("set `httpPutResponseHopLimit: {}`", max.max(1)),
                            Change::Replace {
                                node: hop,
                                text: max.max(1).to_string(),
                                quotes: Quotes::Drop,
                            },
                        );
                    }
                }
                None => {
                    let value = default_hop_limit(api);
                    if value <= max {
                        continue;
                    }
                    let anchor = class.anchor(&["metadataOptions"]);
                    let whose = match api {
                        KarpenterApi::V1beta1 => "the `karpenter.k8s.aws/v1beta1` default",
                        KarpenterApi::V1 => "Karpenter's default",
                    };
                    out.report(
                        class.doc,
                        anchor,
                        format!(
                            "`httpPutResponseHopLimit` is not set, and {whose} `{value}` is above \
                             the policy maximum `{max}`: pods can reach instance metadata and the \
                             node role's credentials"
                        ),
                    )
                    .help(help)
                    .fix(
                        Applicability::Safe,
                        format!("set `httpPutResponseHopLimit: {}`", max.max(1)),
                        Change::Insert {
                            map: &class.doc.root,
                            path: ["spec", "metadataOptions", "httpPutResponseHopLimit"]
                                .map(String::from)
                                .to_vec(),
                            value: NewValue::Int(max.max(1)),
                        },
                    );
                }
            }
        }
    }
}

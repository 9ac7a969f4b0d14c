use std::collections::BTreeSet;

use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A billing tag the pool class requires is missing from the node class.
    ///
    /// ## Why
    /// Cost allocation reads AWS tags, and only tags present when an instance launches count:
    /// a tag cannot be backdated. Karpenter puts a node class's `spec.tags` on every instance,
    /// volume and launch template it creates, so that is where billing tags belong (NodePool
    /// labels are not AWS tags). Each pool class of the policy names its billing tags
    /// (`cost-center`, `billing-team`, `workload-type`, and `client-id` for client pools). A node
    /// class is checked against the class of the NodePools that use it; one that no pool in the
    /// run uses is checked against the class its tags point to, and one with no billing tag at
    /// all against the tags every class requires.
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
    ///     workload-type: infrastructure
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
    pub BillingTagMissing { id: "TAG001", name: "billing-tag-missing", severity: Error }
}

/// Billing tag keys every pool class requires (for node classes of unknown class).
fn common_keys(cx: &Context<'_>) -> BTreeSet<String> {
    let mut classes = cx
        .policy
        .pool_classes
        .iter()
        .filter(|c| !c.billing_tags.is_empty());
    let Some(first) = classes.next() else {
        return BTreeSet::new();
    };
    let mut keys: BTreeSet<String> = first.billing_tags.iter().map(|t| t.key.clone()).collect();
    for class in classes {
        keys.retain(|k| class.billing_tags.iter().any(|t| &t.key == k));
    }
    keys
}

impl Rule for BillingTagMissing {
    // The tags a node class needs follow from the pools that use it, in any file.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for class in &cx.node_classes {
            let anchor = class
                .tags
                .map(|_| class.anchor(&["tags"]))
                .unwrap_or_else(|| class.anchor(&[]));
            let classes = cx.billed_classes(class);
            if classes.is_empty() {
                // Used by no classified pool, and its tags name no class.
                if !cx.pools_of(class).is_empty() {
                    continue;
                }
                let missing: Vec<String> = common_keys(cx)
                    .into_iter()
                    .filter(|k| !class.may_have_tag(k))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                out.report(
                    class.doc,
                    anchor,
                    format!(
                        "{} `{}` has no billing tags: `{}` missing",
                        class.kind(),
                        class.name,
                        missing.join("`, `")
                    ),
                )
                .help(
                    "add the billing tags of the pool class this node class serves to `spec.tags`",
                );
                continue;
            }
            for (pool_class, pools) in classes {
                let missing: Vec<&str> = pool_class
                    .billing_tags
                    .iter()
                    .filter(|t| !class.may_have_tag(&t.key))
                    .map(|t| t.key.as_str())
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let used_by = if pools.is_empty() {
                    format!("tagged as `{}`", pool_class.name)
                } else {
                    format!("used by {} pool `{}`", pool_class.name, pools.join("`, `"))
                };
                let wanted: Vec<String> = pool_class
                    .billing_tags
                    .iter()
                    .filter(|t| missing.contains(&t.key.as_str()))
                    .map(|t| format!("`{}` ({})", t.key, t.describe()))
                    .collect();
                out.report(
                    class.doc,
                    anchor,
                    format!(
                        "{} `{}` ({used_by}) lacks billing tag{} `{}`",
                        class.kind(),
                        class.name,
                        if missing.len() == 1 { "" } else { "s" },
                        missing.join("`, `")
                    ),
                )
                .help(format!("add to `spec.tags`: {}", wanted.join(", ")));
            }
        }
    }
}

use crate::model::policy::BillingTag;
use crate::node::Value;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};
use crate::text::{edit_distance, shorten};

declare_rule! {
    /// A billing tag has a value the pool class does not allow.
    ///
    /// ## Why
    /// Cost allocation groups spend by tag value, and a value that is almost right is a
    /// different value: `shared-service`, `Platform` or `client projects` open a new line in Cost
    /// Explorer, and that spend is missing from the report the team reads. Each pool class of the
    /// policy says which values its billing tags accept, as a list (`allowed`), a regular
    /// expression (`pattern`) or both; the default policy wants `cost-center: shared-services`,
    /// `billing-team: platform` and `workload-type: infrastructure` on infrastructure node
    /// classes, `client-projects`, `development` and `applications` on client node classes, and
    /// a `client-id` that is a DNS label (lower-case letters, digits and `-`, at most 63). A node
    /// class (EC2NodeClass or EKS Auto Mode NodeClass) is judged against the same pool classes as
    /// in `TAG001`: the class of the NodePools that use it, or, when no pool in the run uses it,
    /// the class its tags point to. An empty `client-id:` is null, not a value, and is reported
    /// too; a number or boolean where a string belongs (unquoted `yes`, `0042`) is `TAG003`'s.
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
    ///     cost-center: shared-service
    ///     billing-team: platform
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
    pub BillingTagValueInvalid { id: "TAG002", name: "billing-tag-value-invalid", severity: Error }
}

impl Rule for BillingTagValueInvalid {
    // The tags a node class needs follow from the pools that use it, in any file.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for class in &cx.node_classes {
            for (pool_class, pools) in cx.billed_classes(class) {
                let judged_as = if pools.is_empty() {
                    format!("tagged as `{}`", pool_class.name)
                } else {
                    format!("used by {} pool `{}`", pool_class.name, pools.join("`, `"))
                };
                for billing in &pool_class.billing_tags {
                    let Some(value) = class.tag(&billing.key) else {
                        continue;
                    };
                    let wanted = billing.describe();
                    let (message, help) = match &value.value {
                        Value::Str(text) if billing.accepts(text) => continue,
                        Value::Str(text) => {
                            let shown = if text.is_empty() {
                                "empty".to_string()
                            } else {
                                format!("`{}`", shorten(text))
                            };
                            let not = match billing.allowed.as_slice() {
                                [only] if billing.pattern.is_none() => format!("`{only}`"),
                                _ => wanted,
                            };
                            (
                                format!(
                                    "billing tag `{}` of {} `{}` ({judged_as}) is {shown}, not {not}",
                                    billing.key,
                                    class.kind(),
                                    class.name,
                                ),
                                suggestion(billing, text),
                            )
                        }
                        Value::Null => (
                            format!(
                                "billing tag `{}` of {} `{}` ({judged_as}) has no value",
                                billing.key,
                                class.kind(),
                                class.name
                            ),
                            format!(
                                "give `{}` a value ({wanted}); an empty YAML value is null, not a string",
                                billing.key
                            ),
                        ),
                        // A number or boolean is TAG003's finding (a tag value must be a
                        // string): one problem, one finding.
                        _ => continue,
                    };
                    out.report(class.doc, value, message).help(help);
                }
            }
        }
    }
}

/// What to write instead: the allowed value the text is closest to, else the list.
fn suggestion(billing: &BillingTag, text: &str) -> String {
    let key = &billing.key;
    let folded = fold(text);
    if let Some(close) = billing.allowed.iter().find(|a| fold(a) == folded) {
        return format!("write `{key}: {close}`; tag values are case-sensitive and exact");
    }
    if billing.allowed.is_empty() {
        // Only a pattern: try the usual repair (lower case, `-` for spaces and `_`).
        if !folded.is_empty() && folded != text && billing.accepts(&folded) {
            return format!("did you mean `{key}: {folded}`?");
        }
        return format!(
            "use a value {}, or change `billingTags` in the policy if the pattern is wrong",
            billing.describe()
        );
    }
    let nearest = billing
        .allowed
        .iter()
        .map(|a| (edit_distance(text, a), a))
        .min_by_key(|(d, _)| *d);
    match (nearest, billing.allowed.as_slice()) {
        (Some((d, a)), _) if d <= 3 => format!("did you mean `{key}: {a}`?"),
        (_, [only]) => format!("the policy allows only `{key}: {only}` for this class"),
        _ => format!(
            "use one of the values the policy allows for this class: `{}`",
            billing.allowed.join("`, `")
        ),
    }
}

/// Lower-case, with spaces and `_` as `-`: how a near-miss differs from the allowed value.
fn fold(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

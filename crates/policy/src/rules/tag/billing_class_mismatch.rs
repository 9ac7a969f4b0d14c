use crate::model::NodeClass;
use crate::model::policy::PoolClass;
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A NodePool uses a node class billed to another pool class.
    ///
    /// ## Why
    /// AWS bills an instance to the tags it launched with, and those come from the node class,
    /// not from the NodePool. A client application NodePool that points its `nodeClassRef` at the
    /// infrastructure EC2NodeClass launches instances tagged `cost-center: shared-services`, so
    /// the client's spend lands on the platform team's cost centre (and the reverse for an
    /// infrastructure pool on a client node class). A NodePool's class comes from its labels, its
    /// name or its taints (the policy's `poolClasses[].match`); a node class's billing class is
    /// the pool class most of whose fixed billing values (`allowed` lists) its tags carry. Pools
    /// or node classes of no recognisable class, and references to node classes outside the
    /// checked set, are not judged.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: client-acme
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: applications}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: client-acme
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: applications}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: client-acme}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: client-acme
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags:
    ///     cost-center: client-projects
    ///     billing-team: development
    ///     workload-type: applications
    ///     client-id: acme
    /// ```
    pub BillingClassMismatch { id: "TAG005", name: "billing-class-mismatch", severity: Error }
}

impl Rule for BillingClassMismatch {
    // A pool and its node class may be in different files.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let Some(pool_class) = cx.pool_class(pool) else {
                continue;
            };
            let Some(node_class) = cx.node_class_of(pool) else {
                continue;
            };
            let Some(billed) = cx.billing_class(node_class) else {
                continue;
            };
            if billed.name == pool_class.name {
                continue;
            }
            let Some(reference) = pool.node_class_ref.as_ref() else {
                continue;
            };
            let at = reference.name.unwrap_or(reference.node);
            let tags = billing_tags_of(node_class, billed);
            out.report(
                pool.doc,
                at,
                format!(
                    "{} pool `{}` uses {} `{}`, whose billing tags bill the {} class",
                    pool_class.name,
                    pool.name,
                    node_class.kind(),
                    node_class.name,
                    billed.name
                ),
            )
            .help(advice(cx, node_class, pool_class, &tags));
        }
    }
}

/// The node class's billing tags that say it belongs to `billed`, as `` `key: value` ``.
fn billing_tags_of(node_class: &NodeClass<'_>, billed: &PoolClass) -> Vec<String> {
    billed
        .billing_tags
        .iter()
        .filter(|t| !t.allowed.is_empty())
        .filter_map(|t| {
            let value = node_class.tag(&t.key).and_then(Node::scalar_text)?;
            t.accepts(&value).then(|| format!("`{}: {value}`", t.key))
        })
        .collect()
}

fn advice(
    cx: &Context<'_>,
    node_class: &NodeClass<'_>,
    pool_class: &PoolClass,
    tags: &[String],
) -> String {
    let its_tags = format!(
        "`{}` is tagged {}, so its instances are billed there",
        node_class.name,
        tags.join(", ")
    );
    // A node class of the same kind already billed to the pool's class is the likely target.
    let candidates: Vec<&str> = cx
        .node_classes
        .iter()
        .filter(|nc| nc.kind() == node_class.kind() && nc.name != node_class.name)
        .filter(|nc| {
            cx.billing_class(nc)
                .is_some_and(|b| b.name == pool_class.name)
        })
        .map(|nc| nc.name)
        .collect();
    if !candidates.is_empty() {
        return format!(
            "{its_tags}; point `nodeClassRef.name` at {} {} tagged for {}, such as `{}`",
            if node_class.kind().starts_with('E') {
                "an"
            } else {
                "a"
            },
            node_class.kind(),
            pool_class.name,
            candidates.join("`, `")
        );
    }
    let wanted: Vec<String> = pool_class
        .billing_tags
        .iter()
        .map(|t| match t.allowed.as_slice() {
            [one] => format!("`{}: {one}`", t.key),
            _ => format!("`{}` {}", t.key, t.describe()),
        })
        .collect();
    format!(
        "{its_tags}; give this pool its own {} tagged for {} ({}) and point `nodeClassRef.name` at it",
        node_class.kind(),
        pool_class.name,
        wanted.join(", ")
    )
}

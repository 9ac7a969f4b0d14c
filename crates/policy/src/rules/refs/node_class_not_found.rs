use crate::model::AUTO_MODE_GROUP;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A nodeClassRef names a node class that is not in the checked set.
    ///
    /// ## Why
    /// A NodePool whose node class does not exist never launches a node: Karpenter marks it
    /// `NodeClassReady=False` and pods wait in Pending, with nothing said at apply time. A typo
    /// in `nodeClassRef.name`, a renamed EC2NodeClass, or a node class left out of the
    /// deployment are the usual causes. This is reported only when the checked files contain at
    /// least one node class (checking a lone NodePool says nothing about what exists), and never
    /// for EKS Auto Mode's built-in NodeClass `default` (`group: eks.amazonaws.com`), which AWS
    /// provides. The help names the closest existing node class.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: aps}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: apps
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: apps
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    /// ```
    pub NodeClassNotFound { id: "REF001", name: "node-class-not-found", severity: Warning }
}

impl Rule for NodeClassNotFound {
    // A pool and its node class may be in different files.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if cx.node_classes.is_empty() {
            return;
        }
        // Names that may render to anything: the only ones a literal name must be matched
        // against one by one (a lookup by name answers the rest, in any repository size).
        let templated: Vec<&str> = cx
            .node_classes
            .iter()
            .map(|nc| nc.name)
            .filter(|name| crate::placeholder::contains(name))
            .collect();
        for pool in &cx.node_pools {
            let Some(reference) = pool.node_class_ref.as_ref() else {
                continue;
            };
            let (Some(name_node), Some(name)) = (reference.name, reference.name()) else {
                continue;
            };
            // An empty name is rejected by the API server before any lookup.
            if name.is_empty() {
                continue;
            }
            let auto_mode = match reference.api_group() {
                Some((group, _)) => group == AUTO_MODE_GROUP,
                None => reference.kind() == Some("NodeClass"),
            };
            if auto_mode && name == "default" {
                continue;
            }
            // A class of that name but the other kind is REF002's finding.
            // A name holding a placeholder (`${name}`) may render to this one.
            let may_exist = if crate::placeholder::contains(name) {
                cx.node_classes
                    .iter()
                    .any(|nc| crate::placeholder::may_equal(nc.name, name))
            } else {
                cx.has_node_class_named(name)
                    || templated
                        .iter()
                        .any(|t| crate::placeholder::may_equal(t, name))
            };
            if may_exist {
                continue;
            }
            let kind = reference.kind().unwrap_or("EC2NodeClass");
            let same_kind: Vec<&str> = cx
                .node_classes
                .iter()
                .filter(|nc| nc.kind() == kind)
                .map(|nc| nc.name)
                .collect();
            let names: Vec<&str> = if same_kind.is_empty() {
                cx.node_classes.iter().map(|nc| nc.name).collect()
            } else {
                same_kind
            };
            let help = match crate::text::closest_name(name, &names) {
                Some(near) => format!(
                    "did you mean `{near}`? Otherwise add the {kind} `{name}` to the checked files, or Karpenter launches no node for this pool"
                ),
                None => format!(
                    "node classes in the checked files: {}; point `nodeClassRef.name` at one of them or add the {kind} `{name}`",
                    crate::text::name_list(&names)
                ),
            };
            out.report(
                pool.doc,
                name_node,
                format!(
                    "NodePool `{}` references {kind} `{name}`, which is not in the checked files",
                    pool.name
                ),
            )
            .help(help);
        }
    }
}

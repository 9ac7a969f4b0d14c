use crate::model::policy::PlaceholderMode;
use crate::node::{Node, Value};
use crate::rules::{Context, Findings, Rule, Subject, declare_rule};
use crate::text::shorten;

declare_rule! {
    /// A value holds a template placeholder that was not substituted.
    ///
    /// ## Why
    /// Many repositories are templates: envsubst and Flux `postBuild.substitute` fill in
    /// `${cluster_name}`, Terraform's `templatefile` fills in `${var}`, kustomize `$(VAR)`, Helm
    /// `{{ .Values.x }}`, and scripts replace markers such as `<<CLUSTER_NAME>>` with `sed`.
    /// By default eksgate treats such a value as unknown: no pattern, enum, type, tag-syntax or
    /// reference verdict is given on it, because the rendered value decides (an AMI ID
    /// `<<AMD64AMI>>` is not an `ami-` ID yet, and `${name}` may well equal
    /// `${ec2nodeclass_ref}`). Give the values with `--var NAME=VALUE` or `--vars-file FILE`
    /// to check what will be applied.
    ///
    /// This rule is for repositories that should hold rendered manifests only (what `kubectl
    /// apply` or Argo CD applies as is): with `spec.placeholders: strict` in the policy, or
    /// `eksgate check --placeholders strict`, every placeholder left in a Kubernetes object is
    /// an error. It is off otherwise.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: Policy
    /// spec: {placeholders: strict}
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-${CLUSTER_NAME}
    ///   amiSelectorTerms: [{alias: al2023@latest}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}
    /// ```
    /// Use instead (or run `eksgate check --var CLUSTER_NAME=demo`):
    /// ```yaml,pass
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: Policy
    /// spec: {placeholders: strict}
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@latest}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}
    /// ```
    pub UnresolvedPlaceholder { id: "YAML005", name: "unresolved-placeholder", severity: Error }
}

impl Rule for UnresolvedPlaceholder {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if cx.policy.placeholders != PlaceholderMode::Strict {
            return;
        }
        for doc in cx.documents {
            if doc.api_version().is_none() || doc.kind().is_none() {
                continue;
            }
            // Depth is bounded by the parser (100 levels); an explicit stack all the same.
            let mut stack: Vec<&Node> = vec![&doc.root];
            while let Some(node) = stack.pop() {
                match &node.value {
                    Value::Str(s) if crate::placeholder::contains(s) => {
                        out.report_at(
                            Subject::of(doc),
                            node.span,
                            doc.pointer(node),
                            format!("`{}` holds a placeholder that was not substituted", shorten(s)),
                        )
                        .help("render the template first, or give its values with `--var NAME=VALUE` or `--vars-file FILE`");
                    }
                    Value::Seq(items) => stack.extend(items.iter().rev()),
                    Value::Map(entries) => {
                        for e in entries.iter().rev() {
                            stack.push(&e.value);
                            stack.push(&e.key);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

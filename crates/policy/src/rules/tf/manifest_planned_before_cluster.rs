use crate::model::repo::terraform::plan_time_manifests;
use crate::rules::{Context, Findings, Rule, Scope, Subject, declare_rule};

declare_rule! {
    /// A `kubernetes_manifest` is planned with a `kubernetes` provider that the same apply configures from the EKS cluster it creates.
    ///
    /// ## Why
    /// The `kubernetes` provider's `kubernetes_manifest` resource reads the resource type's
    /// schema from the API server while *planning*
    /// ([terraform-provider-kubernetes](https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs/resources/manifest):
    /// "this resource requires API access during planning"). When the provider's `host`,
    /// token or `exec` arguments come from an EKS cluster of the same root module
    /// (`module.eks` of terraform-aws-modules/eks, an `aws_eks_cluster` resource, or an
    /// `aws_eks_cluster` data source that reads one of them), the first plan has no cluster to
    /// ask, and fails:
    ///
    /// ```text
    /// Error: Failed to construct REST client
    ///   with module.eks.kubernetes_manifest.nodepool_infra_services
    /// cannot create REST client: no client config
    /// ```
    ///
    /// Two fixes: apply in stages, the cluster first (`terraform apply -target=module.eks`,
    /// then the rest; `eksgate deploy` runs such stages with readiness gates between them), or
    /// use `kubectl_manifest` (the `kubectl` provider), which reaches the API only when it
    /// applies. Providers configured from variables, files or a cluster that already exists
    /// are fine. Manifests in local child modules count, with the provider they inherit or are
    /// passed in `providers = {...}`. The finding points at the resource's `manifest`.
    ///
    /// ## Example
    /// ```hcl,fail
    /// module "eks" {
    ///   source          = "terraform-aws-modules/eks/aws"
    ///   cluster_name    = "prod"
    ///   cluster_version = "1.33"
    /// }
    ///
    /// provider "kubernetes" {
    ///   host                   = module.eks.cluster_endpoint
    ///   cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    ///   exec {
    ///     api_version = "client.authentication.k8s.io/v1beta1"
    ///     command     = "aws"
    ///     args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name]
    ///   }
    /// }
    ///
    /// resource "kubernetes_manifest" "nodeclass" {
    ///   manifest = yamldecode(file("${path.module}/nodeclass.yaml"))
    /// }
    /// ```
    /// Use instead (or apply `module.eks` first):
    /// ```hcl,pass
    /// module "eks" {
    ///   source          = "terraform-aws-modules/eks/aws"
    ///   cluster_name    = "prod"
    ///   cluster_version = "1.33"
    /// }
    ///
    /// provider "kubectl" {
    ///   host                   = module.eks.cluster_endpoint
    ///   cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    ///   load_config_file       = false
    /// }
    ///
    /// resource "kubectl_manifest" "nodeclass" {
    ///   yaml_body = file("${path.module}/nodeclass.yaml")
    /// }
    /// ```
    pub ManifestPlannedBeforeCluster { id: "TF001", name: "manifest-planned-before-cluster", severity: Error }
}

impl Rule for ManifestPlannedBeforeCluster {
    // Providers, modules and clusters are spread over a root module's files.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let Some(repo) = cx.repository() else { return };
        for m in plan_time_manifests(repo) {
            let Some(file) = repo.files.get(m.file) else {
                continue;
            };
            let Some(block) = file
                .terraform
                .as_ref()
                .and_then(|tf| tf.blocks.get(m.block))
            else {
                continue;
            };
            let object = block
                .document
                .and_then(|d| file.objects.iter().find(|o| o.document == d));
            let subject = Subject {
                file: file.file,
                document: block.document.unwrap_or(0),
                kind: object.map(|o| o.kind.as_str()),
                name: object.and_then(|o| o.name.as_deref()),
                ignore: object.and_then(|o| o.ignore.as_deref()),
            };
            let chdir = if m.root.is_empty() {
                String::new()
            } else {
                format!("-chdir={} ", m.root)
            };
            out.report_at(
                subject,
                block.manifest_key.unwrap_or(block.span),
                String::new(),
                format!(
                    "`{}` is planned with provider `{}`, which `{}` of the same apply configures: the first plan has no cluster to read the schema from",
                    m.address, m.provider, m.cluster
                ),
            )
            .help(format!(
                "apply in stages (`terraform {chdir}apply -target={}` first; `eksgate deploy` runs such stages with readiness gates), or use `kubectl_manifest`, which reaches the API only when it applies",
                m.cluster
            ));
        }
    }
}

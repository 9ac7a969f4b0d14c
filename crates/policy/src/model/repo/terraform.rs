//! Terraform modules of the run (the `.tf` files of one directory are one module) and the
//! `kubernetes_manifest` resources whose `kubernetes` provider Terraform can configure only
//! during the apply that creates the cluster (`TF001`).
//!
//! `kubernetes_manifest` needs the API server at plan time: the provider reads the resource's
//! OpenAPI schema to plan it (hashicorp/terraform-provider-kubernetes, docs of
//! `kubernetes_manifest`: "this resource requires API access during planning"). When the
//! provider's `host` (or token, or `exec` arguments) come from an EKS cluster of the same
//! apply (`module.eks`, `aws_eks_cluster.x`, or a data source that reads one of them), the
//! first plan has no cluster to ask and fails with "cannot create REST client: no client
//! config".

use std::collections::{BTreeMap, BTreeSet};

use crate::source::{TfBlock, TfBlockKind};

use super::{Repository, paths};

/// A `kubernetes_manifest` that is planned with a provider the same apply configures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanTimeManifest {
    /// Position of the resource's file in [`Repository::files`].
    pub file: usize,
    /// Index of the resource in that file's blocks.
    pub block: usize,
    /// The resource's address from the root module: `module.eks.kubernetes_manifest.pool`.
    pub address: String,
    /// The provider configuration it uses (`kubernetes`, `kubernetes.eks`).
    pub provider: String,
    /// What configures that provider: `module.eks`, `aws_eks_cluster.this`.
    pub cluster: String,
    /// The directory of the root module whose provider it is.
    pub root: String,
}

/// How deep module calls are followed.
const MAX_MODULE_DEPTH: usize = 16;

struct Modules<'r> {
    /// Module directory -> (file position, block index, block).
    blocks: BTreeMap<String, Vec<(usize, usize, &'r TfBlock)>>,
}

impl<'r> Modules<'r> {
    fn new(repo: &'r Repository) -> Self {
        let mut blocks: BTreeMap<String, Vec<(usize, usize, &'r TfBlock)>> = BTreeMap::new();
        for (pos, f) in repo.files.iter().enumerate() {
            let Some(tf) = &f.terraform else { continue };
            let dir = paths::parent(&f.path).to_string();
            let list = blocks.entry(dir).or_default();
            for (i, b) in tf.blocks.iter().enumerate() {
                list.push((pos, i, b));
            }
        }
        Self { blocks }
    }

    fn of(&self, dir: &str) -> &[(usize, usize, &'r TfBlock)] {
        self.blocks.get(dir).map_or(&[], Vec::as_slice)
    }

    fn find(
        &self,
        dir: &str,
        kind: TfBlockKind,
        type_name: &str,
        name: &str,
    ) -> Option<&'r TfBlock> {
        self.of(dir)
            .iter()
            .map(|(_, _, b)| *b)
            .find(|b| b.kind == kind && b.type_name == type_name && b.name == name)
    }

    /// The directory of a module call's local source (`./modules/eks`).
    fn local_source(dir: &str, block: &TfBlock) -> Option<String> {
        let source = block.source.as_deref()?;
        (source.starts_with("./") || source.starts_with("../")).then(|| paths::join(dir, source))
    }

    /// Whether module `dir` creates an EKS cluster.
    fn creates_cluster(&self, dir: &str, depth: usize) -> bool {
        if depth > MAX_MODULE_DEPTH {
            return false;
        }
        self.of(dir).iter().any(|(_, _, b)| match b.kind {
            TfBlockKind::Resource => b.type_name == "aws_eks_cluster",
            TfBlockKind::Module => self.module_creates_cluster(dir, b, depth + 1),
            _ => false,
        })
    }

    fn module_creates_cluster(&self, dir: &str, module: &TfBlock, depth: usize) -> bool {
        match Self::local_source(dir, module) {
            Some(child) if self.blocks.contains_key(&child) => self.creates_cluster(&child, depth),
            // Not in the run: judge a registry module by its name (terraform-aws-modules/eks/aws;
            // a `//submodule` such as `//modules/karpenter` creates no cluster).
            Some(_) => false,
            None => module
                .source
                .as_deref()
                .is_some_and(|s| !s.contains("//") && s.split('/').any(|part| part == "eks")),
        }
    }

    /// The cluster of this apply that `reference` (in module `dir`) comes from, if any.
    fn cluster_of(
        &self,
        dir: &str,
        reference: &str,
        seen: &mut BTreeSet<String>,
    ) -> Option<String> {
        if !seen.insert(reference.to_string()) || seen.len() > 256 {
            return None;
        }
        let parts: Vec<&str> = reference.split('.').collect();
        match parts.as_slice() {
            ["module", name] => {
                let module = self.find(dir, TfBlockKind::Module, "", name)?;
                self.module_creates_cluster(dir, module, 0)
                    .then(|| reference.to_string())
            }
            ["aws_eks_cluster", name] => self
                .find(dir, TfBlockKind::Resource, "aws_eks_cluster", name)
                .map(|_| reference.to_string()),
            [
                "data",
                kind @ ("aws_eks_cluster" | "aws_eks_cluster_auth"),
                name,
            ] => {
                let data = self.find(dir, TfBlockKind::Data, kind, name)?;
                data.references
                    .iter()
                    .find_map(|r| self.cluster_of(dir, r, seen))
            }
            ["local", name] => self.of(dir).iter().find_map(|(_, _, b)| {
                let (_, refs) = b.locals.iter().find(|(n, _)| n == name)?;
                refs.iter().find_map(|r| self.cluster_of(dir, r, seen))
            }),
            _ => None,
        }
    }

    /// The `kubernetes` provider configurations of module `dir` that the same apply's cluster
    /// configures: provider address -> cluster reference.
    fn providers(&self, dir: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (_, _, b) in self.of(dir) {
            if b.kind != TfBlockKind::Provider || b.type_name != "kubernetes" {
                continue;
            }
            let cluster = b
                .references
                .iter()
                .find_map(|r| self.cluster_of(dir, r, &mut BTreeSet::new()));
            if let Some(cluster) = cluster {
                out.insert(b.address(), cluster);
            }
        }
        out
    }
}

/// Every `kubernetes_manifest` of the run that `TF001` is about.
#[must_use]
pub fn plan_time_manifests(repo: &Repository) -> Vec<PlanTimeManifest> {
    let modules = Modules::new(repo);
    let mut out: Vec<PlanTimeManifest> = Vec::new();
    for dir in modules.blocks.keys() {
        let providers = modules.providers(dir);
        if providers.is_empty() {
            continue;
        }
        // The root's default `kubernetes` provider reaches child modules that do not get
        // another through `providers = { ... }`.
        walk(&modules, dir, dir, "", &providers, None, 0, &mut out);
    }
    out.sort_by_key(|a| (a.file, a.block));
    out.dedup_by(|a, b| a.file == b.file && a.block == b.block);
    out
}

/// Reports the manifests of module `dir` (called as `prefix` from `root`); `inherited` is the
/// root provider the module's default `kubernetes` provider stands for.
#[expect(clippy::too_many_arguments, reason = "a recursive walk and its state")]
fn walk(
    modules: &Modules<'_>,
    root: &str,
    dir: &str,
    prefix: &str,
    providers: &BTreeMap<String, String>,
    inherited: Option<&str>,
    depth: usize,
    out: &mut Vec<PlanTimeManifest>,
) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    let resolve = |local: &str| -> Option<String> {
        if depth == 0 {
            Some(local.to_string())
        } else if local == "kubernetes" {
            inherited.map(str::to_string)
        } else {
            None
        }
    };
    for &(file, block, b) in modules.of(dir) {
        match b.kind {
            TfBlockKind::Resource if b.type_name == "kubernetes_manifest" => {
                let local = b
                    .provider
                    .clone()
                    .unwrap_or_else(|| "kubernetes".to_string());
                let Some(provider) = resolve(&local) else {
                    continue;
                };
                if let Some(cluster) = providers.get(&provider) {
                    out.push(PlanTimeManifest {
                        file,
                        block,
                        address: format!("{prefix}{}", b.address()),
                        provider,
                        cluster: cluster.clone(),
                        root: root.to_string(),
                    });
                }
            }
            TfBlockKind::Module => {
                let Some(child) = Modules::local_source(dir, b) else {
                    continue;
                };
                let passed = b
                    .providers
                    .iter()
                    .find(|(k, _)| k == "kubernetes")
                    .map(|(_, v)| v.clone())
                    .or_else(|| Some("kubernetes".to_string()));
                let Some(parent_provider) = passed.and_then(|p| resolve(&p)) else {
                    continue;
                };
                walk(
                    modules,
                    root,
                    &child,
                    &format!("{prefix}module.{}.", b.name),
                    providers,
                    Some(&parent_provider),
                    depth + 1,
                    out,
                );
            }
            _ => {}
        }
    }
}

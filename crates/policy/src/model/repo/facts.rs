//! Per-file facts: what the ordering rules need from one file, owned and small, so that a file's
//! document trees can be dropped once its facts are taken.
//!
//! Field meanings follow the upstream APIs: Flux `kustomize.toolkit.fluxcd.io/v1`
//! (fluxcd/kustomize-controller `api/v1/kustomization_types.go`), `helm.toolkit.fluxcd.io/v2`
//! (fluxcd/helm-controller `api/v2/helmrelease_types.go`), `source.extensions.fluxcd.io/v1beta1`
//! ArtifactGenerator (fluxcd/source-watcher `docs/spec/v1beta1/artifactgenerators.md`), Argo CD
//! `argoproj.io/v1alpha1` Application (argo-cd `docs/user-guide/*.md`) and kustomize's
//! `kustomization.yaml`.

use crate::node::{Node, Span};
use crate::source::{Document, TerraformFacts};

use super::paths;

/// Argo CD's sync-wave annotation (wave 0 when absent).
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Argo CD's per-resource sync options annotation.
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// The sync option that lets a custom resource through the dry run while its CRD is missing.
pub const SKIP_DRY_RUN: &str = "SkipDryRunOnMissingResource=true";

/// Everything the repository model takes from one file of the run.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Index of the file in the run.
    pub file: usize,
    /// The file's name, normalised (see [`paths::normalize`]).
    pub path: String,
    /// Every Kubernetes-style object of the file (documents with `apiVersion` and `kind`).
    pub objects: Vec<Object>,
    /// The file's kustomization, when it is a `kustomization.yaml`.
    pub kustomization: Option<KustomizeFile>,
    /// What a `.tf` file says about providers, modules and clusters.
    pub terraform: Option<TerraformFacts>,
}

/// One object, reduced to its identity, where to point at it, and its role in ordering.
#[derive(Clone, Debug)]
pub struct Object {
    /// 0-based index of the document in its file.
    pub document: usize,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The `kind` value: where an ordering finding about the object points.
    pub anchor: Span,
    /// The JSON pointer of the anchor.
    pub anchor_pointer: String,
    /// `eksgate.dev/ignore`, for suppression.
    pub ignore: Option<String>,
    /// `argocd.argoproj.io/sync-wave`, when it is an integer.
    pub sync_wave: Option<i64>,
    /// `SkipDryRunOnMissingResource=true` in the object's `argocd.argoproj.io/sync-options`.
    pub skip_dry_run: bool,
    /// For a NodePool: the group of its `nodeClassRef` (`eks.amazonaws.com` for Auto Mode).
    pub node_class_group: Option<String>,
    pub role: Role,
}

impl Object {
    /// The API group (`karpenter.sh`; empty for core `v1`).
    #[must_use]
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// `kind/name` for messages.
    #[must_use]
    pub fn display(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => format!("{}/{ns}/{name}", self.kind),
            (None, Some(name)) => format!("{}/{name}", self.kind),
            _ => self.kind.clone(),
        }
    }

    /// Whether an ordering rule can have anything to say about the object. Objects of the
    /// built-in groups without a dot (core `v1`, `apps`, `batch`, `policy`, ...) that play no
    /// role in ordering cannot: no CRD can serve such a group (the API server refuses a CRD
    /// whose `spec.group` is not a domain with a dot: apiextensions-apiserver
    /// `ValidateCustomResourceDefinitionSpec`), so nothing has to be installed before them.
    /// Leaving them out keeps a run's facts to a few objects per file, not one per document
    /// (most of a repository is Deployments, Services and ConfigMaps).
    #[must_use]
    pub fn may_need_ordering(&self) -> bool {
        !matches!(self.role, Role::Other) || self.group().contains('.')
    }

    /// Whether the object is part of kustomize's configuration, never applied.
    #[must_use]
    pub fn is_kustomize_config(&self) -> bool {
        self.group() == "kustomize.config.k8s.io"
    }
}

/// What an object does for ordering.
#[derive(Clone, Debug)]
pub enum Role {
    FluxKustomization(Box<FluxKustomization>),
    HelmRelease(Box<HelmRelease>),
    /// A Flux source whose artifact names a chart (`OCIRepository`, `HelmChart`).
    ChartSource {
        chart: Option<String>,
    },
    ArtifactGenerator(Box<ArtifactGenerator>),
    Application(Box<Application>),
    Crd {
        group: String,
        kind: String,
    },
    Other,
}

/// A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`).
#[derive(Clone, Debug, Default)]
pub struct FluxKustomization {
    /// `spec.path` as written (`None` = the source's root).
    pub path: Option<String>,
    pub source: SourceRef,
    pub depends_on: Vec<DependsOn>,
    pub wait: bool,
    pub health_checks: Vec<ObjectRef>,
    pub suspend: bool,
    pub target_namespace: Option<String>,
    /// `spec.kubeConfig` is set: it applies to another cluster.
    pub remote: bool,
}

/// `spec.sourceRef`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// One `spec.dependsOn` entry.
#[derive(Clone, Debug)]
pub struct DependsOn {
    pub name: String,
    /// Defaults to the dependent's own namespace (kustomize-controller `checkDependencies`).
    pub namespace: Option<String>,
    /// `readyExpr` replaces the built-in readiness check.
    pub ready_expr: bool,
    /// The entry, where `ORD002` and `ORD003` point.
    pub span: Span,
    pub pointer: String,
}

/// An object reference of `healthChecks`.
#[derive(Clone, Debug)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A Flux `HelmRelease`.
#[derive(Clone, Debug, Default)]
pub struct HelmRelease {
    /// `spec.chart.spec.chart` (a name, or a path in a Git source).
    pub chart: Option<String>,
    /// `spec.chartRef`: the source that names the chart.
    pub chart_ref: Option<SourceRef>,
    /// `spec.install.crds`: `Skip` installs none of the chart's `crds/` (default `Create`).
    pub skip_crds: bool,
    pub target_namespace: Option<String>,
    /// `spec.kubeConfig` is set: it installs into another cluster.
    pub remote: bool,
}

/// A Flux `ArtifactGenerator`: ExternalArtifacts assembled from other sources.
#[derive(Clone, Debug, Default)]
pub struct ArtifactGenerator {
    /// `spec.sources`: alias -> source.
    pub sources: Vec<(String, SourceRef)>,
    /// `spec.artifacts`: the ExternalArtifact's name and its copy operations (`from`, `to`).
    pub artifacts: Vec<(String, Vec<(String, String)>)>,
}

/// An Argo CD `Application` (or the template of an `ApplicationSet`).
#[derive(Clone, Debug, Default)]
pub struct Application {
    pub sources: Vec<AppSource>,
    /// `spec.destination.server` or `.name`.
    pub destination: Option<String>,
    /// `SkipDryRunOnMissingResource=true` in `spec.syncPolicy.syncOptions`.
    pub skip_dry_run: bool,
    /// The template of an `ApplicationSet`: its Applications are generated.
    pub generated: bool,
}

/// One `spec.source` (or `spec.sources[]`).
#[derive(Clone, Debug, Default)]
pub struct AppSource {
    pub repo_url: Option<String>,
    pub path: Option<String>,
    pub chart: Option<String>,
    /// `directory.recurse`.
    pub recurse: bool,
    /// `helm.skipCrds`.
    pub skip_crds: bool,
}

/// A `kustomization.yaml`.
#[derive(Clone, Debug, Default)]
pub struct KustomizeFile {
    /// `resources`, `components` and `bases`, as written.
    pub resources: Vec<String>,
    /// `namespace`: set on every namespaced resource.
    pub namespace: Option<String>,
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_str).map(str::to_string)
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .map(str::to_string)
        .collect()
}

fn source_ref(node: Option<&Node>) -> SourceRef {
    SourceRef {
        kind: text(node.and_then(|n| n.get("kind"))).unwrap_or_default(),
        name: text(node.and_then(|n| n.get("name"))).unwrap_or_default(),
        namespace: text(node.and_then(|n| n.get("namespace"))),
    }
}

impl FileFacts {
    /// The facts of one file: `name` as the user gave it, `documents` as read from it.
    #[must_use]
    pub fn extract(
        file: usize,
        name: &str,
        documents: &[Document],
        terraform: Option<TerraformFacts>,
    ) -> Self {
        let path = paths::normalize(name);
        let mut facts = FileFacts {
            file,
            objects: Vec::new(),
            kustomization: None,
            terraform,
            path,
        };
        let is_kustomization = paths::is_kustomization_file(&facts.path);
        for doc in documents.iter().filter(|d| d.file == file) {
            if is_kustomization && facts.kustomization.is_none() {
                facts.kustomization = Some(kustomize_file(&doc.root));
            }
            if let Some(object) = Object::from_document(doc)
                && (facts.terraform.is_some() || object.may_need_ordering())
            {
                facts.objects.push(object);
            }
        }
        // Facts live for the whole run, one per file: no room to spare.
        facts.objects.shrink_to_fit();
        facts
    }
}

fn kustomize_file(root: &Node) -> KustomizeFile {
    let mut resources = strings(root.get("resources"));
    resources.extend(strings(root.get("components")));
    resources.extend(strings(root.get("bases")));
    KustomizeFile {
        resources,
        namespace: text(root.get("namespace")),
    }
}

impl Object {
    /// The object a document holds, if it is one (`apiVersion` and `kind` are strings).
    #[must_use]
    pub fn from_document(doc: &Document) -> Option<Self> {
        let api_version = doc.api_version()?.to_string();
        let kind_node = doc.root.get("kind")?;
        let kind = kind_node.as_str()?.to_string();
        let annotations = doc.root.path(&["metadata", "annotations"]);
        let annotation = |key: &str| annotations.and_then(|a| a.get(key));
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let spec = doc.root.get("spec");
        let role = match (group, kind.as_str()) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                Role::FluxKustomization(Box::new(flux_kustomization(doc, spec)))
            }
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                Role::HelmRelease(Box::new(helm_release(spec)))
            }
            ("source.toolkit.fluxcd.io", "OCIRepository") => Role::ChartSource {
                chart: text(spec.and_then(|s| s.get("url")))
                    .map(|url| paths::file_name(url.trim_end_matches('/')).to_string()),
            },
            ("source.toolkit.fluxcd.io", "HelmChart") => Role::ChartSource {
                chart: text(spec.and_then(|s| s.get("chart")))
                    .map(|c| paths::file_name(c.trim_end_matches('/')).to_string()),
            },
            ("source.extensions.fluxcd.io", "ArtifactGenerator") => {
                Role::ArtifactGenerator(Box::new(artifact_generator(spec)))
            }
            ("argoproj.io", "Application") => Role::Application(Box::new(application(spec, false))),
            ("argoproj.io", "ApplicationSet") => Role::Application(Box::new(application(
                spec.and_then(|s| s.path(&["template", "spec"])),
                true,
            ))),
            ("apiextensions.k8s.io", "CustomResourceDefinition") => Role::Crd {
                group: text(spec.and_then(|s| s.get("group"))).unwrap_or_default(),
                kind: text(spec.and_then(|s| s.path(&["names", "kind"]))).unwrap_or_default(),
            },
            _ => Role::Other,
        };
        let node_class_group = if group == "karpenter.sh" && kind == "NodePool" {
            text(spec.and_then(|s| s.path(&["template", "spec", "nodeClassRef", "group"])))
        } else {
            None
        };
        Some(Object {
            document: doc.index,
            name: doc.name().map(str::to_string),
            namespace: doc.namespace().map(str::to_string),
            anchor: kind_node.span,
            anchor_pointer: doc.pointer(kind_node),
            ignore: text(annotation(crate::diagnostic::IGNORE_ANNOTATION)),
            sync_wave: annotation(SYNC_WAVE).and_then(|w| {
                w.as_i64()
                    .or_else(|| w.as_str().and_then(|s| s.trim().parse().ok()))
            }),
            skip_dry_run: annotation(SYNC_OPTIONS)
                .and_then(Node::as_str)
                .is_some_and(|o| o.split(',').any(|x| x.trim() == SKIP_DRY_RUN)),
            node_class_group,
            role,
            api_version,
            kind,
        })
    }
}

fn flux_kustomization(doc: &Document, spec: Option<&Node>) -> FluxKustomization {
    let get = |key: &str| spec.and_then(|s| s.get(key));
    let depends_on = get("dependsOn")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            Some(DependsOn {
                name: entry.get("name")?.as_str()?.to_string(),
                namespace: text(entry.get("namespace")),
                ready_expr: entry.get("readyExpr").is_some(),
                span: entry.span,
                pointer: doc.pointer(entry),
            })
        })
        .collect();
    let health_checks = get("healthChecks")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            Some(ObjectRef {
                kind: entry.get("kind")?.as_str()?.to_string(),
                name: entry.get("name")?.as_str()?.to_string(),
                namespace: text(entry.get("namespace")),
            })
        })
        .collect();
    FluxKustomization {
        path: text(get("path")),
        source: source_ref(get("sourceRef")),
        depends_on,
        wait: get("wait").and_then(Node::as_bool).unwrap_or(false),
        health_checks,
        suspend: get("suspend").and_then(Node::as_bool).unwrap_or(false),
        target_namespace: text(get("targetNamespace")),
        remote: get("kubeConfig").is_some_and(|k| !k.is_null()),
    }
}

fn helm_release(spec: Option<&Node>) -> HelmRelease {
    let get = |path: &[&str]| spec.and_then(|s| s.path(path));
    HelmRelease {
        chart: text(get(&["chart", "spec", "chart"])),
        chart_ref: get(&["chartRef"]).map(|r| source_ref(Some(r))),
        skip_crds: text(get(&["install", "crds"])).is_some_and(|c| c == "Skip"),
        target_namespace: text(get(&["targetNamespace"])),
        remote: get(&["kubeConfig"]).is_some_and(|k| !k.is_null()),
    }
}

fn artifact_generator(spec: Option<&Node>) -> ArtifactGenerator {
    let sources = spec
        .and_then(|s| s.get("sources"))
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Some((s.get("alias")?.as_str()?.to_string(), source_ref(Some(s)))))
        .collect();
    let artifacts = spec
        .and_then(|s| s.get("artifacts"))
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let copies = a
                .get("copy")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| {
                    Some((
                        c.get("from")?.as_str()?.to_string(),
                        c.get("to")?.as_str()?.to_string(),
                    ))
                })
                .collect();
            Some((a.get("name")?.as_str()?.to_string(), copies))
        })
        .collect();
    ArtifactGenerator { sources, artifacts }
}

fn application(spec: Option<&Node>, generated: bool) -> Application {
    let get = |path: &[&str]| spec.and_then(|s| s.path(path));
    let source = |node: &Node| AppSource {
        repo_url: text(node.get("repoURL")),
        path: text(node.get("path")),
        chart: text(node.get("chart")),
        recurse: node
            .path(&["directory", "recurse"])
            .and_then(Node::as_bool)
            .unwrap_or(false),
        skip_crds: node
            .path(&["helm", "skipCrds"])
            .and_then(Node::as_bool)
            .unwrap_or(false),
    };
    let mut sources: Vec<AppSource> = get(&["source"]).map(source).into_iter().collect();
    sources.extend(
        get(&["sources"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(source),
    );
    Application {
        sources,
        destination: text(get(&["destination", "server"]))
            .or_else(|| text(get(&["destination", "name"]))),
        skip_dry_run: get(&["syncPolicy", "syncOptions"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .any(|o| o.trim() == SKIP_DRY_RUN),
        generated,
    }
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::panic,
        reason = "tests"
    )]
    use super::*;
    use crate::source::{Limits, SourceFile, load};

    fn facts(name: &str, text: &str) -> FileFacts {
        let source = SourceFile::new(name, text);
        let loaded = load(0, &source, &Limits::default());
        FileFacts::extract(0, name, &loaded.documents, loaded.terraform)
    }

    #[test]
    fn flux_kustomization_facts() {
        let f = facts(
            "./clusters/prod/infra.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: configs, namespace: flux-system}\nspec:\n  dependsOn:\n    - name: controllers\n  path: ./infrastructure/configs\n  sourceRef: {kind: GitRepository, name: flux-system}\n  wait: true\n",
        );
        assert_eq!(f.path, "clusters/prod/infra.yaml");
        let o = &f.objects[0];
        let Role::FluxKustomization(k) = &o.role else {
            panic!("{:?}", o.role)
        };
        assert_eq!(k.path.as_deref(), Some("./infrastructure/configs"));
        assert!(k.wait);
        assert_eq!(k.depends_on[0].name, "controllers");
        assert_eq!(k.depends_on[0].pointer, "/spec/dependsOn/0");
        assert_eq!(o.anchor_pointer, "/kind");
    }

    #[test]
    fn kustomization_yaml_and_argo_facts() {
        let f = facts(
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources: [a.yaml, ../base]\n",
        );
        let k = f.kustomization.unwrap();
        assert_eq!(k.resources, vec!["a.yaml", "../base"]);
        assert_eq!(k.namespace.as_deref(), Some("shop"));
        assert!(f.objects[0].is_kustomize_config());
        let f = facts(
            "apps/karpenter.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: pools\n  annotations: {argocd.argoproj.io/sync-wave: \"2\"}\nspec:\n  source: {repoURL: x, path: k8s/pools}\n  syncPolicy: {syncOptions: [SkipDryRunOnMissingResource=true]}\n",
        );
        let o = &f.objects[0];
        assert_eq!(o.sync_wave, Some(2));
        let Role::Application(app) = &o.role else {
            panic!()
        };
        assert!(app.skip_dry_run);
        assert_eq!(app.sources[0].path.as_deref(), Some("k8s/pools"));
    }
}

//! The repository model: which GitOps object applies which file of the run, in what order, and
//! who installs the CRDs that objects need. The ordering rules (`ORD001`-`ORD004`, `TF001`) and
//! `eksgate graph` read it.
//!
//! It is built in two steps that match a two-phase check: [`FileFacts::extract`] takes what it
//! needs from one file's documents (owned, small; the trees can be dropped afterwards), and
//! [`Repository::new`] joins the facts of every file of the run.
//!
//! Semantics, and where they come from:
//! - A Flux `Kustomization` applies `spec.path` of its source: the `kustomization.yaml` there,
//!   or, without one, every `*.yaml`/`*.yml` below it, a subdirectory that has its own
//!   kustomization counting as one resource (fluxcd/pkg `kustomize/kustomize_generator.go`,
//!   `scanManifests`). Paths are relative to the source's root, which is found as the
//!   shallowest directory of the run under which the path exists. `ExternalArtifact` sources
//!   are followed through the `ArtifactGenerator` copy operations that build them.
//! - `dependsOn` names a Kustomization in the dependent's namespace unless it says otherwise
//!   (kustomize-controller `checkDependencies`); a dependent is applied only once its
//!   dependencies are `Ready`. `Ready` means applied, unless `wait: true` or `healthChecks`
//!   make the controller wait for the objects' health (kustomizations.md, "Dependencies").
//! - CRDs inside one Kustomization are applied first and waited for (fluxcd/pkg
//!   `ssa/manager_apply.go`, `ApplyAllStaged`); a HelmRelease only installs its chart later,
//!   in helm-controller.
//! - An Argo CD `Application` applies `source.path`: kustomize, or the plain manifests of that
//!   directory (recursively only with `directory.recurse`). Child Applications of an
//!   app-of-apps are synced in the order of their `argocd.argoproj.io/sync-wave`.
//! - Objects of repositories that hold several clusters (`clusters/<name>/`) are kept apart by
//!   *scope*: the directory of the root of the applier chain that applies them.

pub mod facts;
pub mod graph;
pub mod ordering;
mod ownership;
pub mod paths;
mod providers;
pub mod terraform;

use std::collections::{BTreeMap, BTreeSet};

pub use facts::{
    Application, DependsOn, FileFacts, FluxKustomization, HelmRelease, Object, Role, SourceRef,
};

use crate::diagnostic::Subject;
use crate::model::crd_providers::CrdProvider;

/// Where an object is: the position of its file in [`Repository::files`] and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    pub file: usize,
    pub object: usize,
}

/// What kind of object applies files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplierKind {
    /// A Flux `Kustomization`.
    Flux,
    /// An Argo CD `Application` (or an `ApplicationSet`'s template).
    Argo,
}

/// A Flux Kustomization or an Argo CD Application, and what it applies.
#[derive(Clone, Debug)]
pub struct Applier {
    pub kind: ApplierKind,
    pub id: ObjectId,
    pub name: String,
    /// Its namespace as applied (`metadata.namespace`, or what its applier sets), if known.
    pub namespace: Option<String>,
    /// The directory it applies, when that is in the run.
    pub dir: Option<String>,
    /// Positions of the files it applies, each with the namespace kustomize sets on them.
    pub files: Vec<(usize, Option<String>)>,
    /// The appliers that apply this one's own file.
    pub owners: Vec<usize>,
    /// The directory of the root of its applier chain: appliers of one cluster share it.
    pub scope: String,
    /// Per `dependsOn` entry (same order): the Kustomizations it names, as found in the run.
    pub depends_on: Vec<Vec<usize>>,
    /// Argo CD sync wave (0 when unset).
    pub wave: i64,
}

impl Applier {
    /// `namespace/name` (or `name`).
    #[must_use]
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `Kustomization` or `Application`.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ApplierKind::Flux => "Kustomization",
            ApplierKind::Argo => "Application",
        }
    }
}

/// Who installs CRDs for some API groups.
#[derive(Clone, Debug)]
pub struct Provider {
    pub groups: Vec<String>,
    /// The kinds it installs, when known (a CRD file); `None` = every kind of its groups.
    pub kinds: Option<Vec<String>>,
    pub source: ProviderSource,
    /// The appliers that apply it.
    pub appliers: Vec<usize>,
}

/// What a provider is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderSource {
    /// A `CustomResourceDefinition` in the run.
    Crd(ObjectId),
    /// A Flux HelmRelease of a chart that installs CRDs.
    HelmRelease { id: ObjectId, chart: String },
    /// A Kustomization or Application that installs them (by policy, or by its chart).
    Applier(usize),
}

/// The Karpenter charts and what their CRDs define (aws/karpenter-provider-aws `charts/`:
/// `karpenter` ships them in `crds/`, which `install.crds: Skip` leaves out; `karpenter-crd` in
/// `templates/`, always installed).
const KARPENTER_GROUPS: &[&str] = &["karpenter.sh", "karpenter.k8s.aws"];

/// The groups a chart's CRDs define, per what eksgate knows and the policy says.
fn chart_groups(chart: &str, skip_crds: bool, policy: &[CrdProvider]) -> Vec<String> {
    let mut groups: Vec<String> = match chart {
        "karpenter" if !skip_crds => KARPENTER_GROUPS.iter().map(|g| (*g).to_string()).collect(),
        "karpenter-crd" => KARPENTER_GROUPS.iter().map(|g| (*g).to_string()).collect(),
        _ => Vec::new(),
    };
    for p in policy.iter().filter(|p| p.name == chart) {
        groups.extend(p.groups.iter().cloned());
    }
    groups
}

/// Every file of the run, and what applies it.
#[derive(Clone, Debug, Default)]
pub struct Repository {
    pub files: Vec<FileFacts>,
    pub appliers: Vec<Applier>,
    /// Per file position: the appliers that apply it.
    pub applied_by: Vec<Vec<usize>>,
    pub providers: Vec<Provider>,
    dirs: BTreeSet<String>,
    by_path: BTreeMap<String, usize>,
    /// Directory -> positions of the files directly in it.
    children: BTreeMap<String, Vec<usize>>,
    /// Directory -> position of its kustomization file.
    kustomizations: BTreeMap<String, usize>,
}

/// Deepest chain of kustomizations followed (kustomize itself has no such limit; a cycle or a
/// hostile repository must not cost unbounded time).
const MAX_KUSTOMIZE_DEPTH: usize = 64;

impl Repository {
    /// Joins the facts of every file of a run. `providers` is the policy's `crdProviders`.
    #[must_use]
    pub fn new(mut files: Vec<FileFacts>, providers: &[CrdProvider]) -> Self {
        files.sort_by_key(|f| f.file);
        let mut repo = Repository {
            applied_by: vec![Vec::new(); files.len()],
            ..Repository::default()
        };
        for (pos, f) in files.iter().enumerate() {
            let dir = paths::parent(&f.path).to_string();
            for anc in paths::ancestors(&dir) {
                repo.dirs.insert(anc);
            }
            repo.by_path.insert(f.path.clone(), pos);
            if f.kustomization.is_some() {
                repo.kustomizations.entry(dir.clone()).or_insert(pos);
            }
            repo.children.entry(dir).or_default().push(pos);
        }
        repo.files = files;
        repo.find_appliers();
        repo.resolve_dirs(false);
        repo.own();
        // A Kustomization whose source is not its owner's (another repository, say) names a
        // path of that source, not of this run.
        repo.resolve_dirs(true);
        repo.own();
        repo.scope();
        repo.resolve_depends_on();
        repo.find_providers(providers);
        repo
    }

    /// The object at `id`.
    #[must_use]
    pub fn object(&self, id: ObjectId) -> Option<&Object> {
        self.files.get(id.file)?.objects.get(id.object)
    }

    /// The Flux spec of an applier.
    #[must_use]
    pub fn flux(&self, applier: usize) -> Option<&FluxKustomization> {
        let a = self.appliers.get(applier)?;
        match &self.object(a.id)?.role {
            Role::FluxKustomization(k) => Some(k),
            _ => None,
        }
    }

    /// The Argo CD spec of an applier.
    #[must_use]
    pub fn application(&self, applier: usize) -> Option<&Application> {
        let a = self.appliers.get(applier)?;
        match &self.object(a.id)?.role {
            Role::Application(app) => Some(app),
            _ => None,
        }
    }

    /// What a finding about the object at `id` is about.
    #[must_use]
    pub fn subject(&self, id: ObjectId) -> Option<Subject<'_>> {
        let file = self.files.get(id.file)?;
        let object = file.objects.get(id.object)?;
        Some(Subject {
            file: file.file,
            document: object.document,
            kind: Some(object.kind.as_str()),
            name: object.name.as_deref(),
            ignore: object.ignore.as_deref(),
        })
    }

    /// How messages name applier `a`: `namespace/name`, with the file that defines it when
    /// another applier of the run has the same name (one per cluster of a fleet).
    #[must_use]
    pub fn label(&self, a: usize) -> String {
        let Some(applier) = self.appliers.get(a) else {
            return String::new();
        };
        let name = applier.display();
        let twins = self
            .appliers
            .iter()
            .filter(|x| x.kind == applier.kind && x.display() == name)
            .count();
        if twins > 1 {
            format!("{name}` in `{}", self.path(applier.id.file))
        } else {
            name
        }
    }

    /// The file name (normalised) of a file position.
    #[must_use]
    pub fn path(&self, file: usize) -> &str {
        self.files.get(file).map_or("", |f| f.path.as_str())
    }

    fn find_appliers(&mut self) {
        for (pos, f) in self.files.iter().enumerate() {
            for (i, o) in f.objects.iter().enumerate() {
                let kind = match &o.role {
                    Role::FluxKustomization(_) => ApplierKind::Flux,
                    Role::Application(_) => ApplierKind::Argo,
                    _ => continue,
                };
                self.appliers.push(Applier {
                    kind,
                    id: ObjectId {
                        file: pos,
                        object: i,
                    },
                    name: o.name.clone().unwrap_or_default(),
                    namespace: o.namespace.clone(),
                    dir: None,
                    files: Vec::new(),
                    owners: Vec::new(),
                    scope: String::new(),
                    depends_on: Vec::new(),
                    wave: o.sync_wave.unwrap_or(0),
                });
            }
        }
    }

    /// The providers of the CRD of `object`'s kind.
    #[must_use]
    pub fn providers_for(&self, object: &Object) -> Vec<usize> {
        let group = object.group();
        self.providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.groups.iter().any(|g| g == group))
            .filter(|(_, p)| p.kinds.as_ref().is_none_or(|k| k.contains(&object.kind)))
            .map(|(i, _)| i)
            .collect()
    }

    /// Kinds that exist with the cluster: EKS Auto Mode's `eks.amazonaws.com` kinds, and its
    /// `karpenter.sh` NodePools (those that use an Auto Mode NodeClass).
    #[must_use]
    pub fn is_builtin(object: &Object) -> bool {
        let group = object.group();
        group == "eks.amazonaws.com"
            || (group == "karpenter.sh"
                && object.kind == "NodePool"
                && object.node_class_group.as_deref() == Some("eks.amazonaws.com"))
    }

    /// Every Kustomization `a` depends on, directly or not, each with the index of the
    /// `dependsOn` entry of `a` through which it is first reached.
    #[must_use]
    pub fn dependencies(&self, a: usize) -> BTreeMap<usize, usize> {
        let mut out = BTreeMap::new();
        let Some(applier) = self.appliers.get(a) else {
            return out;
        };
        let mut queue: Vec<(usize, usize)> = Vec::new();
        for (entry, targets) in applier.depends_on.iter().enumerate() {
            for &t in targets {
                queue.push((t, entry));
            }
        }
        let mut head = 0;
        while let Some(&(node, entry)) = queue.get(head) {
            head += 1;
            if out.contains_key(&node) {
                continue;
            }
            out.insert(node, entry);
            if let Some(next) = self.appliers.get(node) {
                for targets in &next.depends_on {
                    for &t in targets {
                        queue.push((t, entry));
                    }
                }
            }
        }
        out
    }

    /// Whether Flux applier `a`'s `Ready` means that provider `p` has installed its CRDs.
    #[must_use]
    pub fn waits_for(&self, a: usize, p: &Provider) -> bool {
        match &p.source {
            // Applied and established in the apply stage before anything else.
            ProviderSource::Crd(_) => true,
            // A Kustomization the policy names: how it installs them is its own business.
            ProviderSource::Applier(_) => true,
            ProviderSource::HelmRelease { id, .. } => {
                let Some(k) = self.flux(a) else { return false };
                if k.wait {
                    return true;
                }
                let Some(hr) = self.object(*id) else {
                    return false;
                };
                let hr_ns = self.applied_namespace(a, id.file).or(hr.namespace.clone());
                k.health_checks.iter().any(|check| {
                    let same_ns = match (check.namespace.as_deref(), hr_ns.as_deref()) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                    let is_hr = check.kind == "HelmRelease"
                        && hr.name.as_deref() == Some(check.name.as_str())
                        && same_ns;
                    let is_crd = check.kind == "CustomResourceDefinition"
                        && p.groups
                            .iter()
                            .any(|g| check.name.ends_with(&format!(".{g}")));
                    is_hr || is_crd
                })
            }
        }
    }

    /// The namespace applier `a` sets on the objects of file `pos`, if it sets one.
    fn applied_namespace(&self, a: usize, pos: usize) -> Option<String> {
        self.appliers
            .get(a)?
            .files
            .iter()
            .find(|(f, _)| *f == pos)?
            .1
            .clone()
    }

    /// Human name of a provider: `HelmRelease karpenter/karpenter (chart karpenter)`.
    #[must_use]
    pub fn provider_display(&self, p: &Provider) -> String {
        match &p.source {
            ProviderSource::Crd(id) => self
                .object(*id)
                .map(|o| {
                    format!(
                        "CustomResourceDefinition `{}`",
                        o.name.as_deref().unwrap_or("?")
                    )
                })
                .unwrap_or_default(),
            ProviderSource::HelmRelease { id, chart } => self
                .object(*id)
                .map(|o| {
                    let name = match (&o.namespace, &o.name) {
                        (Some(ns), Some(n)) => format!("{ns}/{n}"),
                        (_, Some(n)) => n.clone(),
                        _ => "?".to_string(),
                    };
                    format!("HelmRelease `{name}` of chart `{chart}`")
                })
                .unwrap_or_default(),
            ProviderSource::Applier(a) => self
                .appliers
                .get(*a)
                .map(|x| format!("{} `{}`", x.kind_name(), self.label(*a)))
                .unwrap_or_default(),
        }
    }

    /// The Argo CD Application that applies `a`'s own file (its app-of-apps parent).
    #[must_use]
    pub fn parent_app(&self, a: usize) -> Option<usize> {
        self.appliers.get(a)?.owners.iter().copied().find(|&o| {
            self.appliers
                .get(o)
                .is_some_and(|x| x.kind == ApplierKind::Argo)
        })
    }

    /// Whether Argo CD syncs Application `first` before Application `then`: under their
    /// nearest common parent, `first`'s branch has a lower sync wave.
    #[must_use]
    pub fn synced_before(&self, first: usize, then: usize) -> bool {
        let chain = |mut a: usize| {
            let mut out = vec![a];
            let mut seen = BTreeSet::from([a]);
            while let Some(p) = self.parent_app(a) {
                if !seen.insert(p) {
                    break;
                }
                out.push(p);
                a = p;
            }
            out
        };
        let (cf, ct) = (chain(first), chain(then));
        for (i, anc) in cf.iter().enumerate().skip(1) {
            if let Some(j) = ct.iter().position(|x| x == anc) {
                let (Some(&bf), Some(&bt)) = (cf.get(i - 1), ct.get(j.wrapping_sub(1))) else {
                    // `then` is an ancestor of `first`: a parent syncs its children later.
                    return false;
                };
                let wave = |x: usize| self.appliers.get(x).map_or(0, |a| a.wave);
                return wave(bf) < wave(bt);
            }
        }
        false
    }
}

/// Whether a path holds a substitution (`${var}` of Flux postBuild or envsubst, `{{path}}` of an
/// ApplicationSet): it is known only when applied.
fn has_placeholder(path: &str) -> bool {
    path.contains("${") || path.contains("{{")
}

fn nested_inside_other(
    dir: &str,
    below: &[String],
    kustomizations: &BTreeMap<String, usize>,
) -> bool {
    below
        .iter()
        .any(|d| d != dir && kustomizations.contains_key(d.as_str()) && paths::is_within(dir, d))
}

/// A path inside an artifact, mapped through one copy operation to the repository path it
/// comes from (see [`Repository::artifact_path`]).
fn map_copy(
    generator: &facts::ArtifactGenerator,
    from: &str,
    to: &str,
    path: &str,
) -> Option<String> {
    let spec = from.strip_prefix('@')?;
    let (alias, source_path) = spec.split_once('/').unwrap_or((spec, ""));
    let (_, source) = generator.sources.iter().find(|(a, _)| a == alias)?;
    if !matches!(
        source.kind.as_str(),
        "GitRepository" | "OCIRepository" | "Bucket"
    ) {
        return None;
    }
    let dest = paths::normalize(to.strip_prefix("@artifact")?.trim_start_matches('/'));
    let (src_dir, dest_dir) = if let Some(dir) = source_path.strip_suffix("**") {
        (paths::normalize(dir), dest)
    } else if source_path.ends_with('/') || source_path.is_empty() {
        let dir = paths::normalize(source_path);
        let sub = paths::join(&dest, paths::file_name(&dir));
        (dir, sub)
    } else {
        return None;
    };
    if has_placeholder(&src_dir) || has_placeholder(&dest_dir) || !paths::is_within(path, &dest_dir)
    {
        return None;
    }
    let rest = path.strip_prefix(dest_dir.as_str()).unwrap_or(path);
    Some(paths::join(&src_dir, rest.trim_start_matches('/')))
}

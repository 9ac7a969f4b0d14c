//! Which applier owns which file: Flux Kustomization paths and sources, `kustomization.yaml`
//! resources, Argo CD Application paths, and `dependsOn` between them.

use super::*;

impl Repository {
    /// The directory each applier applies. With `check_sources`, a Flux Kustomization whose
    /// source differs from the source of the Kustomization that applies it keeps none.
    pub(super) fn resolve_dirs(&mut self, check_sources: bool) {
        for a in 0..self.appliers.len() {
            let Some(applier) = self.appliers.get(a) else {
                continue;
            };
            let file_dir = paths::parent(self.path(applier.id.file)).to_string();
            let dir = match applier.kind {
                ApplierKind::Flux => {
                    let Some(k) = self.flux(a) else { continue };
                    if k.remote || check_sources && self.foreign_source(a, k) {
                        None
                    } else {
                        self.flux_repo_path(k, applier.namespace.as_deref())
                            .and_then(|p| self.find_dir(&file_dir, &p))
                    }
                }
                ApplierKind::Argo => {
                    let Some(app) = self.application(a) else {
                        continue;
                    };
                    if app.generated {
                        None
                    } else {
                        app.sources
                            .iter()
                            .filter(|s| s.chart.is_none())
                            .filter_map(|s| s.path.as_deref())
                            .filter(|p| !has_placeholder(p))
                            .find_map(|p| self.find_dir(&file_dir, &paths::normalize(p)))
                    }
                }
            };
            if let Some(applier) = self.appliers.get_mut(a) {
                applier.dir = dir;
            }
        }
    }

    pub(super) fn foreign_source(&self, a: usize, k: &FluxKustomization) -> bool {
        if k.source.kind == "ExternalArtifact" {
            return false;
        }
        let Some(owner) = self.appliers.get(a).and_then(|x| x.owners.first().copied()) else {
            return false;
        };
        let Some(parent) = self.flux(owner) else {
            return false;
        };
        let ns = |r: &SourceRef, applier: usize| {
            r.namespace
                .clone()
                .or_else(|| self.appliers.get(applier).and_then(|x| x.namespace.clone()))
        };
        !(parent.source.kind == k.source.kind
            && parent.source.name == k.source.name
            && (ns(&parent.source, owner) == ns(&k.source, a)
                || ns(&parent.source, owner).is_none()
                || ns(&k.source, a).is_none()))
    }

    /// The path a Flux Kustomization applies, relative to the repository (through the
    /// ArtifactGenerator that builds an ExternalArtifact source).
    pub(super) fn flux_repo_path(
        &self,
        k: &FluxKustomization,
        namespace: Option<&str>,
    ) -> Option<String> {
        let path = paths::normalize(k.path.as_deref().unwrap_or(""));
        if has_placeholder(&path) {
            return None;
        }
        match k.source.kind.as_str() {
            "GitRepository" | "OCIRepository" | "Bucket" => Some(path),
            "ExternalArtifact" => {
                let ns = k.source.namespace.as_deref().or(namespace);
                self.artifact_path(&k.source.name, ns, &path)
            }
            _ => None,
        }
    }

    /// Maps a path inside an ExternalArtifact to the repository path it is copied from, for
    /// the directory copies `@src/dir/**` -> `@artifact/dest/` (contents) and `@src/dir/` ->
    /// `@artifact/dest/` (as a subdirectory), from a Git, OCI or Bucket source.
    pub(super) fn artifact_path(
        &self,
        artifact: &str,
        namespace: Option<&str>,
        path: &str,
    ) -> Option<String> {
        for f in &self.files {
            for o in &f.objects {
                let Role::ArtifactGenerator(generator) = &o.role else {
                    continue;
                };
                if let (Some(want), Some(have)) = (namespace, o.namespace.as_deref())
                    && want != have
                {
                    continue;
                }
                for (name, copies) in &generator.artifacts {
                    if name != artifact {
                        continue;
                    }
                    for (from, to) in copies {
                        if let Some(mapped) = map_copy(generator, from, to, path) {
                            return Some(mapped);
                        }
                    }
                }
            }
        }
        None
    }

    /// The directory of the run that `path` (relative to a repository root) names: under the
    /// shallowest ancestor of `near` where it exists.
    pub(super) fn find_dir(&self, near: &str, path: &str) -> Option<String> {
        paths::ancestors(near)
            .into_iter()
            .map(|anc| paths::join(&anc, path))
            .find(|dir| self.dirs.contains(dir))
    }

    /// Who applies which file.
    pub(super) fn own(&mut self) {
        self.applied_by = vec![Vec::new(); self.files.len()];
        for a in 0..self.appliers.len() {
            let Some(applier) = self.appliers.get(a) else {
                continue;
            };
            let mut files = Vec::new();
            if let Some(dir) = applier.dir.clone() {
                match applier.kind {
                    ApplierKind::Flux => {
                        let target = self.flux(a).and_then(|k| k.target_namespace.clone());
                        self.kustomize(
                            &dir,
                            true,
                            false,
                            None,
                            0,
                            &mut BTreeSet::new(),
                            &mut files,
                        );
                        if target.is_some() {
                            for f in &mut files {
                                f.1.clone_from(&target);
                            }
                        }
                    }
                    ApplierKind::Argo => {
                        let recurse = self
                            .application(a)
                            .is_some_and(|app| app.sources.iter().any(|s| s.recurse));
                        self.kustomize(
                            &dir,
                            false,
                            recurse,
                            None,
                            0,
                            &mut BTreeSet::new(),
                            &mut files,
                        );
                    }
                }
            }
            files.sort();
            files.dedup_by_key(|f| f.0);
            for (pos, _) in &files {
                if let Some(list) = self.applied_by.get_mut(*pos) {
                    list.push(a);
                }
            }
            if let Some(applier) = self.appliers.get_mut(a) {
                applier.files = files;
            }
        }
        for a in 0..self.appliers.len() {
            let Some(applier) = self.appliers.get(a) else {
                continue;
            };
            let owners: Vec<usize> = self
                .applied_by
                .get(applier.id.file)
                .map(|list| list.iter().copied().filter(|&o| o != a).collect())
                .unwrap_or_default();
            // The namespace a Kustomization without one gets from what applies it.
            let inherited = owners.first().and_then(|&o| {
                self.appliers
                    .get(o)?
                    .files
                    .iter()
                    .find(|(pos, _)| *pos == applier.id.file)?
                    .1
                    .clone()
            });
            let declared = self.object(applier.id).and_then(|o| o.namespace.clone());
            if let Some(applier) = self.appliers.get_mut(a) {
                applier.owners = owners;
                applier.namespace = declared.or(inherited);
            }
        }
    }

    /// The files a directory contributes: through its kustomization, or (Flux, `generate`) every
    /// YAML file below it, or (Argo) the manifests in it.
    #[expect(clippy::too_many_arguments, reason = "a recursive walk and its state")]
    pub(super) fn kustomize(
        &self,
        dir: &str,
        generate: bool,
        recurse: bool,
        namespace: Option<String>,
        depth: usize,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<(usize, Option<String>)>,
    ) {
        if depth > MAX_KUSTOMIZE_DEPTH || !seen.insert(dir.to_string()) {
            return;
        }
        if let Some(&kfile) = self.kustomizations.get(dir) {
            let Some(k) = self.files.get(kfile).and_then(|f| f.kustomization.as_ref()) else {
                return;
            };
            // An outer kustomization's `namespace` wins over an inner one's.
            let namespace = namespace.or_else(|| k.namespace.clone());
            for resource in &k.resources {
                if paths::is_remote(resource) {
                    continue;
                }
                let path = paths::join(dir, resource);
                if let Some(&pos) = self.by_path.get(&path) {
                    out.push((pos, namespace.clone()));
                } else if self.dirs.contains(&path) {
                    self.kustomize(&path, false, false, namespace.clone(), depth + 1, seen, out);
                }
            }
            return;
        }
        if generate {
            // fluxcd/pkg scanManifests: every .yaml/.yml below; a directory with its own
            // kustomization is one resource, not descended into.
            // (`a/b-x` sorts between `a/b` and `a/b/c`: filter, do not stop at the first miss.)
            let below: Vec<String> = self
                .dirs
                .range(dir.to_string()..)
                .filter(|d| d.as_str() != dir && paths::is_within(d, dir))
                .cloned()
                .collect();
            let nested: Vec<&String> = below
                .iter()
                .filter(|d| self.kustomizations.contains_key(d.as_str()))
                .collect();
            for (path, &pos) in self
                .by_path
                .range(dir.to_string()..)
                .filter(|(p, _)| paths::is_within(p, dir))
            {
                let is_yaml = path.ends_with(".yaml") || path.ends_with(".yml");
                let in_nested = nested.iter().any(|n| paths::is_within(path, n));
                if is_yaml && !in_nested && paths::is_within(path, dir) {
                    out.push((pos, namespace.clone()));
                }
            }
            for n in nested {
                let outermost = !nested_inside_other(n, &below, &self.kustomizations);
                if outermost {
                    self.kustomize(n, false, false, namespace.clone(), depth + 1, seen, out);
                }
            }
            return;
        }
        // Argo CD directory source: the manifests of the directory (and below, with recurse).
        for (path, &pos) in self
            .by_path
            .range(dir.to_string()..)
            .filter(|(p, _)| paths::is_within(p, dir))
        {
            let direct = paths::parent(path) == dir;
            let manifest = [".yaml", ".yml", ".json"].iter().any(|e| path.ends_with(e));
            if manifest && (direct || recurse) {
                out.push((pos, namespace.clone()));
            }
        }
    }

    /// Each applier's scope: the directory of the file of the root of its applier chain.
    pub(super) fn scope(&mut self) {
        for a in 0..self.appliers.len() {
            let mut current = a;
            let mut seen = BTreeSet::new();
            while let Some(&owner) = self.appliers.get(current).and_then(|x| x.owners.first()) {
                if !seen.insert(owner) {
                    break;
                }
                current = owner;
            }
            let scope = self
                .appliers
                .get(current)
                .map(|root| paths::parent(self.path(root.id.file)).to_string())
                .unwrap_or_default();
            if let Some(applier) = self.appliers.get_mut(a) {
                applier.scope = scope;
            }
        }
    }

    pub(super) fn resolve_depends_on(&mut self) {
        for a in 0..self.appliers.len() {
            let Some(k) = self.flux(a) else { continue };
            let Some(applier) = self.appliers.get(a) else {
                continue;
            };
            let resolved: Vec<Vec<usize>> = k
                .depends_on
                .iter()
                .map(|dep| {
                    let ns = dep.namespace.as_deref().or(applier.namespace.as_deref());
                    let candidates: Vec<usize> = self
                        .appliers
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.kind == ApplierKind::Flux && c.name == dep.name)
                        .filter(|(_, c)| match (ns, c.namespace.as_deref()) {
                            (Some(want), Some(have)) => want == have,
                            _ => true,
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let in_scope: Vec<usize> = candidates
                        .iter()
                        .copied()
                        .filter(|&c| self.appliers.get(c).map(|x| &x.scope) == Some(&applier.scope))
                        .collect();
                    if in_scope.is_empty() {
                        candidates
                    } else {
                        in_scope
                    }
                })
                .collect();
            if let Some(applier) = self.appliers.get_mut(a) {
                applier.depends_on = resolved;
            }
        }
    }
}

//! The apply order a repository implies, for `eksgate graph`: Flux Kustomizations with their
//! `dependsOn` edges, Argo CD Applications with their app-of-apps parents and sync waves, what
//! each applies that installs CRDs, and the ordering findings on each.

use super::{ApplierKind, ProviderSource, Repository};
use crate::diagnostic::Diagnostic;

/// One Kustomization or Application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphNode {
    pub kind: ApplierKind,
    /// `namespace/name` (or `name`).
    pub name: String,
    /// The directory of the root of its applier chain: one cluster, in a multi-cluster repo.
    pub scope: String,
    /// The file that defines it (a name as the user gave it, normalised).
    pub file: String,
    /// The directory it applies, when that is in the run.
    pub path: Option<String>,
    /// Flux `wait: true` (or health checks); Argo CD: never set.
    pub waits: bool,
    pub suspended: bool,
    /// Argo CD sync wave.
    pub wave: Option<i64>,
    /// Position in apply order within its scope (1 = first); `None` inside a cycle.
    pub step: Option<usize>,
    /// CRD providers it applies: `HelmRelease karpenter/karpenter (chart karpenter)`.
    pub installs: Vec<String>,
    /// Ordering findings on it or on what it applies: `ORD001: message`.
    pub findings: Vec<String>,
    run_file: usize,
    document: usize,
    applies: Vec<usize>,
}

/// An edge: `from` is applied before `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// Flux `dependsOn` (`to` depends on `from`).
    DependsOn,
    /// Argo CD app-of-apps: `from` is the parent that creates `to`.
    Parent,
}

/// The whole graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

impl Graph {
    /// The graph of a repository, with its ordering findings (`ORD*`, `TF001`) attached.
    #[must_use]
    pub fn new(repo: &Repository, diagnostics: &[Diagnostic]) -> Self {
        let mut graph = Graph::default();
        for (a, applier) in repo.appliers.iter().enumerate() {
            let flux = repo.flux(a);
            let object = repo.object(applier.id);
            let installs = repo
                .providers
                .iter()
                .filter(|p| {
                    p.appliers.contains(&a) && !matches!(p.source, ProviderSource::Crd(_))
                        || matches!(p.source, ProviderSource::Applier(x) if x == a)
                })
                .map(|p| repo.provider_display(p).replace('`', ""))
                .collect();
            graph.nodes.push(GraphNode {
                kind: applier.kind,
                name: applier.display(),
                scope: applier.scope.clone(),
                file: repo.path(applier.id.file).to_string(),
                path: applier.dir.clone(),
                waits: flux.is_some_and(|k| k.wait || !k.health_checks.is_empty()),
                suspended: flux.is_some_and(|k| k.suspend),
                wave: (applier.kind == ApplierKind::Argo).then_some(applier.wave),
                step: None,
                installs,
                findings: Vec::new(),
                run_file: repo
                    .files
                    .get(applier.id.file)
                    .map_or(usize::MAX, |f| f.file),
                document: object.map_or(usize::MAX, |o| o.document),
                applies: applier.files.iter().map(|(f, _)| *f).collect(),
            });
            for targets in &applier.depends_on {
                for &t in targets {
                    graph.edges.push(GraphEdge {
                        from: t,
                        to: a,
                        kind: EdgeKind::DependsOn,
                    });
                }
            }
            if applier.kind == ApplierKind::Argo
                && let Some(parent) = repo.parent_app(a)
            {
                graph.edges.push(GraphEdge {
                    from: parent,
                    to: a,
                    kind: EdgeKind::Parent,
                });
            }
        }
        graph.order(repo);
        graph.attach(repo, diagnostics);
        graph
    }

    /// Steps: a node comes after everything it depends on; an Argo CD child after its parent,
    /// and after its siblings of lower sync waves.
    fn order(&mut self, repo: &Repository) {
        let n = self.nodes.len();
        let mut step: Vec<Option<usize>> = vec![Some(1); n];
        let mut before: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in &self.edges {
            if let Some(list) = before.get_mut(e.to) {
                list.push(e.from);
            }
        }
        for a in 0..n {
            let Some(parent) = repo.parent_app(a) else {
                continue;
            };
            let wave = self.nodes.get(a).and_then(|x| x.wave).unwrap_or(0);
            for b in 0..n {
                let sibling = b != a && repo.parent_app(b) == Some(parent);
                let lower = self.nodes.get(b).and_then(|x| x.wave).unwrap_or(0) < wave;
                if sibling
                    && lower
                    && let Some(list) = before.get_mut(a)
                {
                    list.push(b);
                }
            }
        }
        // A node in a cycle, or after one, is never applied: it gets no step.
        let reaches = |from: usize, to: usize| {
            let mut stack = vec![from];
            let mut seen = vec![false; n];
            while let Some(x) = stack.pop() {
                for &b in before.get(x).into_iter().flatten() {
                    if b == to {
                        return true;
                    }
                    if let Some(slot) = seen.get_mut(b)
                        && !*slot
                    {
                        *slot = true;
                        stack.push(b);
                    }
                }
            }
            false
        };
        for a in 0..n {
            if reaches(a, a)
                && let Some(slot) = step.get_mut(a)
            {
                *slot = None;
            }
        }
        // Longest path by relaxation (at most n rounds: the rest of the graph is acyclic).
        for _ in 0..=n {
            let mut changed = false;
            for a in 0..n {
                if step.get(a).copied().flatten().is_none() {
                    continue;
                }
                let want = before
                    .get(a)
                    .into_iter()
                    .flatten()
                    .try_fold(1usize, |acc, &b| {
                        step.get(b).copied().flatten().map(|s| acc.max(s + 1))
                    });
                if want != step.get(a).copied().flatten() {
                    if let Some(slot) = step.get_mut(a) {
                        *slot = want;
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (node, s) in self.nodes.iter_mut().zip(step) {
            node.step = s;
        }
    }

    /// Puts each ordering finding on the node it is about: the Kustomization or Application
    /// whose definition it points into, else those that apply its file.
    fn attach(&mut self, repo: &Repository, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            if !(d.rule.starts_with("ORD") || d.rule == "TF001") {
                continue;
            }
            let line = format!("{}: {}", d.rule, d.message);
            let position = repo.files.iter().position(|f| f.file == d.file);
            let defining: Vec<usize> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.run_file == d.file && n.document == d.document)
                .map(|(i, _)| i)
                .collect();
            let targets: Vec<usize> = if defining.is_empty() {
                self.nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| position.is_some_and(|p| n.applies.contains(&p)))
                    .map(|(i, _)| i)
                    .collect()
            } else {
                defining
            };
            for t in targets {
                if let Some(node) = self.nodes.get_mut(t)
                    && !node.findings.contains(&line)
                {
                    node.findings.push(line.clone());
                }
            }
        }
    }
}

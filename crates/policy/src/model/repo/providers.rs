//! Who installs which CRDs: Helm charts (Karpenter's, the policy's `crdProviders`), CRD files
//! in the run, and the Kustomizations and Applications that apply them.

use super::*;

impl Repository {
    pub(super) fn find_providers(&mut self, policy: &[CrdProvider]) {
        let mut providers = Vec::new();
        for (pos, f) in self.files.iter().enumerate() {
            let appliers = self.applied_by.get(pos).cloned().unwrap_or_default();
            for (i, o) in f.objects.iter().enumerate() {
                let id = ObjectId {
                    file: pos,
                    object: i,
                };
                match &o.role {
                    Role::Crd { group, kind } if !group.is_empty() => providers.push(Provider {
                        groups: vec![group.clone()],
                        kinds: (!kind.is_empty()).then(|| vec![kind.clone()]),
                        source: ProviderSource::Crd(id),
                        appliers: appliers.clone(),
                    }),
                    Role::HelmRelease(hr) if !hr.remote => {
                        let Some(chart) = self.chart_of(hr, o.namespace.as_deref()) else {
                            continue;
                        };
                        let groups = chart_groups(&chart, hr.skip_crds, policy);
                        if !groups.is_empty() {
                            providers.push(Provider {
                                groups,
                                kinds: None,
                                source: ProviderSource::HelmRelease { id, chart },
                                appliers: appliers.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        for (a, applier) in self.appliers.iter().enumerate() {
            let mut groups: Vec<String> = policy
                .iter()
                .filter(|p| p.name == applier.name)
                .flat_map(|p| p.groups.iter().cloned())
                .collect();
            if let Some(app) = self.application(a) {
                for source in &app.sources {
                    if let Some(chart) = &source.chart {
                        groups.extend(chart_groups(chart, source.skip_crds, policy));
                    }
                }
            }
            if !groups.is_empty() {
                groups.sort();
                groups.dedup();
                providers.push(Provider {
                    groups,
                    kinds: None,
                    source: ProviderSource::Applier(a),
                    appliers: vec![a],
                });
            }
        }
        self.providers = providers;
    }

    /// The chart a HelmRelease installs: `spec.chart.spec.chart`, or the chart its `chartRef`
    /// source names (an OCIRepository's last URL segment, a HelmChart's `chart`).
    pub(super) fn chart_of(&self, hr: &HelmRelease, namespace: Option<&str>) -> Option<String> {
        if let Some(chart) = &hr.chart {
            return Some(paths::file_name(chart.trim_end_matches('/')).to_string());
        }
        let r = hr.chart_ref.as_ref()?;
        let ns = r.namespace.as_deref().or(namespace);
        self.files.iter().flat_map(|f| &f.objects).find_map(|o| {
            let Role::ChartSource { chart } = &o.role else {
                return None;
            };
            let same_ns = match (ns, o.namespace.as_deref()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            (o.kind == r.kind && o.name.as_deref() == Some(r.name.as_str()) && same_ns)
                .then(|| chart.clone())
                .flatten()
        })
    }
}

#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::prices::{PriceTable, spend, usd};
use super::*;
use crate::reader::{read_document, read_node_all};
use crate::source::{self, Limits, SourceFile};

pub(crate) const GOOD: &str = "apiVersion: eksgate.dev/v1alpha1
kind: ClusterRequest
metadata: {name: acme-prod}
spec:
  clientName: acme
  environment: prod
  region: us-east-1
  kubernetesVersion: \"1.33\"
  infraPool:
    limits: {cpu: 32, memory: 128Gi}
  clientPools:
    - name: web
      capacityTypes: [spot, on-demand]
      architectures: [amd64, arm64]
      limits: {cpu: 64, memory: 256Gi}
  billing: {costCentre: client-projects, team: development, clientId: acme}
";

fn errors(text: &str) -> Vec<(usize, usize, String, String)> {
    let source = SourceFile::new("r.yaml", text);
    let loaded = source::load(0, &source, &Limits::default());
    let doc = loaded.documents.first().unwrap();
    match read_node_all::<ClusterRequest>(&doc.root, &source) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.line, e.column, e.pointer, e.message))
            .collect(),
    }
}

#[test]
fn a_good_request_reads_with_defaults() {
    let r = read_document::<ClusterRequest>(&SourceFile::new("r.yaml", GOOD)).unwrap();
    assert_eq!(r.spec.cluster_name(), "acme-prod");
    assert_eq!(r.spec.mode.value, Mode::Karpenter);
    let infra = &r.spec.infra_pool.value;
    assert_eq!(infra.capacity_types.len(), 1);
    assert_eq!(infra.capacity_types[0].value, CapacityType::OnDemand);
    assert_eq!(r.spec.compliance.imds_hop_limit.value, 1);
    assert_eq!(r.spec.client_pools[0].consolidation.after.value, "1m");
    assert!(errors(GOOD).is_empty());
}

#[test]
fn every_semantic_error_is_reported_at_its_field() {
    let bad = GOOD
        .replace("clientName: acme", "clientName: Acme_Corp")
        .replace("region: us-east-1", "region: Virginia")
        .replace("- name: web", "- name: infra");
    let found = errors(&bad);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, 5);
    assert_eq!(found[0].2, "/spec/clientName");
    assert!(found[0].3.contains("`Acme_Corp`"), "{found:?}");
    assert_eq!(found[1].2, "/spec/region");
    assert_eq!(found[2].2, "/spec/clientPools/0/name");
}

#[test]
fn type_errors_stop_the_reading_with_a_position() {
    let found = errors(&GOOD.replace("kubernetesVersion: \"1.33\"", "kubernetesVersion: 1.33"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, "/spec/kubernetesVersion");
    let found = errors(&GOOD.replace("environment: prod", "environment: production"));
    assert_eq!(found[0].0, 6, "{found:?}");
    let found = errors(&GOOD.replace("team: development", "teem: development"));
    assert!(found[0].3.contains("team"), "{found:?}");
}

#[test]
fn duplicate_pools_and_repeated_values() {
    let text = GOOD.replace(
        "  billing:",
        "    - name: web\n      capacityTypes: [spot, spot]\n      limits: {cpu: 0, memory: 1G}\n  billing:",
    );
    let found = errors(&text);
    let messages: Vec<&str> = found.iter().map(|f| f.3.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("used twice")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("listed twice")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("limits.cpu")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("limits.memory")),
        "{messages:?}"
    );
}

#[test]
fn the_price_table_loads_and_the_ceiling_is_cpu_times_the_dearest_price() {
    let table = PriceTable::shipped().unwrap();
    assert!(table.date.len() == 10 && !table.source.is_empty());
    let r = read_document::<ClusterRequest>(&SourceFile::new("r.yaml", GOOD)).unwrap();
    let s = spend(&r.spec, &table);
    assert_eq!(s.pools.len(), 2);
    // infra: on-demand, c/m/r: the dearest is r.
    let r_price = table.categories["r"].on_demand;
    assert_eq!(
        s.pools[0].monthly_ceiling_usd,
        (32.0 * r_price * 730.0 * 100.0_f64).round() / 100.0
    );
    // spot with on-demand fallback: on-demand is the ceiling.
    assert_eq!(s.pools[1].name, "acme-web");
    assert_eq!(
        s.pools[1].monthly_ceiling_usd,
        (64.0 * r_price * 730.0 * 100.0_f64).round() / 100.0
    );
    let spot_only = GOOD.replace("[spot, on-demand]", "[spot]");
    let r = read_document::<ClusterRequest>(&SourceFile::new("r.yaml", spot_only)).unwrap();
    let s2 = spend(&r.spec, &table);
    assert!(s2.pools[1].monthly_ceiling_usd < s.pools[1].monthly_ceiling_usd);
    assert_eq!(usd(1234567.8), "$1,234,567.80");
    assert_eq!(usd(0.5), "$0.50");
}

//! The spend ceiling: what each pool of a request costs a month at worst, from its CPU limit,
//! its capacity types and instance categories, and a small price table shipped as data
//! (`policies/prices.json`, with its source and date).
//!
//! A ceiling, not a forecast: a NodePool's `limits.cpu` is the most Karpenter launches, so
//! `cpu x dearest allowed price per vCPU-hour x hours in a month` bounds the pool's compute
//! bill; what it really costs depends on load, discounts and architecture.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ClusterRequest, Mode};
use crate::model::policy::CapacityType;

/// The price table eksgate ships.
pub const PRICES_JSON: &str = include_str!("../../../../../policies/prices.json");

/// Prices per vCPU-hour of one instance category.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CategoryPrice {
    pub on_demand: f64,
    pub spot: f64,
}

/// `policies/prices.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriceTable {
    pub source: String,
    pub date: String,
    pub region: String,
    pub currency: String,
    pub hours_per_month: f64,
    /// EKS Auto Mode's management fee, as a share of the On-Demand price.
    pub auto_mode_fee_ratio: f64,
    pub note: String,
    pub categories: BTreeMap<String, CategoryPrice>,
    /// The price of a category the table does not list (the dearest: a ceiling stays one).
    pub unknown_category: CategoryPrice,
}

impl PriceTable {
    /// The shipped table.
    ///
    /// # Errors
    /// Only if the embedded file is broken, which a test rules out.
    pub fn shipped() -> Result<PriceTable, String> {
        serde_json::from_str(PRICES_JSON).map_err(|e| format!("policies/prices.json: {e}"))
    }

    fn price(&self, category: &str) -> CategoryPrice {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(self.unknown_category)
    }
}

/// One pool's ceiling.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSpend {
    /// The NodePool's name.
    pub name: String,
    pub capacity_types: Vec<String>,
    pub cpu_limit: i64,
    /// The dearest price per vCPU-hour the pool allows.
    pub usd_per_vcpu_hour: f64,
    pub monthly_ceiling_usd: f64,
}

/// Every pool's ceiling and the total.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spend {
    /// The infrastructure pool first, then the client pools in request order.
    pub pools: Vec<PoolSpend>,
    pub total_monthly_ceiling_usd: f64,
    pub price_source: String,
    pub price_date: String,
    pub note: String,
}

/// Rounds to cents.
fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

fn pool_spend(
    table: &PriceTable,
    mode: Mode,
    name: String,
    capacity: &[CapacityType],
    categories: &[&str],
    cpu: i64,
) -> PoolSpend {
    // On-Demand whenever the pool may launch it (spot pools fall back to it); reserved
    // capacity is paid for whether used or not, so it counts as On-Demand too.
    let spot_only = capacity.iter().all(|c| *c == CapacityType::Spot);
    let per_vcpu = categories
        .iter()
        .map(|c| {
            let p = table.price(c);
            let base = if spot_only { p.spot } else { p.on_demand };
            match mode {
                Mode::AutoMode => base + p.on_demand * table.auto_mode_fee_ratio,
                Mode::Karpenter => base,
            }
        })
        .fold(0.0_f64, f64::max);
    #[expect(
        clippy::cast_precision_loss,
        reason = "a CPU limit is at most 100000, exact in an f64"
    )]
    let monthly = cpu as f64 * per_vcpu * table.hours_per_month;
    PoolSpend {
        name,
        capacity_types: capacity.iter().map(|c| c.as_str().to_string()).collect(),
        cpu_limit: cpu,
        usd_per_vcpu_hour: (per_vcpu * 10_000.0).round() / 10_000.0,
        monthly_ceiling_usd: cents(monthly),
    }
}

/// The spend ceiling of a request's pools (names as `crate::generate` renders them).
#[must_use]
pub fn spend(request: &ClusterRequest, table: &PriceTable) -> Spend {
    let mode = request.mode.value;
    let infra = &request.infra_pool.value;
    let mut pools = vec![pool_spend(
        table,
        mode,
        "infra".to_string(),
        &infra
            .capacity_types
            .iter()
            .map(|c| c.value)
            .collect::<Vec<_>>(),
        &infra
            .instance_categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        infra.limits.cpu.value,
    )];
    for pool in request.client_pools.iter() {
        pools.push(pool_spend(
            table,
            mode,
            pool.resource_name(&request.client_name),
            &pool
                .capacity_types
                .iter()
                .map(|c| c.value)
                .collect::<Vec<_>>(),
            &pool
                .instance_categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            pool.limits.cpu.value,
        ));
    }
    let total = cents(pools.iter().map(|p| p.monthly_ceiling_usd).sum());
    Spend {
        pools,
        total_monthly_ceiling_usd: total,
        price_source: table.source.clone(),
        price_date: table.date.clone(),
        note: table.note.clone(),
    }
}

/// `1234567.8` as `$1,234,567.80`.
#[must_use]
pub fn usd(amount: f64) -> String {
    let text = format!("{:.2}", amount.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{frac}")
}

/// The ceiling as text, for `eksgate render`: one line per pool, the total, and what it is.
#[must_use]
pub fn spend_text(spend: &Spend) -> String {
    let mut out = String::from("Spend ceiling (a ceiling, not a forecast):\n");
    let width = spend.pools.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &spend.pools {
        out.push_str(&format!(
            "  {:<width$}  {:>5} vCPU  {:<18}  {:>14}/month  (${}/vCPU-hour)\n",
            p.name,
            p.cpu_limit,
            p.capacity_types.join(", "),
            usd(p.monthly_ceiling_usd),
            p.usd_per_vcpu_hour,
        ));
    }
    out.push_str(&format!(
        "  {:<width$}  {:>39}/month\n",
        "total",
        usd(spend.total_monthly_ceiling_usd)
    ));
    out.push_str(&format!(
        "This is {}\nPrices: {} ({}).\n",
        spend.note, spend.price_source, spend.price_date
    ));
    out
}

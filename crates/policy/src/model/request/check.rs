//! What a request's types cannot say, checked after it is read: names are DNS labels and
//! short enough for what is built from them, pool names are unique, lists hold no repeats,
//! quantities and patterns are well formed. Each error points at the field.
//!
//! These hold whatever the policy says; what the policy decides (capacity types of the
//! infrastructure pool, billing tag values, the highest hop limit) is left to its rules.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{ClusterRequest, Limits};
use crate::reader::{Checker, Spanned};

/// A Kubernetes label value made from `<clientName>-<pool>` must stay within 63 characters.
const MAX_RESOURCE_NAME: usize = 63;

fn pattern(text: &str) -> Option<Regex> {
    Regex::new(text).ok()
}

static DNS_LABEL: LazyLock<Option<Regex>> =
    LazyLock::new(|| pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
static REGION: LazyLock<Option<Regex>> =
    LazyLock::new(|| pattern(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$"));
static VERSION: LazyLock<Option<Regex>> = LazyLock::new(|| pattern(r"^1\.[0-9]{2}$"));
static MEMORY: LazyLock<Option<Regex>> = LazyLock::new(|| pattern(r"^[1-9][0-9]*(Mi|Gi|Ti)$"));
static CATEGORY: LazyLock<Option<Regex>> = LazyLock::new(|| pattern(r"^[a-z]{1,4}$"));
static SIZE: LazyLock<Option<Regex>> =
    LazyLock::new(|| pattern(r"^(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$"));
static DURATION: LazyLock<Option<Regex>> = LazyLock::new(|| pattern(r"^(([0-9]+(s|m|h))+|Never)$"));
static KMS_ARN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    pattern(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$")
});
static ROLE_ARN: LazyLock<Option<Regex>> =
    LazyLock::new(|| pattern(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"));

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

fn shown(text: &str) -> String {
    crate::text::shorten(text)
}

pub(super) fn request(r: &mut ClusterRequest, c: &mut Checker<'_>) {
    let client = r.client_name.value.clone();
    if !matches(&DNS_LABEL, &client) || client.len() > 40 {
        c.at(
            &r.client_name,
            format!(
                "`clientName` `{}` is not a DNS label of at most 40 characters (lower-case letters, digits and `-`, starting and ending with a letter or digit)",
                shown(&client)
            ),
        );
    }
    if !matches(&REGION, &r.region) {
        c.at(
            &r.region,
            format!(
                "`region` `{}` is not an AWS region such as `us-east-1`",
                shown(&r.region)
            ),
        );
    }
    if !matches(&VERSION, &r.kubernetes_version) {
        c.at(
            &r.kubernetes_version,
            format!(
                "`kubernetesVersion` `{}` is not a Kubernetes minor version such as `\"1.33\"` (quote it: YAML reads 1.30 as 1.3)",
                shown(&r.kubernetes_version)
            ),
        );
    }

    let infra = &r.infra_pool.value;
    no_repeats(c, "capacityTypes", &infra.capacity_types, |t| {
        t.as_str().to_string()
    });
    no_repeats(c, "architectures", &infra.architectures, |a| {
        a.as_str().to_string()
    });
    categories(c, &infra.instance_categories);
    for size in infra.instance_sizes.iter() {
        if !matches(&SIZE, size) {
            c.at(
                size,
                format!(
                    "`{}` is not an instance size such as `large`, `xlarge` or `4xlarge`",
                    shown(size)
                ),
            );
        }
    }
    no_repeats(c, "instanceSizes", &infra.instance_sizes, String::clone);
    limits(c, &infra.limits);

    let mut names = BTreeSet::new();
    for pool in r.client_pools.iter() {
        let name = &pool.name;
        if !matches(&DNS_LABEL, name) {
            c.at(
                name,
                format!(
                    "pool name `{}` is not a DNS label (lower-case letters, digits and `-`, starting and ending with a letter or digit)",
                    shown(name)
                ),
            );
        } else if client.len() + 1 + name.len() > MAX_RESOURCE_NAME {
            c.at(
                name,
                format!(
                    "pool name `{}` is too long: `{client}-{}` has {} characters, and a name that becomes a label value may have at most {MAX_RESOURCE_NAME}",
                    shown(name),
                    shown(name),
                    client.len() + 1 + name.len()
                ),
            );
        }
        if name.value == "infra" {
            c.at(
                name,
                "pool name `infra` is taken by the infrastructure pool; choose another",
            );
        }
        if !names.insert(name.value.clone()) {
            c.at(name, format!("pool name `{}` is used twice", shown(name)));
        }
        no_repeats(c, "capacityTypes", &pool.capacity_types, |t| {
            t.as_str().to_string()
        });
        no_repeats(c, "architectures", &pool.architectures, |a| {
            a.as_str().to_string()
        });
        categories(c, &pool.instance_categories);
        for generation in pool.instance_generations.iter() {
            if !(1..=20).contains(&generation.value) {
                c.at(
                    generation,
                    format!(
                        "instance generation `{}` is not one EC2 has (1 to 20)",
                        generation.value
                    ),
                );
            }
        }
        no_repeats(c, "instanceGenerations", &pool.instance_generations, |g| {
            g.to_string()
        });
        limits(c, &pool.limits);
        if !matches(&DURATION, &pool.consolidation.after) {
            c.at(
                &pool.consolidation.after,
                format!(
                    "`consolidation.after` `{}` is not a duration such as `30s`, `5m` or `1h`, or `Never`",
                    shown(&pool.consolidation.after)
                ),
            );
        }
    }
    if r.client_pools.is_empty() {
        c.at(
            &r.client_pools,
            "`clientPools` is empty; give at least one pool",
        );
    }

    let billing = &r.billing.value;
    for (what, value) in [
        ("costCentre", &billing.cost_centre),
        ("team", &billing.team),
        ("clientId", &billing.client_id),
    ] {
        if value.is_empty() {
            c.at(value, format!("`billing.{what}` must not be empty"));
        }
    }
    if let Some(arn) = &r.compliance.kms_key_arn
        && !matches(&KMS_ARN, arn)
    {
        c.at(
            arn,
            format!(
                "`kmsKeyArn` `{}` is not a KMS key or alias ARN such as `arn:aws:kms:us-east-1:123456789012:key/<id>`",
                shown(arn)
            ),
        );
    }
    let hop = &r.compliance.imds_hop_limit;
    if !(1..=64).contains(&hop.value) {
        c.at(
            hop,
            format!(
                "`imdsHopLimit` is `{}`; a hop limit is from 1 to 64 (EC2's range)",
                hop.value
            ),
        );
    }
    if let Some(role) = &r.deploy.role_arn
        && !matches(&ROLE_ARN, role)
    {
        c.at(
            role,
            format!(
                "`roleArn` `{}` is not an IAM role ARN such as `arn:aws:iam::123456789012:role/eksgate-deploy`",
                shown(role)
            ),
        );
    }
    if r.deploy.terraform_dir.is_empty() {
        c.at(&r.deploy.terraform_dir, "`terraformDir` must not be empty");
    }
}

fn categories(c: &mut Checker<'_>, list: &Spanned<Vec<Spanned<String>>>) {
    for category in list.iter() {
        if !matches(&CATEGORY, category) {
            c.at(
                category,
                format!(
                    "`{}` is not an instance category such as `c`, `m` or `r`",
                    shown(category)
                ),
            );
        }
    }
    no_repeats(c, "instanceCategories", list, String::clone);
    if list.is_empty() {
        c.at(list, "`instanceCategories` is empty; give at least one");
    }
}

fn limits(c: &mut Checker<'_>, limits: &Spanned<Limits>) {
    if !(1..=100_000).contains(&limits.cpu.value) {
        c.at(
            &limits.cpu,
            format!(
                "`limits.cpu` is `{}`; give the pool's vCPU ceiling, from 1 to 100000",
                limits.cpu.value
            ),
        );
    }
    if !matches(&MEMORY, &limits.memory) {
        c.at(
            &limits.memory,
            format!(
                "`limits.memory` `{}` is not a quantity such as `256Gi` (binary units `Mi`, `Gi`, `Ti`)",
                shown(&limits.memory)
            ),
        );
    }
}

/// Reports the second of two equal items of a list, and an empty list.
fn no_repeats<T>(
    c: &mut Checker<'_>,
    what: &str,
    list: &Spanned<Vec<Spanned<T>>>,
    key: impl Fn(&T) -> String,
) {
    let mut seen = BTreeSet::new();
    for item in list.iter() {
        let text = key(&item.value);
        if !seen.insert(text.clone()) {
            c.at(
                item,
                format!("`{}` is listed twice in `{what}`", shown(&text)),
            );
        }
    }
    if list.is_empty() && what != "instanceSizes" && what != "instanceGenerations" {
        c.at(list, format!("`{what}` is empty; give at least one"));
    }
}

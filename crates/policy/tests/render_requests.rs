//! A render that does not pass `eksgate check` with the same policy is a bug: random valid
//! requests (any mode, environment, pools, capacity types, architectures, categories,
//! generations, limits, KMS key, billing tags) render, and the rendered set has no error and no
//! warning under the default policy. Also under a policy that requires a KMS key and an extra
//! billing tag, when the request gives them.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use eksgate_policy::generate::render_source;
use eksgate_policy::{Policy, Severity, SourceFile};
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5})?"
}

fn pick<T: Clone + std::fmt::Debug>(items: &'static [T]) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(items.to_vec(), 1..=items.len())
}

#[derive(Debug, Clone)]
struct Pool {
    capacity: Vec<&'static str>,
    arch: Vec<&'static str>,
    categories: Vec<&'static str>,
    generations: Vec<u8>,
    cpu: u32,
    memory: u32,
    when_empty: bool,
}

fn pool() -> impl Strategy<Value = Pool> {
    (
        pick(&["spot", "on-demand"]),
        pick(&["amd64", "arm64"]),
        pick(&["c", "m", "r", "t", "i", "x", "z", "g"]),
        proptest::collection::btree_set(3u8..=9, 0..4),
        1u32..5000,
        1u32..20000,
        any::<bool>(),
    )
        .prop_map(
            |(capacity, arch, categories, generations, cpu, memory, when_empty)| Pool {
                capacity,
                arch,
                categories,
                generations: generations.into_iter().collect(),
                cpu,
                memory,
                when_empty,
            },
        )
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[allow(clippy::too_many_arguments, reason = "one generated request")]
fn request(
    client: &str,
    env: &str,
    auto: bool,
    infra_categories: &[&str],
    sizes: &[&str],
    pools: &[(String, Pool)],
    kms: bool,
    extra_tag: bool,
) -> String {
    let mut text = format!(
        "apiVersion: eksgate.dev/v1alpha1\nkind: ClusterRequest\nmetadata: {{name: {client}-{env}}}\nspec:\n  clientName: \"{client}\"\n  environment: {env}\n  region: eu-central-1\n  kubernetesVersion: \"1.33\"\n  mode: {}\n  infraPool:\n    instanceCategories: [{}]\n    instanceSizes: [{}]\n    limits: {{cpu: 48, memory: 192Gi}}\n  clientPools:\n",
        if auto { "auto-mode" } else { "karpenter" },
        list(infra_categories),
        list(sizes),
    );
    for (name, p) in pools {
        text.push_str(&format!(
            "    - name: \"{name}\"\n      capacityTypes: [{}]\n      architectures: [{}]\n      instanceCategories: [{}]\n      instanceGenerations: [{}]\n      limits: {{cpu: {}, memory: {}Gi}}\n      consolidation: {{policy: {}, after: 2m}}\n",
            list(&p.capacity),
            list(&p.arch),
            list(&p.categories),
            list(&p.generations),
            p.cpu,
            p.memory,
            if p.when_empty { "WhenEmpty" } else { "WhenEmptyOrUnderutilized" },
        ));
    }
    text.push_str(&format!(
        "  billing:\n    costCentre: client-projects\n    team: development\n    clientId: \"{client}\"\n"
    ));
    if extra_tag {
        text.push_str("    tags: {owner: platform-team}\n");
    }
    if kms {
        text.push_str(
            "  compliance:\n    kmsKeyArn: arn:aws:kms:eu-central-1:111122223333:key/abc-123\n",
        );
    }
    text
}

fn strict_policy() -> Policy {
    let text = eksgate_policy::model::policy::DEFAULT_POLICY_YAML
        .replace("requireKmsKey: false", "requireKmsKey: true")
        .replace(
            "        client-id: {pattern:",
            "        owner: {}\n        client-id: {pattern:",
        );
    Policy::from_source(&SourceFile::new("strict.yaml", text)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn valid_requests_render_sets_that_pass_check(
        client in label(),
        env in prop::sample::select(vec!["dev", "staging", "prod"]),
        auto in any::<bool>(),
        infra_categories in pick(&["c", "m", "r"]),
        sizes in proptest::sample::subsequence(vec!["large", "xlarge", "2xlarge", "metal"], 0..=4),
        pools in proptest::collection::btree_map(label(), pool(), 1..4),
        kms in any::<bool>(),
        strict in any::<bool>(),
    ) {
        let pools: Vec<(String, Pool)> = pools.into_iter().filter(|(n, _)| n != "infra").collect();
        prop_assume!(!pools.is_empty());
        let (policy, kms) = if strict { (strict_policy(), true) } else { (Policy::default_policy().unwrap(), kms) };
        let text = request(&client, env, auto, &infra_categories, &sizes, &pools, kms, strict);
        let outcome = render_source(&SourceFile::new("request.yaml", text.clone()), &policy);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => return Err(TestCaseError::fail(format!("not rendered: {e:?}\n{text}"))),
        };
        let shown: Vec<String> = outcome
            .report
            .diagnostics
            .iter()
            .map(|d| format!("{} {:?} {}: {}", d.rule, d.severity, outcome.report.files[d.file].name, d.message))
            .collect();
        prop_assert!(
            outcome.report.diagnostics.iter().all(|d| d.severity == Severity::Info),
            "{text}\n{shown:#?}"
        );
        prop_assert!(outcome.request_report.diagnostics.is_empty(), "{:?}", outcome.request_report.diagnostics);
        prop_assert!(outcome.rendered.spend.total_monthly_ceiling_usd > 0.0);
    }
}

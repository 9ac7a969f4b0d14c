#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
use super::*;
use crate::source::{self, Document, Limits, SourceFile};

fn docs(text: &str) -> Vec<Document> {
    source::load(0, &SourceFile::new("t.yaml", text), &Limits::default()).documents
}

/// A Pod with one toleration.
fn pod_with_toleration(yaml: &str) -> Vec<Document> {
    docs(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  tolerations:\n  - {yaml}\n"
    ))
}

fn tolerates(yaml: &str, key: &str, value: &str, effect: &str) -> bool {
    let d = pod_with_toleration(yaml);
    let w = Workload::from_document(&d[0]).unwrap();
    w.tolerations[0].tolerates(key, value, effect)
}

#[test]
fn toleration_matching() {
    let infra = ("workload-type", "infrastructure");
    let t = |yaml: &str, effect: &str| tolerates(yaml, infra.0, infra.1, effect);
    // Wildcard: every key, value and effect.
    assert!(t("{operator: Exists}", "NoSchedule"));
    assert!(t("{operator: Exists}", "NoExecute"));
    // Wildcard limited to one effect.
    assert!(!t("{operator: Exists, effect: NoExecute}", "NoSchedule"));
    assert!(t("{operator: Exists, effect: NoExecute}", "NoExecute"));
    // Key-only Exists.
    assert!(t("{key: workload-type, operator: Exists}", "NoSchedule"));
    assert!(!t("{key: other, operator: Exists}", "NoSchedule"));
    // Equal (explicit or default) compares values; an empty effect matches every effect.
    assert!(t(
        "{key: workload-type, value: infrastructure}",
        "NoExecute"
    ));
    assert!(t(
        "{key: workload-type, operator: Equal, value: infrastructure, effect: NoSchedule}",
        "NoSchedule"
    ));
    assert!(!t(
        "{key: workload-type, operator: Equal, value: infra, effect: NoSchedule}",
        "NoSchedule"
    ));
    assert!(!t(
        "{key: workload-type, operator: Equal, value: infrastructure, effect: NoSchedule}",
        "NoExecute"
    ));
    // Equal with no key is invalid (the API server rejects it) and matches nothing.
    assert!(!t("{operator: Equal, value: infrastructure}", "NoSchedule"));
    // Unknown operators match nothing.
    assert!(!t(
        "{key: workload-type, operator: In, value: infrastructure}",
        "NoSchedule"
    ));
}

#[test]
fn comparison_tolerations() {
    assert!(tolerates(
        "{key: score, operator: Lt, value: '10'}",
        "score",
        "5",
        "NoSchedule"
    ));
    assert!(!tolerates(
        "{key: score, operator: Lt, value: '10'}",
        "score",
        "10",
        "NoSchedule"
    ));
    assert!(tolerates(
        "{key: score, operator: Gt, value: '10'}",
        "score",
        "11",
        "NoSchedule"
    ));
    assert!(!tolerates(
        "{key: score, operator: Gt, value: '10'}",
        "score",
        "x",
        "NoSchedule"
    ));
}

#[test]
fn wildcard_classification() {
    let d = pod_with_toleration("{operator: Exists}");
    let w = Workload::from_document(&d[0]).unwrap();
    assert!(w.tolerations[0].is_wildcard());
    let d = pod_with_toleration("{operator: Exists, effect: NoSchedule}");
    let w = Workload::from_document(&d[0]).unwrap();
    assert!(w.tolerations[0].matches_every_key());
    assert!(!w.tolerations[0].is_wildcard());
}

#[test]
fn prefer_no_schedule_never_blocks() {
    assert!(!blocks(&[], "k", "v", "PreferNoSchedule"));
    assert!(blocks(&[], "k", "v", "NoSchedule"));
    assert!(blocks(&[], "k", "v", "NoExecute"));
}

fn set(op: &str, values: &[&str]) -> LabelSet {
    let values: Vec<String> = values.iter().map(|v| (*v).to_string()).collect();
    LabelSet::from_operator(op, &values)
}

fn sat(sets: &[LabelSet]) -> bool {
    sets.iter()
        .fold(LabelSet::any(), |acc, s| acc.intersect(s))
        .is_satisfiable()
}

#[test]
fn label_set_algebra() {
    assert!(sat(&[set("In", &["a", "b"]), set("In", &["b"])]));
    assert!(!sat(&[set("In", &["a"]), set("In", &["b"])]));
    assert!(sat(&[set("In", &["a", "b"]), set("NotIn", &["a"])]));
    assert!(!sat(&[set("In", &["a"]), set("NotIn", &["a"])]));
    assert!(
        sat(&[set("NotIn", &["a"]), set("NotIn", &["b"])]),
        "absent fits both"
    );
    assert!(!sat(&[set("Exists", &[]), set("DoesNotExist", &[])]));
    assert!(sat(&[set("DoesNotExist", &[]), set("NotIn", &["a"])]));
    assert!(!sat(&[set("DoesNotExist", &[]), set("In", &["a"])]));
    assert!(sat(&[set("Exists", &[]), set("In", &["a"])]));
    // `In` with no value matches nothing.
    assert!(!sat(&[set("In", &[])]));
    // Unknown operators match nothing.
    assert!(!sat(&[set("Like", &["a"])]));
}

/// Any value, and the set of each operator (an unknown one too) with each of `values`.
fn sets_of_every_operator(values: &[&[&str]]) -> Vec<LabelSet> {
    let ops = [
        "In",
        "NotIn",
        "Exists",
        "DoesNotExist",
        "Gt",
        "Lt",
        "Gte",
        "Lte",
        "Like",
    ];
    let mut sets = vec![LabelSet::any()];
    for op in ops {
        for v in values {
            sets.push(set(op, v));
        }
    }
    sets
}

/// The intersection of two sets allows exactly the values (and the absence) both allow, for
/// sets of every operator and their intersections: the set operations on the sorted values
/// (union, difference, common values) against the definition.
#[test]
fn intersection_allows_what_both_allow() {
    let mut sets = sets_of_every_operator(&[
        &[],
        &["a"],
        &["b", "a", "a"],
        &["5"],
        &["7", "5"],
        &["x", "6"],
    ]);
    let base = sets.clone();
    for a in &base {
        for b in &base {
            sets.push(a.intersect(b));
        }
    }
    let probes = ["a", "b", "x", "0", "5", "6", "7", "9"];
    for a in &sets {
        for b in &base {
            let both = a.intersect(b);
            assert_eq!(both.absent_ok, a.absent_ok && b.absent_ok, "{a:?} {b:?}");
            for v in probes {
                assert_eq!(
                    both.allows(v),
                    a.allows(v) && b.allows(v),
                    "{v}: {a:?} and {b:?}"
                );
            }
            let listed: Vec<&str> = both.values.iter().map(|v| v.as_str()).collect();
            let mut sorted = listed.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(listed, sorted, "sorted, without repeats");
        }
    }
}

/// `compatible` is `intersect(..).is_satisfiable()` for every pair of sets built from
/// every operator, including sets that are themselves intersections.
#[test]
fn compatible_is_a_satisfiable_intersection() {
    let mut sets =
        sets_of_every_operator(&[&[], &["a"], &["a", "b"], &["5"], &["5", "7"], &["x", "6"]]);
    let base = sets.clone();
    for a in &base {
        for b in &base {
            let both = a.intersect(b);
            if !sets.contains(&both) {
                sets.push(both);
            }
        }
    }
    assert!(
        sets.len() > base.len(),
        "intersections add sets of their own"
    );
    for a in &sets {
        for b in &sets {
            assert_eq!(
                a.compatible(b),
                a.intersect(b).is_satisfiable(),
                "{a:?} with {b:?}"
            );
        }
    }
}

#[test]
fn numeric_ranges() {
    assert!(sat(&[set("Gt", &["5"]), set("Lt", &["7"])]), "6");
    assert!(!sat(&[set("Gt", &["5"]), set("Lt", &["6"])]), "no integer");
    assert!(!sat(&[
        set("Gt", &["5"]),
        set("Lt", &["7"]),
        set("NotIn", &["6"])
    ]));
    assert!(sat(&[
        set("Gt", &["5"]),
        set("Lt", &["8"]),
        set("NotIn", &["6"])
    ]));
    assert!(sat(&[set("In", &["6"]), set("Gt", &["5"])]));
    assert!(!sat(&[set("In", &["5"]), set("Gt", &["5"])]));
    assert!(
        !sat(&[set("In", &["x"]), set("Gt", &["5"])]),
        "not a number"
    );
    assert!(sat(&[set("Gte", &["5"]), set("Lte", &["5"])]), "5");
    assert!(!sat(&[set("Gte", &["6"]), set("Lte", &["5"])]));
    // Label values cannot be negative.
    assert!(!sat(&[set("Lt", &["0"])]));
    assert!(sat(&[set("Lt", &["1"])]), "0");
    // Gt/Lt need exactly one integer.
    assert!(!sat(&[set("Gt", &["five"])]));
    assert!(!sat(&[set("Gt", &["1", "2"])]));
    // A concrete list drops the bounds it was filtered by.
    let s = set("In", &["4", "6"]).intersect(&set("Gt", &["5"]));
    assert_eq!(s.values.len(), 1);
    assert_eq!((s.greater_than, s.less_than), (None, None));
}

#[test]
fn descriptions() {
    assert_eq!(set("In", &["arm64"]).describe(), "`arm64`");
    assert_eq!(set("In", &["c", "m"]).describe(), "one of `c`, `m`");
    assert_eq!(set("Gt", &["4"]).describe(), "a number > 4");
    assert_eq!(
        set("NotIn", &["spot"]).describe(),
        "absent, or any value except `spot`"
    );
    assert_eq!(set("DoesNotExist", &[]).describe(), "absent");
    assert_eq!(set("Exists", &[]).describe(), "any value");
}

const POOL: &str = "apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: apps}
spec:
  template:
    metadata:
      labels: {node-type: applications}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps-class}
      requirements:
        - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
        - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['5']}
        - {key: team, operator: Exists}
";

/// The first mismatch of a pod (given as a pod spec body) against `POOL`.
fn fit(pod_spec: &str) -> Result<(), Box<Mismatch>> {
    let pool_docs = docs(POOL);
    let pool = NodePool::from_document(&pool_docs[0]).unwrap();
    let pool_sets = pool_label_sets(&pool);
    let text = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{pod_spec}");
    let pod_docs = docs(&text);
    let w = Workload::from_document(&pod_docs[0]).unwrap();
    let alts = alternatives(&w);
    let mut first = None;
    for alt in &alts {
        match label_mismatch(&alt.sets, &pool_sets) {
            None => return Ok(()),
            Some(m) => {
                first.get_or_insert(m);
            }
        }
    }
    Err(Box::new(first.unwrap()))
}

#[test]
fn pods_against_a_pool() {
    assert!(fit("  nodeSelector: {kubernetes.io/arch: arm64}\n").is_ok());
    assert!(fit("  nodeSelector: {beta.kubernetes.io/arch: arm64}\n").is_ok());
    assert_eq!(
        fit("  nodeSelector: {kubernetes.io/arch: s390x}\n")
            .unwrap_err()
            .key,
        "kubernetes.io/arch"
    );
    // Labels Karpenter adds: the pool's name and the node class.
    assert!(
            fit("  nodeSelector: {karpenter.sh/nodepool: apps, karpenter.k8s.aws/ec2nodeclass: apps-class}\n")
                .is_ok()
        );
    assert!(fit("  nodeSelector: {karpenter.sh/nodepool: infra}\n").is_err());
    // Well-known labels the pool leaves open.
    assert!(fit("  nodeSelector: {topology.kubernetes.io/zone: eu-west-1a}\n").is_ok());
    // A custom label the pool does not define: never on its nodes...
    let m = fit("  nodeSelector: {gpu: 'true'}\n").unwrap_err();
    assert_eq!((m.key.as_str(), m.offered.is_none()), ("gpu", true));
    // ...which is what NotIn and DoesNotExist ask for.
    let affinity = |exprs: &str| {
        format!(
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n{exprs}"
        )
    };
    assert!(
        fit(&affinity(
            "          - matchExpressions: [{key: gpu, operator: NotIn, values: ['true']}]\n"
        ))
        .is_ok()
    );
    assert!(
        fit(&affinity(
            "          - matchExpressions: [{key: gpu, operator: DoesNotExist}]\n"
        ))
        .is_ok()
    );
    // A label the pool defines (Exists) accepts a value.
    assert!(fit("  nodeSelector: {team: payments}\n").is_ok());
    assert!(
        fit(&affinity(
            "          - matchExpressions: [{key: team, operator: DoesNotExist}]\n"
        ))
        .is_err()
    );
    // Gt/Lt against the pool's Gt 5.
    assert!(fit(&affinity("          - matchExpressions: [{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['6']}]\n")).is_ok());
    assert!(fit(&affinity("          - matchExpressions: [{key: karpenter.k8s.aws/instance-generation, operator: Lt, values: ['6']}]\n")).is_err());
    // Expressions are ANDed, terms ORed.
    assert!(fit(&affinity("          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}, {key: node-type, operator: In, values: [gpu]}]\n")).is_err());
    assert!(fit(&affinity("          - matchExpressions: [{key: node-type, operator: In, values: [gpu]}]\n          - matchExpressions: [{key: node-type, operator: In, values: [applications]}]\n")).is_ok());
    // nodeSelector is ANDed with every term.
    assert!(fit(&format!("  nodeSelector: {{node-type: gpu}}\n{}", affinity("          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n"))).is_err());
}

#[test]
fn empty_terms_match_nothing() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - {}\n          - matchExpressions: []\n";
    let d = docs(text);
    let w = Workload::from_document(&d[0]).unwrap();
    assert!(alternatives(&w).is_empty());
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n";
    let d = docs(text);
    let w = Workload::from_document(&d[0]).unwrap();
    assert_eq!(alternatives(&w).len(), 1, "no affinity: one alternative");
}

#[test]
fn pool_sets_intersect_labels_and_requirements() {
    let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    metadata: {labels: {tier: gold}}\n    spec:\n      nodeClassRef: {group: eks.amazonaws.com, kind: NodeClass, name: auto}\n      requirements:\n        - {key: tier, operator: In, values: [gold, silver]}\n";
    let d = docs(text);
    let pool = NodePool::from_document(&d[0]).unwrap();
    let sets = pool_label_sets(&pool);
    assert_eq!(set_for(&sets, "tier"), Some(&LabelSet::exactly("gold")));
    assert_eq!(
        set_for(&sets, "eks.amazonaws.com/nodeclass"),
        Some(&LabelSet::exactly("auto"))
    );
    assert_eq!(
        set_for(&sets, "karpenter.sh/nodepool"),
        Some(&LabelSet::exactly("p"))
    );
}

#[test]
fn label_sets_built_by_index_are_those_built_by_walking() {
    // Keys repeat (in both spellings of a deprecated label) before and after the builder
    // switches from walking to its index.
    let keys: Vec<String> = (0..200)
        .map(|i: usize| match (i * 7919) % 50 {
            0 => "beta.kubernetes.io/arch".to_string(),
            1 => "kubernetes.io/arch".to_string(),
            k => format!("k{k}"),
        })
        .collect();
    let operators = ["In", "NotIn", "Exists", "DoesNotExist"];
    let requirements: Vec<(&str, LabelSet)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let values = vec![format!("v{}", i % 3), format!("v{}", i % 5)];
            (
                key.as_str(),
                LabelSet::from_operator(operators[i % 4], &values),
            )
        })
        .collect();
    let mut walked = LabelSets::new();
    let mut built = LabelSetsBuilder::default();
    for (key, set) in &requirements {
        add_requirement(&mut walked, key, set);
        built.add(key, set);
    }
    assert!(walked.len() > LabelSetsBuilder::WALKED, "the index is used");
    assert_eq!(built.sets, walked);
}

//! Schema validation through both paths: the built-in schemas, and the upstream Karpenter
//! v1.14.1 CRDs loaded as a user's `--crd` (`../shared/crds`, beside the project).
//!
//! - Every fixture and example gives the same `(rule, file, line)` findings of SCH001, SCH002
//!   and CEL001 through both paths.
//! - Karpenter's own example shapes (`examples/upstream`, `examples/platform`) give no schema
//!   finding.
//! - A corpus of bad cases: each finding at the line its `# expect:` mark names, exactly.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use eksgate_policy::schema::SchemaSet;
use eksgate_policy::{CheckOptions, Input, Policy, SourceFile, check};

/// The rules whose findings must not depend on where the schema came from.
const SCHEMA_RULES: &[&str] = &["SCH001", "SCH002", "CEL001"];

/// `(rule, file, line)`.
type Finding = (String, String, usize);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn crd_dir(version: &str) -> PathBuf {
    manifest_dir()
        .join("../../../shared/crds/karpenter")
        .join(version)
}

/// The CRDs of a Karpenter release, as `eksgate check --crd DIR` loads them.
fn crds(version: &str) -> SchemaSet {
    let dir = crd_dir(version);
    let mut sources = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the project?)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        sources.push(SourceFile::new(file.display().to_string(), text));
    }
    SchemaSet::from_crd_sources(&sources).unwrap_or_else(|e| panic!("{e}"))
}

fn v1_crds() -> &'static CheckOptions {
    static OPTIONS: OnceLock<CheckOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| CheckOptions {
        schemas: crds("v1.14.1"),
        ..CheckOptions::default()
    })
}

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| Policy::default_policy().unwrap())
}

/// Schema findings of one source, for the kinds that have a built-in schema (the CRD directory
/// also holds NodeClaim and NodeOverlay, which eksgate does not build in).
fn schema_findings(name: &str, text: &str, options: &CheckOptions) -> BTreeSet<Finding> {
    let builtin_kinds: Vec<&str> = SchemaSet::builtin()
        .kinds
        .iter()
        .map(|k| k.kind.as_str())
        .collect();
    let report = check(vec![Input::text(name, text)], policy(), options);
    report
        .diagnostics
        .iter()
        .filter(|d| SCHEMA_RULES.contains(&d.rule.as_ref()))
        .filter(|d| {
            d.kind
                .as_deref()
                .is_some_and(|k| builtin_kinds.contains(&k))
        })
        .map(|d| {
            let (line, _) = report.files[d.file].line_col(d.span.start);
            (d.rule.to_string(), name.to_string(), line)
        })
        .collect()
}

/// Every manifest of the fixtures and examples.
fn corpus() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![
        manifest_dir().join("tests/fixtures"),
        manifest_dir().join("../../examples"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if name != "policy.yaml"
                && (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(manifest_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn built_in_schemas_and_upstream_crds_give_the_same_findings() {
    let files = corpus();
    assert!(files.len() > 100, "the corpus is the fixtures and examples");
    let mut differences = Vec::new();
    let mut found = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = relative(file);
        let builtin = schema_findings(&name, &text, &CheckOptions::default());
        let crd = schema_findings(&name, &text, v1_crds());
        found += builtin.len();
        for f in builtin.difference(&crd) {
            differences.push(format!("built-in only: {} {}:{}", f.0, f.1, f.2));
        }
        for f in crd.difference(&builtin) {
            differences.push(format!("--crd only: {} {}:{}", f.0, f.1, f.2));
        }
    }
    assert!(found > 50, "the SCH fixtures alone give more findings");
    assert!(
        differences.is_empty(),
        "built-in schemas and --crd ../shared/crds/karpenter/v1.14.1 disagree:\n{}",
        differences.join("\n")
    );
}

#[test]
fn upstream_and_platform_examples_have_no_schema_finding() {
    let examples = manifest_dir().join("../../examples");
    let mut findings = Vec::new();
    for file in corpus() {
        let Ok(rest) = file.strip_prefix(&examples) else {
            continue;
        };
        if !(rest.starts_with("upstream") || rest.starts_with("platform")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for options in [&CheckOptions::default(), v1_crds()] {
            findings.extend(schema_findings(&relative(&file), &text, options));
        }
    }
    assert!(findings.is_empty(), "{findings:?}");
}

/// Bad cases as users write them. Each finding is marked on its line: `# expect: SCH001`.
const BAD: &[(&str, &str)] = &[
    (
        "volume-size-gb.yaml",
        r"apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-demo
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 20GB  # expect: SCH001
        volumeType: gp3
        encrypted: true
",
    ),
    (
        "kubelet-on-v1-nodepool.yaml",
        r"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements: []
      kubelet:  # expect: SCH002
        maxPods: 110
        evictionHard: {memory.available: 5%}
",
    ),
    (
        "http-token-typo.yaml",
        r"apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-demo
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  metadataOptions:
    httpToken: optional  # expect: SCH002
",
    ),
    (
        "type-errors.yaml",
        r#"apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
spec:
  weight: "50"  # expect: SCH001
  template:
    metadata:
      labels:
        team: 7  # expect: SCH001
        enabled: true  # expect: SCH001
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - key: karpenter.k8s.aws/instance-generation
          operator: Gt
          values: [4]  # expect: SCH001
      taints: {key: dedicated, effect: NoSchedule}  # expect: SCH001
  limits:
    cpu: 0.5  # expect: SCH001
  disruption:
    consolidateAfter: 30  # expect: SCH001
    budgets:
      - nodes: 1  # expect: SCH001
"#,
    ),
    (
        "enum-typos.yaml",
        r"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - key: karpenter.sh/capacity-type
          operator: Equals  # expect: SCH001
          values: [spot]
      taints:
        - key: dedicated
          effect: NoScheduled  # expect: SCH001
  disruption:
    consolidationPolicy: WhenUnderutilized  # expect: SCH001
    consolidateAfter: 0s
    budgets:
      - nodes: 10%
        reasons: [Drift]  # expect: SCH001
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-demo
  amiFamily: AL2024  # expect: SCH001
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  metadataOptions:
    httpTokens: Required  # expect: SCH001
    httpEndpoint: enable  # expect: SCH001
  instanceStorePolicy: RAID1  # expect: SCH001
",
    ),
    (
        "patterns-and-bounds.yaml",
        r"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  weight: 101  # expect: SCH001
  template:
    metadata:
      labels:
        team: platform team  # expect: SCH001
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws/v1  # REF002's finding: one problem, one finding
        kind: EC2NodeClass
        name: default
      requirements:
        - key: -invalid-key-  # expect: SCH001
          operator: Exists
          minValues: 51  # expect: SCH001
      expireAfter: 30d  # expect: SCH001
      terminationGracePeriod: 1 hour  # expect: SCH001
  limits:
    memory: 1000GB  # expect: SCH001
  disruption:
    consolidateAfter: 30s
    budgets:
      - nodes: 150%  # expect: SCH001
        schedule: daily  # expect: SCH001
        duration: 1d  # expect: SCH001
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-demo
  amiSelectorTerms:
    - id: image-0123  # expect: SCH001
    - alias: this-alias-is-far-too-long-for-the-field  # expect: SCH001
  subnetSelectorTerms: [{id: vpc-0123}]  # expect: SCH001
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  metadataOptions: {httpPutResponseHopLimit: 65}  # expect: SCH001
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 70000Gi  # expect: SCH001
        volumeInitializationRate: 50  # expect: SCH001
  ipPrefixCount: -1  # expect: SCH001
",
    ),
    (
        "required-fields.yaml",
        r"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:  # expect: SCH001
      nodeClassRef: {name: default}  # expect: SCH001, SCH001
      taints:
        - effect: NoSchedule  # expect: SCH001
  disruption:  # expect: SCH001
    consolidationPolicy: WhenEmpty
---
apiVersion: karpenter.sh/v1
kind: NodePool  # expect: SCH001
metadata: {name: no-spec}
",
    ),
    (
        "unknown-fields.yaml",
        r"apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
  lables: {team: platform}  # expect: SCH002
spec:
  ttlSecondsAfterEmpty: 30  # expect: SCH002
  template:
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1  # expect: SCH002
        group: karpenter.k8s.aws
        kind: EC2NodeClass
        name: default
      requirements: []
      resources: {requests: {cpu: 1}}  # expect: SCH002
  disruption:
    consolidateAfter: 0s
    expireAfter: 720h  # expect: SCH002
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-demo
  amiSelectorTerms: [{alias: al2023@latest, owners: [self]}]  # expect: SCH002
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs: {volumeSize: 20Gi, encrypt: true}  # expect: SCH002
  userdata: |  # expect: SCH002
    echo hello
---
apiVersion: eks.amazonaws.com/v1
kind: NodeClass
metadata: {name: auto}
spec:
  role: AmazonEKSAutoNodeRole
  subnetSelectorTerms: [{tags: {Name: private}}]
  securityGroupSelectorTerms: [{tags: {Name: eks}}]
  ephemeralStorage: {size: 80Gi, kmsKeyId: alias/eks}  # expect: SCH002
  metadataOptions: {httpTokens: required}  # expect: SCH002
",
    ),
];

/// The `(rule, line)` marks of a case.
fn marks(name: &str, text: &str) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let Some((_, marks)) = line.split_once("# expect:") else {
            continue;
        };
        let mut counts = std::collections::BTreeMap::new();
        for id in marks.split([',', ' ']).filter(|t| !t.is_empty()) {
            *counts.entry(id).or_insert(0) += 1;
        }
        for id in counts.keys() {
            out.insert((id.to_string(), name.to_string(), index + 1));
        }
    }
    out
}

#[test]
fn bad_cases_are_found_at_their_lines() {
    let mut failures = Vec::new();
    for (name, text) in BAD {
        let expected = marks(name, text);
        assert!(!expected.is_empty(), "{name} marks nothing");
        for (path, options) in [("built-in", &CheckOptions::default()), ("--crd", v1_crds())] {
            let got: BTreeSet<Finding> = schema_findings(name, text, options)
                .into_iter()
                .filter(|f| f.0 != "CEL001")
                .collect();
            for f in expected.difference(&got) {
                failures.push(format!("{path}: missing {} at {}:{}", f.0, f.1, f.2));
            }
            for f in got.difference(&expected) {
                failures.push(format!("{path}: unexpected {} at {}:{}", f.0, f.1, f.2));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn two_findings_on_one_line_are_both_reported() {
    let (name, text) = BAD
        .iter()
        .find(|(n, _)| *n == "required-fields.yaml")
        .unwrap();
    let report = check(
        vec![Input::text(*name, *text)],
        policy(),
        &CheckOptions::default(),
    );
    let on_ref: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "SCH001" && d.pointer == "/spec/template/spec/nodeClassRef")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        on_ref,
        [
            "`nodeClassRef` is missing the required field `group`",
            "`nodeClassRef` is missing the required field `kind`"
        ]
    );
}

/// Any CRD works: Karpenter v0.37's v1beta1 NodePool keeps `kubelet` in the pool, so there it
/// is no unknown field; a typo in it is.
#[test]
fn any_crd_is_validated_by_its_served_version() {
    let options = CheckOptions {
        schemas: crds("v0.37.8"),
        ..CheckOptions::default()
    };
    let text = r"apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: default}
      requirements: []
      kubelet:
        maxPods: 110
        maxPod: 110
  disruption:
    consolidationPolicy: WhenUnderutilized
    expireAfter: 720h
";
    let report = check(vec![Input::text("v1beta1.yaml", text)], policy(), &options);
    let schema: Vec<(usize, &str)> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.starts_with("SCH"))
        .map(|d| (report.files[0].line_col(d.span.start).0, d.rule.as_ref()))
        .collect();
    assert_eq!(schema, [(11, "SCH002")]);
    // Without the CRD there is no v1beta1 schema: API001 speaks, the schema rules do not.
    let report = check(
        vec![Input::text("v1beta1.yaml", text)],
        policy(),
        &CheckOptions::default(),
    );
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| !d.rule.starts_with("SCH"))
    );
    assert!(report.diagnostics.iter().any(|d| d.rule == "API001"));
}

/// `--crd` loads every served version, and a CRD schema wins over the built-in one.
#[test]
fn crd_schemas_take_precedence_over_built_in_ones() {
    let crd = r"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ec2nodeclasses.karpenter.k8s.aws}
spec:
  group: karpenter.k8s.aws
  names: {kind: EC2NodeClass, plural: ec2nodeclasses}
  scope: Cluster
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties:
                role: {type: string, maxLength: 5}
";
    let schemas = SchemaSet::from_crd_sources(&[SourceFile::new("crd.yaml", crd)]).unwrap();
    let options = CheckOptions {
        schemas,
        ..CheckOptions::default()
    };
    let text = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n  role: TooLongForThisCrd\n  anything: goes\n";
    let report = check(vec![Input::text("x.yaml", text)], policy(), &options);
    let schema: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.starts_with("SCH"))
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        schema,
        ["`role` is 17 characters long, more than the maximum of 5"]
    );
}

/// A kind only a `--crd` schema knows is checked, so it no longer counts as skipped.
#[test]
fn documents_validated_by_a_crd_are_not_skipped() {
    let crd = r"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: string}}}
";
    let text =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: small}\n";
    let without = check(
        vec![Input::text("w.yaml", text)],
        policy(),
        &CheckOptions::default(),
    );
    assert_eq!(without.summary.skipped_documents, 1);
    let options = CheckOptions {
        schemas: SchemaSet::from_crd_sources(&[SourceFile::new("crd.yaml", crd)]).unwrap(),
        ..CheckOptions::default()
    };
    let with = check(vec![Input::text("w.yaml", text)], policy(), &options);
    assert_eq!(with.summary.skipped_documents, 0);
    assert!(with.diagnostics.is_empty(), "{:?}", with.diagnostics);
}

//! CEL001 through both paths: the native checks (built-in Karpenter rules) and the CEL engine
//! on the upstream CRDs (`--crd ../shared/crds/karpenter/v1.14.1`) must find the same things
//! at the same lines.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use eksgate_policy::schema::SchemaSet;
use eksgate_policy::{CheckOptions, Input, Policy, Report, Severity, SourceFile, check};

fn crd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crds/karpenter/v1.14.1")
}

fn upstream_crds() -> SchemaSet {
    let mut sources = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(crd_dir())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (CI clones shared/ beside the project)",
                crd_dir().display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        sources.push(SourceFile::new(
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    SchemaSet::from_crd_sources(&sources).unwrap()
}

fn run(text: &str, policy: &Policy, schemas: &SchemaSet) -> Report {
    let options = CheckOptions {
        schemas: schemas.clone(),
        ..CheckOptions::default()
    };
    check(vec![Input::text("t.yaml", text)], policy, &options)
}

/// `(line, severity)` of every CEL001 finding.
fn cel_lines(report: &Report) -> BTreeSet<usize> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "CEL001")
        .map(|d| report.position(d).line)
        .collect()
}

fn describe(report: &Report) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "CEL001")
        .map(|d| format!("{}:{} {}", report.position(d).line, d.severity, d.message))
        .collect()
}

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for rule in std::fs::read_dir(root).unwrap() {
        for outcome in std::fs::read_dir(rule.unwrap().path()).unwrap() {
            for file in std::fs::read_dir(outcome.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if name != "policy.yaml" && (name.ends_with(".yaml") || name.ends_with(".json")) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

fn policy_beside(path: &Path) -> Policy {
    let custom = path.with_file_name("policy.yaml");
    if custom.exists() {
        Policy::from_source(&SourceFile::new(
            "policy.yaml",
            std::fs::read_to_string(custom).unwrap(),
        ))
        .unwrap()
    } else {
        Policy::default_policy().unwrap()
    }
}

#[test]
fn every_fixture_gives_the_same_cel001_lines_natively_and_through_the_crds() {
    let crds = upstream_crds();
    let none = SchemaSet::default();
    let mut failures = Vec::new();
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let policy = policy_beside(&path);
        let native = run(&text, &policy, &none);
        let crd = run(&text, &policy, &crds);
        if cel_lines(&native) != cel_lines(&crd) {
            failures.push(format!(
                "{}\n  native: {:?}\n  crd:    {:?}",
                path.display(),
                describe(&native),
                describe(&crd)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const CLASS_HEAD: &str =
    "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n";
const POOL_HEAD: &str = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: x}\nspec:\n";

/// Broken objects, one CRD rule each (or a few): both paths must flag them at the same lines.
const BROKEN: &[&str] = &[
    // NodePool
    "  replicas: 2\n  limits: {cpu: 10}\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n",
    "  replicas: 2\n  weight: 10\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n",
    "  disruption:\n    consolidateAfter: 1m\n    budgets:\n      - nodes: '1'\n        schedule: '@daily'\n      - nodes: 10%\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n",
    "  template:\n    metadata:\n      labels:\n        team: a\n        karpenter.sh/custom: x\n        karpenter.sh/nodepool: x\n        kubernetes.io/hostname: h\n        karpenter.k8s.aws/foo: y\n        xkarpenter.sh/z: z\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n",
    "  template:\n    spec:\n      nodeClassRef: {group: '', kind: '', name: ''}\n      requirements: []\n",
    "  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements:\n        - {key: a, operator: In, values: []}\n        - {key: b, operator: Gt, values: ['1', '2']}\n        - {key: c, operator: Lt, values: ['-1']}\n        - {key: d, operator: Gte, values: ['x']}\n        - {key: e, operator: In, values: [a], minValues: 2}\n        - {key: karpenter.sh/capacity-types, operator: Exists}\n        - {key: karpenter.sh/nodepool, operator: Exists}\n        - {key: kubernetes.io/hostname, operator: Exists}\n        - {key: karpenter.k8s.aws/instance-famly, operator: Exists}\n        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}\n",
    // EC2NodeClass
    "  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  instanceProfile: p\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: ''\n  amiFamily: Bottlerocket\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms:\n    - name: my-ami\n    - id: ami-123\n      owner: self\n    - owner: self\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms:\n    - alias: ubuntu@latest\n    - alias: windows2022@v1\n      tags: {a: ''}\n    - alias: noversion\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  blockDeviceMappings:\n    - deviceName: /dev/xvda\n      rootVolume: true\n      ebs: {encrypted: true}\n    - deviceName: /dev/xvdb\n      rootVolume: true\n      ebs: {volumeSize: 20Gi, volumeInitializationRate: 100, encrypted: true}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  capacityReservationSelectorTerms:\n    - ownerID: '123456789012'\n    - id: cr-1\n      tags: {a: b}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  capacityReservationSelectorTerms: []\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  connectionTracking: {}\n  placementGroupSelector: {name: a, id: pg-1}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  kubelet:\n    imageGCHighThresholdPercent: 50\n    imageGCLowThresholdPercent: 60\n    evictionHard: {memory.available: 5%, disk.available: 10%}\n    evictionSoft: {memory.available: 10%}\n    kubeReserved: {cpu: '-1', gpu: '1'}\n    systemReserved: {memory: 1Gi}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  kubelet:\n    evictionSoft: {memory.available: 10%}\n    evictionSoftGracePeriod: {nodefs.available: 1m}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  networkInterfaces:\n    - {networkCardIndex: 0, deviceIndex: 1, interfaceType: interface}\n    - {networkCardIndex: 1, deviceIndex: 0, interfaceType: efa-only}\n    - {networkCardIndex: 1, deviceIndex: 0, interfaceType: efa-only}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: []\n  securityGroupSelectorTerms: []\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms:\n    - id: subnet-1\n      tags: {a: b}\n  securityGroupSelectorTerms:\n    - id: sg-1\n      name: n\n    - {}\n    - tags: {'': x, b: ''}\n",
    "  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms:\n    - name: a\n      tags: {x: y}\n",
];

/// Valid objects (Karpenter's own example shapes): neither path may flag them.
const VALID: &[&str] = &[
    "  template:\n    metadata:\n      labels: {team: a, karpenter.sh/capacity-type: spot, node.kubernetes.io/role: x}\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements:\n        - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}\n        - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['2']}\n        - {key: kubernetes.io/arch, operator: In, values: [amd64], minValues: 1}\n        - {key: karpenter.sh/capacity-type, operator: NotIn, values: []}\n  disruption:\n    consolidationPolicy: WhenEmptyOrUnderutilized\n    consolidateAfter: 1m\n    budgets:\n      - nodes: 10%\n      - nodes: '0'\n        schedule: '0 9 * * mon-fri'\n        duration: 8h\n  limits: {cpu: 1000}\n",
    "  replicas: 3\n  limits: {nodes: 5}\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n",
    "  role: r\n  amiSelectorTerms: [{alias: bottlerocket@v1.20.0}]\n  amiFamily: Bottlerocket\n  blockDeviceMappings:\n    - deviceName: /dev/xvda\n      ebs: {volumeSize: 4Gi, volumeType: gp3, encrypted: true}\n    - deviceName: /dev/xvdb\n      rootVolume: true\n      ebs: {snapshotID: snap-1, volumeInitializationRate: 200, encrypted: true}\n  kubelet:\n    imageGCHighThresholdPercent: 85\n    imageGCLowThresholdPercent: 80\n    evictionSoft: {memory.available: 10%}\n    evictionSoftGracePeriod: {memory.available: 1m}\n    kubeReserved: {cpu: 100m, memory: 1Gi}\n  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}, {id: subnet-2}]\n  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}, {name: sg-name}]\n  tags: {team: a}\n",
    "  instanceProfile: p\n  amiFamily: AL2023\n  amiSelectorTerms:\n    - name: my-ami-*\n      owner: self\n    - id: ami-123\n    - ssmParameter: /aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id\n  networkInterfaces:\n    - {networkCardIndex: 0, deviceIndex: 0, interfaceType: interface}\n    - {networkCardIndex: 1, deviceIndex: 0, interfaceType: efa-only}\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}, {id: sg-2, tags: {a: b}}]\n",
];

#[test]
fn broken_objects_are_flagged_at_the_same_lines_by_both_paths() {
    let crds = upstream_crds();
    let none = SchemaSet::default();
    let policy = Policy::default_policy().unwrap();
    let mut failures = Vec::new();
    for (i, body) in BROKEN.iter().enumerate() {
        let head = if body.contains("template:") {
            POOL_HEAD
        } else {
            CLASS_HEAD
        };
        let text = format!("{head}{body}");
        let native = run(&text, &policy, &none);
        let crd = run(&text, &policy, &crds);
        let errors = |r: &Report| {
            r.diagnostics
                .iter()
                .any(|d| d.rule == "CEL001" && d.severity == Severity::Error)
        };
        if cel_lines(&native) != cel_lines(&crd) || !errors(&native) || !errors(&crd) {
            failures.push(format!(
                "case {i}:\n{text}\n  native: {:#?}\n  crd:    {:#?}",
                describe(&native),
                describe(&crd)
            ));
        }
    }
    for (i, body) in VALID.iter().enumerate() {
        let head = if body.contains("template:") {
            POOL_HEAD
        } else {
            CLASS_HEAD
        };
        let text = format!("{head}{body}");
        for (path, schemas) in [("native", &none), ("crd", &crds)] {
            let report = run(&text, &policy, schemas);
            if !cel_lines(&report).is_empty() {
                failures.push(format!(
                    "valid case {i} ({path}):\n{text}\n{:#?}",
                    describe(&report)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_karpenter_crd_rule_is_evaluable_offline() {
    use eksgate_policy::cel::crd::{CompiledSchema, RuleState};
    let crds = upstream_crds();
    let mut problems = Vec::new();
    let mut ready = 0;
    for kind in &crds.kinds {
        for site in CompiledSchema::compile(&kind.openapi).sites {
            for rule in &site.rules {
                match &rule.state {
                    RuleState::Ready { .. } => ready += 1,
                    RuleState::Transition => {}
                    RuleState::Invalid(e) => problems.push(format!(
                        "{}: {} does not compile: {e}",
                        kind.kind, rule.rule
                    )),
                    RuleState::Missing(m) => {
                        problems.push(format!("{}: {}: {}", kind.kind, rule.rule, m.describe()))
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(ready >= 80, "only {ready} rules compiled");
}

/// The two custom-rule examples of docs/cel.md.
const CUSTOM_POLICY: &str = r#"apiVersion: eksgate.dev/v1alpha1
kind: Policy
metadata: {name: custom}
spec:
  rules:
    - id: ACME001
      match:
        apiVersion: karpenter.sh/v1
        kinds: [NodePool]
      expression: >-
        object.spec.template.spec.requirements.exists(r,
          r.key == 'karpenter.k8s.aws/instance-generation')
      message: NodePools must pin the instance generation
      severity: warning
    - id: ACME002
      match:
        kinds: [Deployment, StatefulSet]
        namespaces: [shop]
      expression: has(object.metadata.labels) && 'team' in object.metadata.labels
      messageExpression: "'Deployment ' + object.metadata.name + ' has no team label'"
"#;

const CUSTOM_OBJECTS: &str = r#"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: pinned}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}
      requirements:
        - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["5"]}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: unpinned}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}
      requirements: []
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {spec: {containers: [{name: web, image: nginx}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, labels: {team: payments}}
spec: {template: {spec: {containers: [{name: api, image: api}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: elsewhere, namespace: other}
spec: {template: {spec: {containers: [{name: x, image: x}]}}}
"#;

#[test]
fn custom_rules_report_with_their_own_ids() {
    let policy = Policy::from_source(&SourceFile::new("policy.yaml", CUSTOM_POLICY)).unwrap();
    let report = check(
        vec![Input::text("objects.yaml", CUSTOM_OBJECTS)],
        &policy,
        &CheckOptions::default(),
    );
    let custom: Vec<(String, usize, Severity, String)> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.starts_with("ACME"))
        .map(|d| {
            (
                d.rule.to_string(),
                report.position(d).line,
                d.severity,
                d.message.clone(),
            )
        })
        .collect();
    assert_eq!(
        custom,
        vec![
            (
                "ACME001".to_string(),
                12,
                Severity::Warning,
                "NodePools must pin the instance generation".to_string()
            ),
            (
                "ACME002".to_string(),
                21,
                Severity::Error,
                "Deployment web has no team label".to_string()
            ),
        ]
    );
    // SARIF lists the custom rules, and the results point at them.
    let sarif: serde_json::Value =
        serde_json::from_str(&eksgate_policy::render::sarif(&report, "0")).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    for result in results
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("ACME"))
    {
        let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    assert!(rules.iter().any(|r| r["id"] == "ACME002"));
}

#[test]
fn custom_rules_can_be_suppressed_and_errors_are_findings() {
    let policy = Policy::from_source(&SourceFile::new("policy.yaml", CUSTOM_POLICY)).unwrap();
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    eksgate.dev/ignore: \"ACME002: owned by the shop team, labelled by Helm later\"\nspec: {}\n---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {}\n";
    let report = check(
        vec![Input::text("x.yaml", text)],
        &policy,
        &CheckOptions::default(),
    );
    assert_eq!(report.summary.suppressed, 1);
    assert!(
        report.diagnostics.iter().all(|d| d.rule != "SUP001"),
        "{:?}",
        report.diagnostics
    );
    // `object.spec.template` is missing: the expression fails, which is a finding.
    let acme001: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "ACME001")
        .collect();
    assert_eq!(acme001.len(), 1);
    assert!(
        acme001[0].message.contains("fails to evaluate"),
        "{}",
        acme001[0].message
    );
}

#[test]
fn the_custom_rule_examples_match_the_policy_schema() {
    use eksgate_policy::source::{Limits, load};
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/schemas/policy.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let source = SourceFile::new("policy.yaml", CUSTOM_POLICY);
    let policy = load(0, &source, &Limits::default()).documents[0]
        .root
        .to_json();
    let errors: Vec<String> = validator
        .iter_errors(&policy)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // And the schema rejects what the reader rejects: a rule without a message.
    let mut broken = policy.clone();
    broken["spec"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));
}

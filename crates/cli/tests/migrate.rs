//! `eksgate migrate` end to end: the converted text on stdout checks clean of API001, notes on
//! stderr as `FILE:LINE:COL: level: message`, `--write` keeps a backup and never overwrites
//! one, standard input, and the exit codes (0 converted or nothing to do, 1 something left for
//! the user, 2 usage or I/O error).
#![allow(
    clippy::disallowed_methods,
    reason = "end-to-end tests read and write files and run the binary"
)]

mod common;

use std::fs;
use std::path::Path;

use common::{diagnostics, eksgate};

/// A v1beta1 NodePool and its EC2NodeClass with comments, the shapes Karpenter v0.3x documented.
const PAIR: &str = "\
# Client application capacity (Karpenter v0.37).
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: client-acme
spec:
  template:
    metadata:
      labels:
        node-type: applications
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1 # AWS provider
        kind: EC2NodeClass
        name: client-acme
      kubelet:
        maxPods: 58 # m5.xlarge with prefix delegation
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [\"on-demand\"]
  limits:
    cpu: \"100\"
  disruption:
    consolidationPolicy: WhenUnderutilized
    expireAfter: 720h # monthly refresh
---
apiVersion: v1
kind: Namespace
metadata: {name: client-acme}   # not Karpenter: left byte for byte
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata:
  name: client-acme
spec:
  amiFamily: AL2023 # Amazon Linux 2023
  role: KarpenterNodeRole-platform-prod
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: platform-prod
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: platform-prod
  metadataOptions:
    httpTokens: required
    httpPutResponseHopLimit: 1
  tags:
    cost-center: client-projects
    billing-team: development
    workload-type: applications
    client-id: acme
";

/// A v1beta1 EC2NodeClass that cannot be converted automatically.
const UBUNTU: &str = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata:
  name: ubuntu
spec:
  amiFamily: Ubuntu
  role: KarpenterNodeRole-platform-prod
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 1}
";

/// The API001 (and YAML001) findings `eksgate check` gives for `text`, one line each.
fn api001(text: &str) -> Vec<String> {
    let run = eksgate(["check", "--format", "json", "--fail-on", "never", "-"])
        .stdin(text)
        .run();
    run.assert_no_panic();
    assert_eq!(run.code, 0, "{}", run.stderr);
    diagnostics(&run.json())
        .iter()
        .filter(|d| d["rule"] == "API001" || d["rule"] == "YAML001")
        .map(|d| format!("{}:{} {}", d["line"], d["column"], d["message"]))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn prints_the_v1_form_which_checks_clean_of_api001() {
    assert!(
        !api001(PAIR).is_empty(),
        "the input must have API001 findings"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "pair.yaml", PAIR);
    let run = eksgate(["migrate", &file]).run();
    run.assert_no_panic();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        api001(&run.stdout),
        Vec::<String>::new(),
        "\n{}",
        run.stdout
    );

    // Comments stay, the kubelet block moved to the EC2NodeClass, the Namespace is untouched.
    for kept in [
        "# Client application capacity (Karpenter v0.37).\n",
        "        group: karpenter.k8s.aws # AWS provider\n",
        "      expireAfter: 720h # monthly refresh\n",
        "    consolidateAfter: 0s\n",
        "metadata: {name: client-acme}   # not Karpenter: left byte for byte\n",
        "  amiSelectorTerms:\n    - alias: al2023@latest # Amazon Linux 2023\n",
        "    client-id: acme\n  kubelet:\n    maxPods: 58 # m5.xlarge with prefix delegation\n",
    ] {
        assert!(
            run.stdout.contains(kept),
            "missing {kept:?} in\n{}",
            run.stdout
        );
    }
    assert_eq!(run.stdout.matches("kubelet").count(), 1, "{}", run.stdout);

    // Notes: `FILE:LINE:COL: level: message` at the original positions, then a summary.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.contains(
            &format!(
                "{file}:2:13: note: NodePool `client-acme`: `apiVersion` is now `karpenter.sh/v1`"
            )
            .as_str()
        ),
        "{}",
        run.stderr
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with(&format!("{file}:37:3: warning: `amiFamily: AL2023` is now"))
            && l.contains("pin the release you run")),
        "{}",
        run.stderr
    );
    assert_eq!(
        lines.last().copied(),
        Some(format!("{file}: converted 2 objects to Karpenter v1").as_str())
    );
    // The input file is untouched without --write.
    assert_eq!(fs::read_to_string(&file).unwrap(), PAIR);
}

#[test]
fn write_keeps_a_backup_and_never_overwrites_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "pair.yaml", PAIR);
    let printed = eksgate(["migrate", &file]).run().stdout;

    let run = eksgate(["migrate", "--write", &file]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let backup = format!("{file}.v1beta1.bak");
    assert_eq!(fs::read_to_string(&backup).unwrap(), PAIR);
    assert_eq!(fs::read_to_string(&file).unwrap(), printed);
    assert!(
        run.stderr.trim_end().ends_with(&format!(
            "converted 2 objects to Karpenter v1; the original is in {backup}"
        )),
        "{}",
        run.stderr
    );

    // Converting again: nothing to do, nothing written, the backup stays the original.
    let again = eksgate(["migrate", "--write", &file]).run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("nothing to migrate"),
        "{}",
        again.stderr
    );
    assert_eq!(fs::read_to_string(&backup).unwrap(), PAIR);

    // A second file to convert, with a backup already in the way: refused, nothing changed.
    fs::write(&file, PAIR).unwrap();
    let refused = eksgate(["migrate", "--write", &file]).run();
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("already exists"),
        "{}",
        refused.stderr
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), PAIR);
    assert_eq!(fs::read_to_string(&backup).unwrap(), PAIR);
}

#[test]
fn nothing_to_do_exits_0_and_says_so() {
    let v1 = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}   # comment\ndata: {a: b}\n";
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "cm.yaml", v1);
    let run = eksgate(["migrate", &file]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, v1);
    assert_eq!(
        run.stderr,
        format!("{file}: nothing to migrate (no Karpenter v1beta1 objects or fields)\n")
    );
    let write_run = eksgate(["migrate", "--write", &file]).run();
    assert_eq!(write_run.code, 0, "{}", write_run.stderr);
    assert!(!dir.path().join("cm.yaml.v1beta1.bak").exists());
}

#[test]
fn what_cannot_be_converted_exits_1() {
    let run = eksgate(["migrate", "-"]).stdin(UBUNTU).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("<stdin>:6:14: error: `amiFamily: Ubuntu` was removed in v1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 thing needs converting by hand"),
        "{}",
        run.stderr
    );
    // Everything else is converted.
    assert!(
        run.stdout.starts_with("apiVersion: karpenter.k8s.aws/v1\n"),
        "{}",
        run.stdout
    );

    // The bundled example mixes convertible v1beta1 objects with v1alpha5 ones that are not.
    let run = eksgate(["migrate", "examples/broken/deprecated.yaml"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("karpenter-convert"), "{}", run.stderr);
    let left: Vec<String> = api001(&run.stdout);
    assert!(
        left.iter().all(|f| f.contains("v1alpha")),
        "only the v1alpha5/v1alpha1 objects may remain: {left:?}"
    );
}

#[test]
fn write_with_work_left_writes_the_partial_conversion_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ubuntu.yaml", UBUNTU);
    let run = eksgate(["migrate", "--write", &file]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(format!("{file}.v1beta1.bak")).unwrap(),
        UBUNTU
    );
    let written = fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("apiVersion: karpenter.k8s.aws/v1\n"),
        "{written}"
    );
    assert!(written.contains("amiFamily: Ubuntu"), "{written}");
    assert!(
        run.stderr.contains(": error: `amiFamily: Ubuntu`"),
        "{}",
        run.stderr
    );
}

#[test]
fn reads_standard_input() {
    let run = eksgate(["migrate", "-"]).stdin(PAIR).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(api001(&run.stdout), Vec::<String>::new());
    assert!(
        run.stderr.starts_with("<stdin>:2:13: note:"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let missing = eksgate(["migrate", "does/not/exist.yaml"]).run();
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.starts_with("eksgate: error:"),
        "{}",
        missing.stderr
    );

    let stdin_write = eksgate(["migrate", "--write", "-"]).stdin(PAIR).run();
    assert_eq!(stdin_write.code, 2, "{}", stdin_write.stderr);
    assert!(
        stdin_write.stderr.contains("standard input"),
        "{}",
        stdin_write.stderr
    );

    let no_file = eksgate(["migrate"]).run();
    assert_eq!(no_file.code, 2, "{}", no_file.stderr);

    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.yaml");
    fs::write(&binary, b"apiVersion: \xff\xfe\n").unwrap();
    let run = eksgate(["migrate", &binary.display().to_string()]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("invalid UTF-8"), "{}", run.stderr);
}

#[test]
fn unparsable_yaml_is_left_alone() {
    let broken = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nspec: {template: [\n";
    let run = eksgate(["migrate", "-"]).stdin(broken).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, broken);
    assert!(
        run.stderr.contains("error: cannot read the file"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_api001_fixture_converts_clean_or_explains() {
    let dir = common::workspace_root().join("crates/policy/tests/fixtures/API001/fail");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in cases {
        let run = eksgate(["migrate", &case.display().to_string()]).run();
        run.assert_no_panic();
        let left = api001(&run.stdout);
        match run.code {
            0 => assert!(
                left.is_empty(),
                "{}: exit 0 but API001 remains: {left:?}\n{}",
                case.display(),
                run.stdout
            ),
            1 => assert!(
                run.stderr.contains(": error: "),
                "{}: exit 1 without an error note:\n{}",
                case.display(),
                run.stderr
            ),
            code => panic!("{}: exit {code}\n{}", case.display(), run.stderr),
        }
    }
}

/// Every YAML/JSON file below `dir`.
fn corpus(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            corpus(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

/// API001 findings of `text` through the library.
fn api001_lib(text: &str) -> usize {
    use eksgate_policy::{CheckOptions, Input, Policy, check};
    check(
        vec![Input::text("x.yaml", text)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    )
    .diagnostics
    .iter()
    .filter(|d| d.rule == "API001")
    .count()
}

/// The whole corpus of the repository (rule fixtures, CLI fixtures, examples), and each file
/// re-encoded as one JSON `List`: migrate never panics, its output parses, a complete
/// conversion leaves no API001 finding, a second run changes nothing, and an input with API001
/// findings is either converted or explained.
#[test]
fn the_whole_corpus_migrates_consistently() {
    use eksgate_policy::{Limits, SourceFile, migrate, source};
    let root = common::workspace_root();
    let mut files = Vec::new();
    for dir in [
        "crates/policy/tests/fixtures",
        "crates/cli/tests/fixtures",
        "examples",
    ] {
        corpus(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 100, "{} files", files.len());
    let mut failures = Vec::new();
    let mut converted = 0;
    for path in &files {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let loaded = source::load(0, &SourceFile::new("x", text.as_str()), &Limits::default());
        let mut variants = vec![(shown.clone(), text.clone())];
        if loaded
            .notes
            .iter()
            .all(|n| n.kind != source::ParseNoteKind::Syntax)
            && loaded
                .documents
                .iter()
                .all(|d| d.origin == source::Origin::Stream)
        {
            let items: Vec<_> = loaded.documents.iter().map(|d| d.root.to_json()).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            variants.push((
                format!("{shown} (as JSON)"),
                serde_json::to_string_pretty(&list).unwrap() + "\n",
            ));
        }
        for (name, input) in variants {
            let m = migrate::to_v1(&SourceFile::new(name.as_str(), input.as_str()));
            if m.changed {
                converted += 1;
            }
            let out = SourceFile::new("out", m.text.as_str());
            let reparsed = source::load(0, &out, &Limits::default());
            if m.changed
                && reparsed
                    .notes
                    .iter()
                    .any(|n| n.kind == source::ParseNoteKind::Syntax)
            {
                failures.push(format!("{name}: output does not parse\n{}", m.text));
            }
            if name.ends_with("(as JSON)")
                && serde_json::from_str::<serde_json::Value>(&m.text).is_err()
            {
                failures.push(format!("{name}: output is not JSON\n{}", m.text));
            }
            let left = api001_lib(&m.text);
            if m.is_complete() && left > 0 {
                failures.push(format!(
                    "{name}: complete, yet {left} API001 left\n{}",
                    m.text
                ));
            }
            if !m.changed && m.is_complete() && api001_lib(&input) > 0 {
                failures.push(format!(
                    "{name}: API001 findings, but nothing converted or explained"
                ));
            }
            if m.changed && migrate::to_v1(&out).changed {
                failures.push(format!("{name}: a second run changes the output again"));
            }
        }
    }
    assert!(converted >= 20, "only {converted} files converted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

//! Hostile inputs through the built binary. Each run is killed after 20 s (a hang fails the
//! test) and must not panic: exit 0, 1 or 2, never 101, no "panicked" on stderr. Inputs that
//! cannot be read give a `YAML001` finding at the right place, or a clear error. Every input
//! is rendered both as JSON and as human code frames, since renderers slice text too.
//!
//! Generated inputs live in temporary directories; nothing large is committed.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use common::{Output, describe, diagnostics, eksgate};
use serde_json::Value;

/// Writes `bytes` to `name` in a fresh temporary directory and checks it in both formats.
/// Returns the JSON run (parsed) and the human run.
fn check_bytes(name: &str, bytes: &[u8]) -> (Value, Output) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(name), bytes).unwrap();
    check_in(tmp.path(), name, &[])
}

fn check_in(dir: &Path, name: &str, extra: &[&str]) -> (Value, Output) {
    let mut json_args = vec!["check", "--format", "json"];
    json_args.extend_from_slice(extra);
    json_args.push(name);
    let json = eksgate(&json_args).current_dir(dir).run();
    json.assert_no_panic();
    assert!(
        [0, 1, 2].contains(&json.code),
        "{}: exit {}",
        json.shown,
        json.code
    );
    let report = json.json();

    let mut human_args = vec!["check"];
    human_args.extend_from_slice(extra);
    human_args.push(name);
    let human = eksgate(&human_args).current_dir(dir).run();
    human.assert_no_panic();
    assert_eq!(
        human.code, json.code,
        "both formats exit alike: {}",
        human.stdout
    );
    (report, human)
}

/// The single YAML001 finding of a report, with its message.
fn yaml001(report: &Value) -> &Value {
    let found: Vec<&Value> = diagnostics(report)
        .iter()
        .filter(|d| d["rule"] == "YAML001")
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one YAML001 expected:\n{}",
        describe(report)
    );
    found[0]
}

fn position(d: &Value) -> (u64, u64) {
    (
        d["line"].as_u64().unwrap_or_default(),
        d["column"].as_u64().unwrap_or_default(),
    )
}

fn assert_clean(report: &Value, human: &Output) {
    assert!(diagnostics(report).is_empty(), "{}", describe(report));
    assert_eq!(human.code, 0);
    assert!(human.stdout.starts_with("No findings"), "{}", human.stdout);
}

#[test]
fn malformed_yaml_is_yaml001_at_the_fault() {
    let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata:\n  name: apps\n spec:\n  limits: {cpu: \"100\"}\n";
    let (report, human) = check_bytes("bad.yaml", text.as_bytes());
    assert_eq!(position(yaml001(&report)), (5, 2));
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("error[YAML001]"), "{}", human.stdout);
    assert!(
        human.stdout.contains(" spec:"),
        "the frame shows the line: {}",
        human.stdout
    );
}

#[test]
fn unterminated_flow_collection() {
    let (report, _) = check_bytes(
        "flow.yaml",
        b"apiVersion: v1\nkind: ConfigMap\ndata: {a: [1, 2\n",
    );
    let d = yaml001(&report);
    assert!(d["line"].as_u64().unwrap() >= 3, "{d}");
    let (report, _) = check_bytes("flow.json", b"{\"apiVersion\": \"v1\", \"items\": [");
    yaml001(&report);
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    text.push_str("  a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("  {next}: &{next} [{refs}]\n"));
    }
    let (report, human) = check_bytes("lol.yaml", text.as_bytes());
    let d = yaml001(&report);
    assert!(d["message"].as_str().unwrap().contains("aliases"), "{d}");
    assert!(
        human.elapsed < Duration::from_secs(10),
        "took {:?}",
        human.elapsed
    );
}

#[test]
fn deep_block_nesting_is_refused() {
    let text = "- ".repeat(10_000) + "x\n";
    let (report, human) = check_bytes("deep.yaml", text.as_bytes());
    let d = yaml001(&report);
    assert!(d["message"].as_str().unwrap().contains("deeper"), "{d}");
    assert!(human.stdout.contains("YAML001"));
}

#[test]
fn deep_flow_nesting_is_refused() {
    let text = "[".repeat(10_000);
    let (report, _) = check_bytes("deep-flow.yaml", text.as_bytes());
    yaml001(&report);
    let text = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    let (report, _) = check_bytes("deep.json", text.as_bytes());
    yaml001(&report);
}

#[test]
fn deep_nesting_through_stdin() {
    let run = eksgate(["check", "--format", "json", "-"])
        .stdin("- ".repeat(50_000))
        .run();
    run.assert_no_panic();
    yaml001(&run.json());
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    // `π` is one character (two bytes) before the bad byte on line 3.
    let bytes = b"apiVersion: v1\nkind: ConfigMap\ndata: {k: \"\xcf\x80 h\xffllo\"}\n".to_vec();
    let (report, human) = check_bytes("latin1.yaml", &bytes);
    let d = yaml001(&report);
    assert_eq!(position(d), (3, 15), "{d}");
    assert!(d["message"].as_str().unwrap().contains("UTF-8"), "{d}");
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("latin1.yaml:3:15"),
        "{}",
        human.stdout
    );
}

#[test]
fn binary_garbage_is_not_utf8() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let (report, _) = check_bytes("image.yaml", &bytes);
    assert_eq!(position(yaml001(&report)), (1, 1));
}

#[test]
fn a_100_mb_file_is_refused_by_size_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let file = fs::File::create(tmp.path().join("huge.yaml")).unwrap();
    // Sparse: 100 MB long, no disk used.
    file.set_len(100 * 1024 * 1024).unwrap();
    drop(file);
    let (report, human) = check_in(tmp.path(), "huge.yaml", &[]);
    let d = yaml001(&report);
    assert!(d["message"].as_str().unwrap().contains("limit"), "{d}");
    assert_eq!(human.code, 1);
    assert!(
        human.elapsed < Duration::from_secs(10),
        "took {:?}",
        human.elapsed
    );
}

#[test]
fn max_file_size_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n".repeat(100);
    fs::write(tmp.path().join("big.yaml"), &text).unwrap();
    let (report, _) = check_in(tmp.path(), "big.yaml", &["--max-file-size", "1024"]);
    let d = yaml001(&report);
    assert!(d["message"].as_str().unwrap().contains("1024"), "{d}");
    let (report, _) = check_in(tmp.path(), "big.yaml", &["--max-file-size", "1000000"]);
    assert!(diagnostics(&report).is_empty());
}

#[cfg(unix)]
#[test]
fn an_oversized_stream_is_not_read_to_the_end() {
    // Standard input that would deliver 100 MB: eksgate must stop reading shortly after its
    // limit (1 MiB here), so the writer is cut off long before the end. (A named pipe given as
    // a path is refused without being read at all: see tests/files.rs.)
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_eksgate"))
        .args([
            "check",
            "--format",
            "json",
            "--max-file-size",
            "1048576",
            "-",
        ])
        .env_remove("EKSGATE_POLICY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'#'; 64 * 1024];
        let mut written = 0usize;
        while written < 100 * 1024 * 1024 {
            match pipe.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break,
            }
        }
        written
    });
    let deadline = std::time::Instant::now() + common::DEADLINE;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("eksgate did not finish reading a bounded stream");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    yaml001(&report);
    let written = writer.join().unwrap();
    assert!(
        written < 4 * 1024 * 1024,
        "eksgate read {written} bytes of a stream it had to refuse after 1 MiB"
    );
}

/// The positions of every finding: `(rule, line, column, end_line, end_column)`.
fn positions(report: &Value) -> Vec<(String, u64, u64, u64, u64)> {
    diagnostics(report)
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap_or_default();
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                n("line"),
                n("column"),
                n("end_line"),
                n("end_column"),
            )
        })
        .collect()
}

#[test]
fn crlf_and_bom_keep_the_same_positions() {
    let lf = "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: infrastructure
  labels: {legacy: yes}
spec:
  role: KarpenterNodeRole-platform-prod
  amiSelectorTerms: [{alias: al2023@v20240807}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  metadataOptions:
    httpTokens: optional
  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken}
data:
  a: b
   c: d
";
    let crlf = lf.replace('\n', "\r\n");
    let variants = [
        ("lf.yaml", lf.as_bytes().to_vec()),
        ("crlf.yaml", crlf.as_bytes().to_vec()),
        (
            "bom.yaml",
            [b"\xef\xbb\xbf".as_slice(), lf.as_bytes()].concat(),
        ),
        (
            "bom-crlf.yaml",
            [b"\xef\xbb\xbf".as_slice(), crlf.as_bytes()].concat(),
        ),
    ];
    let mut seen = Vec::new();
    for (name, bytes) in variants {
        let (report, human) = check_bytes(name, &bytes);
        let found = positions(&report);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            rules,
            // One problem, one finding: YAML002 says why `yes` is not a string, SCH001 is silent.
            ["YAML002", "IMDS001", "YAML001"],
            "{name}: {}",
            describe(&report)
        );
        assert!(
            !human.stdout.contains('\r'),
            "{name}: a CR in the code frame"
        );
        assert!(
            !human.stdout.contains('\u{feff}'),
            "{name}: the BOM in the code frame"
        );
        seen.push((name, found));
    }
    let (_, first) = &seen[0];
    assert_eq!(
        (first[0].1, first[0].2),
        (5, 20),
        "YAML002 on `yes` at 5:20"
    );
    for (name, found) in &seen[1..] {
        assert_eq!(found, first, "{name} must report what the LF file reports");
    }
}

#[test]
fn a_bom_on_the_first_line_is_not_a_column() {
    let (report, _) = check_bytes(
        "bom.yaml",
        b"\xef\xbb\xbfx: on\napiVersion: v1\nkind: ConfigMap\n",
    );
    let d = &diagnostics(&report)[0];
    assert_eq!((position(d), &d["end_column"]), ((1, 4), &Value::from(6)));
}

#[test]
fn tab_indentation_is_yaml001() {
    let (report, human) = check_bytes(
        "tabs.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabs\n",
    );
    assert_eq!(yaml001(&report)["line"], 4);
    assert_eq!(human.code, 1);
}

#[test]
fn nul_bytes_are_yaml001() {
    let (report, _) = check_bytes("nul.yaml", b"apiVersion: v1\nkind: Config\0Map\n");
    assert_eq!(position(yaml001(&report)), (2, 13));
}

#[test]
fn empty_inputs_are_clean() {
    for (name, bytes) in [
        ("empty.yaml", b"".as_slice()),
        ("comments.yaml", b"# nothing here\n# still nothing\n"),
        ("separator.yaml", b"---\n"),
        // (`...` alone between separators is an error to kubectl: "did not find expected node
        // content"; see `a_lone_document_end_marker_is_what_kubectl_rejects`.)
        ("separators.yaml", b"---\n---\n# c\n---\n"),
        ("blank.yaml", b"\n\n   \n"),
        ("empty.json", b""),
    ] {
        let (report, human) = check_bytes(name, bytes);
        assert_clean(&report, &human);
        assert_eq!(report["summary"]["documents"], 0, "{name}");
        assert_eq!(report["summary"]["files"], 1, "{name}");
    }
    let run = eksgate(["check", "--format", "json", "-"]).stdin("").run();
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["summary"]["documents"], 0);
}

#[test]
fn many_documents_and_long_lines_finish() {
    let many = "---\na: 1\n".repeat(50_000);
    let (report, _) = check_bytes("many.yaml", many.as_bytes());
    assert_eq!(report["summary"]["documents"], 50_000);
    let long = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{k: \"{}\", b: on}}\n",
        "x".repeat(2_000_000)
    );
    let (report, human) = check_bytes("long.yaml", long.as_bytes());
    assert_eq!(positions(&report)[0].0, "YAML002");
    assert!(
        human.stdout.len() < 10_000,
        "the frame of a 2 MB line is cut: {} bytes",
        human.stdout.len()
    );
}

#[test]
fn an_alias_to_an_unknown_anchor_is_yaml001() {
    let (report, _) = check_bytes(
        "alias.yaml",
        b"apiVersion: v1\nkind: ConfigMap\ndata: *nowhere\n",
    );
    assert_eq!(yaml001(&report)["line"], 3);
}

#[test]
fn size_refusal_reports_the_real_size() {
    let tmp = tempfile::tempdir().unwrap();
    let file = fs::File::create(tmp.path().join("huge.yaml")).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap();
    drop(file);
    let (report, _) = check_in(tmp.path(), "huge.yaml", &[]);
    let message = yaml001(&report)["message"].as_str().unwrap().to_string();
    assert!(message.contains("104857600"), "{message}");
}

#[test]
fn a_lone_document_end_marker_is_what_kubectl_rejects() {
    // kubectl 1.32: `error converting YAML to JSON: yaml: did not find expected node content`.
    let (report, _) = check_bytes("dots.yaml", b"---\n---\n...\n---\n");
    let finding = yaml001(&report);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("did not find expected node content"),
        "{finding}"
    );
}

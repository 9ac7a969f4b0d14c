//! Output formats: SARIF validates against the official OASIS schema (read from ../shared, not
//! copied), GitHub workflow commands escape hostile text, Markdown tables keep their shape, JUnit
//! is well-formed with one case per checked object.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    reason = "tests read fixture files and fail loudly"
)]

use std::path::{Path, PathBuf};

use eksgate_policy::render::{Format, RenderOptions, escape_data, escape_property, render};
use eksgate_policy::{CheckOptions, Input, Policy, Report, SourceFile, check};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for rule in std::fs::read_dir(root).unwrap() {
        for outcome in std::fs::read_dir(rule.unwrap().path()).unwrap() {
            for file in std::fs::read_dir(outcome.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with(".snap") && name != "policy.yaml" {
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
        let text = std::fs::read_to_string(&custom).unwrap();
        Policy::from_source(&SourceFile::new("policy.yaml", text)).unwrap()
    } else {
        Policy::default_policy().unwrap()
    }
}

fn report_for(path: &Path) -> Report {
    if path.is_dir() {
        // A repository-layout case: every file below it, in one run.
        fn walk(dir: &Path, out: &mut Vec<Input>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.file_name().is_some_and(|n| n != "policy.yaml") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.push(Input::text(p.display().to_string(), text));
                }
            }
        }
        let mut inputs = Vec::new();
        walk(path, &mut inputs);
        let custom = path.join("policy.yaml");
        let policy = if custom.exists() {
            let text = std::fs::read_to_string(&custom).unwrap();
            Policy::from_source(&SourceFile::new("policy.yaml", text)).unwrap()
        } else {
            policy_beside(path)
        };
        return check(inputs, &policy, &CheckOptions::default());
    }
    let text = std::fs::read_to_string(path).unwrap();
    check(
        vec![Input::text(path.display().to_string(), text)],
        &policy_beside(path),
        &CheckOptions::default(),
    )
}

const OPTIONS: RenderOptions = RenderOptions {
    color: false,
    version: "0.1.0",
};

fn sarif_validator() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/sarif-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the SARIF schema oracle {} is missing ({e}); CI clones the project beside shared/",
            path.display()
        )
    });
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft4::new(&schema).unwrap()
}

#[test]
fn sarif_of_every_fixture_validates_against_the_official_schema() {
    let validator = sarif_validator();
    let mut checked = 0;
    let mut with_fixes = 0;
    let region_uri = |result: &serde_json::Value| {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()
    };
    for path in fixture_files() {
        let report = report_for(&path);
        let log: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Sarif, OPTIONS)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), report.diagnostics.len());
        for (result, d) in results.iter().zip(&report.diagnostics) {
            let region = &result["locations"][0]["physicalLocation"]["region"];
            let p = report.position(d);
            assert_eq!(region["startLine"], p.line);
            assert_eq!(region["startColumn"], p.column);
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                log["runs"][0]["tool"]["driver"]["rules"][index]["id"],
                d.rule.as_ref()
            );
            match &d.fix {
                Some(fix) => {
                    let change = &result["fixes"][0]["artifactChanges"][0];
                    assert_eq!(change["artifactLocation"]["uri"], region_uri(result));
                    let replacements = change["replacements"].as_array().unwrap();
                    assert_eq!(replacements.len(), fix.edits.len());
                    for (r, e) in replacements.iter().zip(&fix.edits) {
                        assert_eq!(r["insertedContent"]["text"], e.replacement.as_str());
                        let file = &report.files[d.file];
                        let (line, column) = file.line_col(e.span.start as u32);
                        assert_eq!(r["deletedRegion"]["startLine"], line);
                        assert_eq!(r["deletedRegion"]["startColumn"], column);
                    }
                    with_fixes += 1;
                }
                None => assert!(result.get("fixes").is_none()),
            }
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} fixtures found");
    assert!(with_fixes > 5, "only {with_fixes} results carry fixes");
}

#[test]
fn sarif_describes_only_the_rules_that_fired() {
    let clean = check(
        Vec::new(),
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let log: serde_json::Value =
        serde_json::from_str(&render(&clean, Format::Sarif, OPTIONS)).unwrap();
    assert!(sarif_validator().is_valid(&log));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"],
        serde_json::json!([]),
        "a clean run describes no rule"
    );

    let report = check(
        vec![Input::text("a.yaml", IMDS), Input::text("b.yaml", WARNINGS)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let text = render(&report, Format::Sarif, OPTIONS);
    let log: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(sarif_validator().is_valid(&log));
    let fired: std::collections::BTreeSet<&str> =
        report.diagnostics.iter().map(|d| d.rule.as_ref()).collect();
    assert!(fired.len() >= 3, "{fired:?}");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let described: std::collections::BTreeSet<&str> =
        rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(described, fired);
    for rule in rules {
        let meta = eksgate_policy::rules::find(rule["id"].as_str().unwrap())
            .unwrap()
            .meta();
        assert_eq!(rule["name"], meta.name);
        assert_eq!(rule["shortDescription"]["text"], meta.summary());
        let url = format!(
            "https://github.com/eksgate/eksgate/blob/main/docs/rules/{}.md",
            meta.id
        );
        assert_eq!(rule["helpUri"], url.as_str());
        let help = rule["help"]["markdown"].as_str().unwrap();
        assert!(help.contains(&format!("]({url})")), "{help}");
        assert!(help.len() < 400, "help stays short: {help}");
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level));
    }
    assert!(
        text.len() < 20 * 1024,
        "{} findings make {} bytes of SARIF",
        report.diagnostics.len(),
        text.len()
    );
}

#[test]
fn sarif_uris_are_encoded() {
    assert_eq!(
        eksgate_policy::render::path_to_uri("k8s/my pools/a#1.yaml"),
        "k8s/my%20pools/a%231.yaml"
    );
    assert_eq!(
        eksgate_policy::render::path_to_uri("dir\\ü.yaml"),
        "dir/%C3%BC.yaml"
    );
}

/// A NodePool with several warnings (no limits, no budget...) besides errors.
const WARNINGS: &str = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: infra}\nspec:\n  template:\n    metadata: {labels: {node-type: infrastructure}}\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}\n      requirements: [{key: karpenter.sh/capacity-type, operator: In, values: [spot]}]\n";

const IMDS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: optional}\n  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}\n";

#[test]
fn github_commands_escape_hostile_file_names_and_messages() {
    assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
    assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    let name = "odd,dir:50%/line\nbreak.yaml";
    let report = check(
        vec![Input::text(name, IMDS)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let out = render(&report, Format::Github, OPTIONS);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        report.diagnostics.len() + 1,
        "one line per finding, then the summary: {out}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(
            format!(
                "::notice title=eksgate::{}",
                eksgate_policy::render::summary_line(&report)
            )
            .as_str()
        )
    );
    let line = lines.iter().find(|l| l.contains("IMDS001")).unwrap();
    assert!(
        line.starts_with("::error file=odd%2Cdir%3A50%25/line%0Abreak.yaml,line=5,col="),
        "{line}"
    );
    let (props, message) = line
        .trim_start_matches("::error ")
        .split_once("::")
        .unwrap();
    // Properties split cleanly on `,` and `=` once escaped.
    let keys: Vec<&str> = props
        .split(',')
        .map(|p| p.split_once('=').unwrap().0)
        .collect();
    assert_eq!(
        keys,
        ["file", "line", "col", "endLine", "endColumn", "title"]
    );
    assert!(message.contains("%0Ahelp: "), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn github_commands_drop_columns_for_multi_line_ranges() {
    let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata:\n  name: infra\nspec:\n  template:\n    metadata:\n      labels: {node-type: infrastructure}\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}\n      requirements: []\n      taints:\n        - key: workload-type\n          value: infrastructure\n          effect: PreferNoSchedule\n";
    let report = check(
        vec![Input::text("p.yaml", text)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let out = render(&report, Format::Github, OPTIONS);
    let line = out.lines().find(|l| l.contains("SEP001")).unwrap();
    assert!(line.contains("line=13,endLine=15,title="), "{line}");
    assert!(!line.contains("col="), "{line}");
}

#[test]
fn markdown_has_a_summary_table_and_findings_by_file() {
    let hostile = IMDS.replace("name: infra", "name: \"in|fra\"");
    let report = check(
        vec![
            Input::text("a.yaml", IMDS),
            Input::text("b <x>.yaml", hostile.as_str()),
        ],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let out = render(&report, Format::Markdown, OPTIONS);
    assert!(out.starts_with("### eksgate\n"));
    // Every table row has as many cells as its header.
    let mut header_cells = None;
    for line in out.lines() {
        if !line.starts_with('|') {
            header_cells = None;
            continue;
        }
        let cells = line.replace("\\|", "").matches('|').count();
        match header_cells {
            None => header_cells = Some(cells),
            Some(n) => assert_eq!(cells, n, "ragged row: {line}"),
        }
    }
    assert!(out.contains("| `IMDS001` | error | 2 |"), "{out}");
    assert!(out.contains("<code>a.yaml</code>"));
    assert!(out.contains("<code>b &lt;x&gt;.yaml</code>"));
    let clean = check(
        vec![],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    assert!(!render(&clean, Format::Markdown, OPTIONS).contains('|'));
}

#[test]
fn junit_is_well_formed_with_one_case_per_checked_object() {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let two_objects = format!("{IMDS}---\n{}", IMDS.replace("name: infra", "name: other"));
    let report = check(
        vec![
            Input::text("a.yaml", two_objects.as_str()),
            Input::text("b&<c>.yaml", "kind: ConfigMap\n"),
        ],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let xml = render(&report, Format::Junit, OPTIONS);
    let mut reader = Reader::from_str(&xml);
    let (mut failures, mut suites) = (0, 0);
    let mut cases = Vec::new();
    let mut failure_text = String::new();
    let mut in_failure = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let name = e.try_get_attribute("name").unwrap().unwrap();
                cases.push(name.unescape_value().unwrap().into_owned());
            }
            Event::Start(e) if e.name().as_ref() == b"failure" => {
                failures += 1;
                in_failure = true;
            }
            Event::Start(e) if e.name().as_ref() == b"testsuite" => suites += 1,
            Event::Text(t) if in_failure => failure_text.push_str(&t.decode().unwrap()),
            Event::End(e) if e.name().as_ref() == b"failure" => in_failure = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, 2);
    assert_eq!(
        cases,
        [
            "EC2NodeClass/infra (document 1)",
            "EC2NodeClass/other (document 2)"
        ],
        "one case per checked object; the ConfigMap is not one: {xml}"
    );
    assert_eq!(failures, 2);
    let imds = report
        .diagnostics
        .iter()
        .find(|d| d.rule == "IMDS001")
        .unwrap();
    assert!(
        failure_text.contains(&format!(
            "5:{} error[IMDS001] ",
            report.position(imds).column
        )),
        "{failure_text}"
    );
    assert!(xml.contains("b&amp;&lt;c&gt;.yaml"));
}

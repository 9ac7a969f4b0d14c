//! `eksgate deploy` end to end against the nearest real parts (see `support`).

mod support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use support::*;

fn plan(stages: &str) -> String {
    format!(
        "apiVersion: eksgate.dev/v1alpha1
kind: DeployPlan
metadata: {{name: test}}
spec:
  cluster: {{name: demo, region: us-east-1}}
  credentials: {{roleArn: {ROLE_ARN}}}
  stages:
{stages}"
    )
}

fn double_ok() -> AwsScript {
    AwsScript {
        sts: VecDeque::from([sts_ok()]),
        cluster: VecDeque::from([cluster("ACTIVE")]),
        ..AwsScript::default()
    }
}

#[test]
fn token_signature_matches_aws_eks_get_token() {
    let out = Command::new("aws")
        .args([
            "eks",
            "get-token",
            "--cluster-name",
            "demo",
            "--region",
            "us-east-1",
            "--output",
            "json",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "session/token+value")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        panic!("`aws eks get-token` must run here (awscli is installed)");
    };
    let cred: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ExecCredential JSON");
    let theirs = cred
        .pointer("/status/token")
        .and_then(|t| t.as_str())
        .expect("token");
    let theirs = eksgate_deploy::token::decode(theirs).expect("decode aws token");
    let date = theirs.param("X-Amz-Date").expect("date");
    // Sign at the CLI's second with the same credentials: the URLs must be identical.
    let at = parse_date(date);
    let creds = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("session/token+value".into()),
        None,
        "test",
    );
    let ours = eksgate_deploy::token::eks_token(&creds, "demo", "us-east-1", at).expect("sign");
    assert!(!ours.contains('='), "no padding");
    let ours = eksgate_deploy::token::decode(&ours).expect("decode ours");
    assert_eq!(ours.host, theirs.host);
    assert_eq!(ours.path, theirs.path);
    let as_map = |d: &eksgate_deploy::token::DecodedToken| {
        d.params.iter().cloned().collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        as_map(&ours),
        as_map(&theirs),
        "same parameters, same values, same signature"
    );
    assert_eq!(ours.param("X-Amz-Expires"), Some("60"));
}

fn parse_date(text: &str) -> SystemTime {
    let out = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!(
                "{}-{}-{} {}:{}:{}",
                &text[0..4],
                &text[4..6],
                &text[6..8],
                &text[9..11],
                &text[11..13],
                &text[13..15]
            ),
            "+%s",
        ])
        .output()
        .expect("date");
    let secs: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("epoch");
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn oidc_sts_and_eks_through_the_real_sdk_against_moto() {
    let Some(moto) = moto() else { return };
    let aws = |args: &[&str]| {
        let status = Command::new("aws")
            .args(args)
            .args(["--endpoint-url", &moto.url, "--region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .stdout(Stdio::null())
            .status()
            .expect("aws cli");
        assert!(status.success(), "aws {args:?}");
    };
    aws(&[
        "eks",
        "create-cluster",
        "--name",
        "demo",
        "--role-arn",
        "arn:aws:iam::123456789012:role/eks",
        "--resources-vpc-config",
        "subnetIds=subnet-1",
    ]);
    aws(&[
        "eks",
        "create-nodegroup",
        "--cluster-name",
        "demo",
        "--nodegroup-name",
        "ng-1",
        "--node-role",
        "arn:aws:iam::123456789012:role/node",
        "--subnets",
        "subnet-1",
    ]);
    let oidc = oidc_server();
    let (kube, kube_state) = kube_server(KubeSettings {
        access_key: String::new(), // moto issues its own random keys
        ..KubeSettings::default()
    });
    let run = Run::new().actions(&oidc, &moto.url);
    run.write("deploy.yaml", &plan("    - name: cluster\n      gates: [eks-cluster-active, nodegroups-active, {name: kubernetes-api, timeout: 30s}]\n"));
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("AssumeRoleWithWebIdentity `arn:aws:iam::123456789012:role/eksgate-deploy` as session `eksgate-platform-987654321-1`"), "{}", out.all());
    assert!(
        out.stdout.contains("cluster `demo` is ACTIVE"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("1 nodegroup(s) ACTIVE"),
        "{}",
        out.all()
    );
    assert_eq!(out.output("result").as_deref(), Some("success"));
    assert_eq!(out.output("cluster-endpoint"), Some(kube.url()));
    assert_eq!(out.output("stages-completed").as_deref(), Some("cluster"));
    let st = kube_state.lock().expect("lock");
    assert!(st.token_errors.is_empty(), "{:?}", st.token_errors);
    assert!(st.readyz_calls >= 3, "readyz flipped after two failures");
    // moto's keys are masked and redacted too: they never reach the outputs.
    assert!(!out.stderr.contains("ASIA"), "{}", out.stderr);
}

/// Copies `examples/deploy` into the run directory.
fn copy_example(run: &Run) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy");
    let status = Command::new("cp")
        .args([
            "-r",
            &format!("{}/.", src.display()),
            &run.dir.path().display().to_string(),
        ])
        .status()
        .expect("cp");
    assert!(status.success());
}

/// The example's terraform commands, in plan order (`program` is what eksgate runs).
fn example_terraform_calls() -> Vec<Vec<&'static str>> {
    let apply = ["-chdir=infra", "apply", "-auto-approve", "-input=false"];
    let with = |extra: &[&'static str]| {
        apply
            .iter()
            .chain(extra)
            .copied()
            .chain(["-var-file=env/prod.tfvars"])
            .collect::<Vec<_>>()
    };
    vec![
        vec!["-chdir=infra", "init", "-input=false"],
        with(&["-target=module.network"]),
        with(&["-target=module.eks"]),
        with(&[]),
    ]
}

/// The example plan with the real terraform when it is on PATH (which applies the
/// `terraform_data` root), else with the argument recorder.
#[test]
fn the_example_plan_end_to_end() {
    let oidc = oidc_server();
    let (aws, aws_state) = aws_double(AwsScript {
        sts: VecDeque::from([
            sts_error(400, "IDPCommunicationError", "the IdP did not answer"),
            sts_ok(),
        ]),
        cluster: VecDeque::from([
            cluster("CREATING"),
            eks_error(429, "ThrottlingException", "Rate exceeded"),
            eks_error(500, "ServerException", "internal error"),
            cluster("CREATING"),
            cluster("ACTIVE"),
        ]),
        ..AwsScript::default()
    });
    let (kube, kube_state) = kube_server(KubeSettings {
        cluster: "acme-prod".into(),
        ..KubeSettings::default()
    });
    let mut run = Run::new().actions(&oidc, &aws.url());
    let tf = run.terraform();
    copy_example(&run);
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());

    // Credentials: a transient IDP error was retried, then the role assumed.
    let calls = aws_state.lock().expect("lock").calls.clone();
    assert_eq!(
        calls
            .iter()
            .filter(|c| *c == "sts:AssumeRoleWithWebIdentity")
            .count(),
        2
    );
    // The cluster gate waited through CREATING, throttling and a 5xx.
    assert!(
        out.stdout.contains("cluster `acme-prod` is CREATING"),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("ThrottlingException"), "{}", out.all());
    assert!(out.stdout.contains("ServerException"), "{}", out.all());
    assert!(
        out.stdout.contains("[kubernetes-api] ready"),
        "{}",
        out.all()
    );

    // Terraform: init once, each stage applies only its targets, in plan order, and the full
    // apply waits for the last stage, after the node pools are ready.
    let pos = |needle: &str| {
        out.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in output\n{}", out.all()))
    };
    assert_eq!(
        out.stdout.matches("init -input=false").count(),
        1,
        "init once per directory"
    );
    assert!(out.stdout.contains("::group::terraform: stage `network`"));
    let ran = |args: &[&str]| pos(&format!("$ {} {}", tf.program(), args.join(" ")));
    let expected = example_terraform_calls();
    assert!(ran(&expected[1]) < pos("stage `cluster`"));
    assert!(pos("stage `cluster`") < ran(&expected[2]));
    assert!(ran(&expected[2]) < pos("[kubernetes-api] ready"));
    assert!(pos("[nodepools-ready] ready") < ran(&expected[3]));
    match &tf {
        Terraform::Real => {
            assert!(
                pos("module.network.terraform_data.vpc: Creation complete")
                    < pos("stage `cluster`")
            );
            assert!(
                pos("stage `cluster`")
                    < pos("module.eks.terraform_data.cluster: Creation complete")
            );
            assert!(
                pos("stage `apps`")
                    < pos("module.apps.terraform_data.platform_release: Creation complete")
            );
            assert!(
                !out.stdout[..pos("stage `cluster`")].contains("module.eks."),
                "network stage touched only module.network"
            );
            assert!(
                !out.stdout[..pos("stage `apps`")].contains("module.apps."),
                "the full apply waited for the last stage"
            );
            let state = Command::new("terraform")
                .args(["-chdir=infra", "state", "list"])
                .current_dir(run.dir.path())
                .envs(run.env.iter().cloned())
                .output()
                .expect("state list");
            let state = String::from_utf8_lossy(&state.stdout);
            for r in [
                "module.network.terraform_data.vpc",
                "module.eks.terraform_data.ci_access_entry",
                "module.apps.terraform_data.platform_release",
            ] {
                assert!(state.contains(r), "{r} not in state:\n{state}");
            }
        }
        Terraform::Recorder { .. } => {
            let calls = tf.calls();
            let argv: Vec<Vec<&str>> = calls
                .iter()
                .map(|c| c.args.iter().map(String::as_str).collect())
                .collect();
            assert_eq!(
                argv, expected,
                "init once, then each stage's targets in order"
            );
            let here = run.dir.path().canonicalize().expect("run dir");
            assert!(calls.iter().all(|c| c.cwd == here), "{calls:?}");
        }
    }

    // Manifests: CRDs, then (once served) the node classes and pools, then namespace + app.
    let st = kube_state.lock().expect("lock");
    let applies = st.applies.clone();
    let at = |x: &str| {
        applies
            .iter()
            .position(|a| a == x)
            .unwrap_or_else(|| panic!("{x} not applied: {applies:?}"))
    };
    assert!(at("CustomResourceDefinition/nodepools.karpenter.sh") < at("EC2NodeClass/infra"));
    assert!(at("EC2NodeClass/apps") < at("NodePool/apps"));
    assert!(at("Namespace/acme-web") < at("Deployment/web"));
    assert!(st.token_errors.is_empty(), "{:?}", st.token_errors);
    assert!(st.tokens_verified > 10);
    drop(st);
    assert!(
        out.stdout.contains("Established and served by discovery"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("[nodepools-ready] ready"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("[workloads-available] ready"),
        "{}",
        out.all()
    );

    // Summary and outputs.
    for stage in [
        "policy gate",
        "network",
        "cluster",
        "karpenter-crds",
        "node-pools",
        "apps",
    ] {
        assert!(
            out.summary.contains(&format!("| {stage} |")),
            "{stage} missing from the summary:\n{}",
            out.summary
        );
    }
    assert!(out.summary.contains("eksgate deploy `acme-prod`: success"));
    assert_eq!(
        out.output("stages-completed").as_deref(),
        Some("network,cluster,karpenter-crds,node-pools,apps")
    );
    assert_eq!(out.output("cluster-name").as_deref(), Some("acme-prod"));
    // Known fake secrets: masked first, never printed, never in the summary or outputs.
    for secret in [
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        OIDC_JWT,
        REQUEST_BEARER,
    ] {
        let mask = out
            .stdout
            .find(&format!("::add-mask::{secret}"))
            .unwrap_or_else(|| panic!("{secret} was not masked"));
        assert!(
            mask < pos("credentials: GitHub OIDC"),
            "masked before anything else"
        );
    }
    out.assert_no_secrets();
}

#[test]
fn secrets_reaching_a_child_are_redacted_from_its_output() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let run = Run::new().actions(&oidc, &aws.url());
    // The command gets the credentials in its environment (and only there); it prints them.
    let seen = run.path("seen");
    run.write(
        "deploy.yaml",
        &plan(&format!(
            "    - name: leak\n      command: [sh, -c, 'echo \"key=$AWS_ACCESS_KEY_ID secret=$AWS_SECRET_ACCESS_KEY\"; echo \"$AWS_SESSION_TOKEN\" >&2; printenv AWS_SECRET_ACCESS_KEY > {}; printenv ACTIONS_ID_TOKEN_REQUEST_TOKEN || echo no-request-token']\n",
            seen.display()
        )),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap_or_default().trim(),
        SECRET_ACCESS_KEY,
        "the child got the credentials"
    );
    assert!(out.stdout.contains("key=*** secret=***"), "{}", out.all());
    assert!(
        out.stdout.contains("no-request-token"),
        "the OIDC request token is not passed on"
    );
    out.assert_no_secrets();
}

#[test]
fn eks_failed_and_degraded_fail_at_once() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(AwsScript {
        sts: VecDeque::from([sts_ok()]),
        cluster: VecDeque::from([cluster("CREATING"), cluster("FAILED")]),
        ..AwsScript::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write("deploy.yaml", &plan("    - name: cluster\n      gates: [eks-cluster-active]\n    - name: later\n      command: [touch, later]\n"));
    let started = Instant::now();
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "FAILED is not waited on"
    );
    assert!(
        out.stderr
            .contains("stage `cluster`, gate `eks-cluster-active`"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr
            .contains("is FAILED (health issues: Ec2SubnetNotFound: subnet-123 does not exist)"),
        "{}",
        out.all()
    );
    assert!(!run.path("later").exists(), "later stages do not run");
    assert_eq!(out.output("result").as_deref(), Some("failure"));

    let (aws, _) = aws_double(AwsScript {
        sts: VecDeque::from([sts_ok()]),
        nodegroups: vec![(
            "ng-1".into(),
            VecDeque::from([nodegroup("ng-1", "CREATING"), nodegroup("ng-1", "DEGRADED")]),
        )],
        ..AwsScript::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: nodes\n      gates: [nodegroups-active]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr.contains(
            "nodegroup `ng-1` DEGRADED (AsgInstanceLaunchFailures: InsufficientInstanceCapacity)"
        ),
        "{}",
        out.all()
    );
}

#[test]
fn a_missing_access_entry_is_explained() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let (kube, _) = kube_server(KubeSettings {
        no_access_entry: true,
        ..KubeSettings::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: cluster\n      gates: [{name: kubernetes-api, timeout: 3s}]\n"),
    );
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr.contains(
            "did not become ready within 3s: last seen: the API server answered 401 Unauthorized"
        ),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("no EKS access entry"), "{}", out.all());
    assert!(out.stderr.contains(&format!("aws eks create-access-entry --cluster-name demo --region us-east-1 --principal-arn {ROLE_ARN}")), "{}", out.all());
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: nodepools.karpenter.sh}
spec:
  group: karpenter.sh
  names: {kind: NodePool, plural: nodepools}
  scope: Cluster
  versions: [{name: v1, served: true, storage: true}]
";

#[test]
fn a_gate_timeout_says_what_was_last_seen() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let (kube, _) = kube_server(KubeSettings {
        crd_delay: None,
        ..KubeSettings::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write("crds/nodepools.yaml", CRD);
    run.write("deploy.yaml", &plan("    - name: crds\n      manifests: [crds]\n      gates: [{name: crds-established, timeout: 3s}]\n"));
    let started = Instant::now();
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        out.stdout.contains("[crds-established] waiting ("),
        "progress lines: {}",
        out.all()
    );
    assert!(
        out.stdout.contains("elapsed, next check in"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("`crds-established` did not become ready within 3s: last seen: CustomResourceDefinition `nodepools.karpenter.sh` Established=False (Installing: the initial names have been accepted)"),
        "{}",
        out.all()
    );
    assert!(
        out.summary.contains("crds-established: failed"),
        "{}",
        out.summary
    );
}

#[test]
fn the_policy_gate_stops_the_run_before_anything_is_applied() {
    let oidc = oidc_server();
    let (aws, aws_state) = aws_double(double_ok());
    let (kube, kube_state) = kube_server(KubeSettings::default());
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "k8s/nodeclass.yaml",
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: optional}\n",
    );
    run.write("deploy.yaml", &plan("    - name: first\n      command: [touch, first-ran]\n    - name: pools\n      manifests: [k8s]\n"));
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(out.stdout.contains("IMDS001"), "{}", out.all());
    assert!(out.stderr.contains("stage `policy gate`"), "{}", out.all());
    assert!(!run.path("first-ran").exists(), "nothing ran");
    assert!(kube_state.lock().expect("lock").applies.is_empty());
    assert!(
        aws_state.lock().expect("lock").calls.is_empty(),
        "not even credentials were requested"
    );
    assert_eq!(out.output("result").as_deref(), Some("failure"));
}

/// Issue 8: the policy gate prints before credentials are resolved and masked. A finding that
/// echoes a value with a line break must not print `::stop-commands::`, which would let the
/// following `::add-mask::` lines print the keys in clear.
#[test]
fn the_policy_gate_cannot_pause_workflow_commands_before_the_secrets_are_masked() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "k8s/nodeclass.yaml",
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  metadataOptions: {httpTokens: \"optional\\n::stop-commands::tok\"}\n",
    );
    let plan = plan(
        "    - name: pools\n      command: [\"true\"]\n    - name: later\n      manifests: [k8s]\n",
    )
    .replace("  stages:\n", "  failOn: never\n  stages:\n");
    run.write("deploy.yaml", &plan);
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml", "--dry-run"]);
    assert!(out.stdout.contains("SCH001"), "{}", out.all());
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        let line = line.trim_start();
        assert!(
            !line.starts_with("::stop-commands"),
            "a forged command: {line:?}\n{}",
            out.all()
        );
        if line.starts_with("::") {
            assert!(
                [
                    "::error ",
                    "::warning ",
                    "::notice ",
                    "::group::",
                    "::endgroup::",
                    "::add-mask::",
                    "::error title="
                ]
                .iter()
                .any(|c| line.starts_with(c)),
                "only eksgate's own commands: {line:?}"
            );
        }
    }
}

#[test]
fn a_failing_terraform_stage_stops_later_stages() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let mut run = Run::new().actions(&oidc, &aws.url());
    let tf = run.terraform();
    run.write(
        "tf/main.tf",
        "resource \"terraform_data\" \"first\" {\n  input = \"one\"\n}\n\nresource \"terraform_data\" \"second\" {\n  input = \"two\"\n}\n\nresource \"terraform_data\" \"broken\" {\n  provisioner \"local-exec\" {\n    command = \"echo creds-present=$${AWS_ACCESS_KEY_ID:+yes}; exit 3\"\n  }\n}\n",
    );
    run.write(
        "deploy.yaml",
        &plan("    - name: first\n      terraform: {dir: tf, targets: [terraform_data.first]}\n    - name: broken\n      terraform: {dir: tf, targets: [terraform_data.broken]}\n    - name: later\n      terraform: {dir: tf}\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stdout.contains("creds-present=yes"),
        "terraform got the credentials in its environment: {}",
        out.all()
    );
    assert!(
        out.stderr.contains(&format!(
            "stage `broken`: `{} -chdir=tf apply -auto-approve -input=false -target=terraform_data.broken` failed (exit code 1); later stages were not run",
            tf.program()
        )),
        "{}",
        out.all()
    );
    match &tf {
        Terraform::Real => {
            let state = Command::new("terraform")
                .args(["-chdir=tf", "state", "list"])
                .current_dir(run.dir.path())
                .envs(run.env.iter().cloned())
                .output()
                .expect("state");
            let state = String::from_utf8_lossy(&state.stdout);
            assert!(state.contains("terraform_data.first"), "{state}");
            assert!(
                !state.contains("terraform_data.second"),
                "stage `later` did not run: {state}"
            );
        }
        Terraform::Recorder { .. } => {
            let argv: Vec<String> = tf.calls().iter().map(|c| c.args.join(" ")).collect();
            assert_eq!(
                argv,
                [
                    "-chdir=tf init -input=false",
                    "-chdir=tf apply -auto-approve -input=false -target=terraform_data.first",
                    "-chdir=tf apply -auto-approve -input=false -target=terraform_data.broken",
                ],
                "stage `later` did not run"
            );
        }
    }
    assert!(
        out.summary.contains("| first |") && out.summary.contains("❌ failed"),
        "{}",
        out.summary
    );
    assert!(!out.summary.contains("| later |"));
    assert_eq!(out.output("stages-completed").as_deref(), Some("first"));
    out.assert_no_secrets();
}

/// The argument recorder always (so the stand-in path runs where terraform is installed too):
/// `init` once per directory per run, `workspace select -or-create` before each apply that sets
/// a workspace, and each stage's exact apply argv, in plan order. The plan sits in a
/// subdirectory, so `dir` is resolved against it and `varFiles` stay relative to `dir`.
#[test]
fn terraform_stages_run_the_exact_commands_in_order() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let mut run = Run::new().actions(&oidc, &aws.url());
    let tf = run.terraform_recorder();
    let Terraform::Recorder { record } = &tf else {
        unreachable!("the recorder")
    };
    let record = record.clone();
    for f in [
        "deploy/infra/main.tf",
        "deploy/infra/env/prod.tfvars",
        "deploy/infra/env/extra.tfvars",
        "deploy/edge/main.tf",
    ] {
        run.write(f, "");
    }
    run.write(
        "deploy/plan.yaml",
        &plan(
            "    - name: network
      terraform:
        dir: infra
        targets: [module.network, module.dns]
        varFiles: [env/prod.tfvars]
        vars: {replicas: 3, greeting: hello world}
        workspace: prod
    - name: edge
      terraform: {dir: edge, targets: [module.cdn], workspace: prod}
    - name: cluster
      terraform: {dir: infra, targets: [module.eks], varFiles: [env/prod.tfvars, env/extra.tfvars]}
    - name: apps
      terraform: {dir: infra}
      command: [touch, apps-ran]
",
        ),
    );
    let program = terraform_recorder().display().to_string();
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy/plan.yaml",
        "--terraform",
        &program,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let here = run.dir.path().canonicalize().expect("run dir");
    let calls = tf.calls();
    assert!(calls.iter().all(|c| c.cwd == here), "{calls:?}");
    let argv: Vec<Vec<&str>> = calls
        .iter()
        .map(|c| c.args.iter().map(String::as_str).collect())
        .collect();
    let apply = |dir: &'static str, rest: &[&'static str]| {
        let mut v = vec![dir, "apply", "-auto-approve", "-input=false"];
        v.extend(rest);
        v
    };
    let infra = "-chdir=deploy/infra";
    let edge = "-chdir=deploy/edge";
    assert_eq!(
        argv,
        [
            vec![infra, "init", "-input=false"],
            vec![infra, "workspace", "select", "-or-create", "prod"],
            apply(
                infra,
                &[
                    "-target=module.network",
                    "-target=module.dns",
                    "-var-file=env/prod.tfvars",
                    "-var=greeting=hello world",
                    "-var=replicas=3",
                ]
            ),
            vec![edge, "init", "-input=false"],
            vec![edge, "workspace", "select", "-or-create", "prod"],
            apply(edge, &["-target=module.cdn"]),
            apply(
                infra,
                &[
                    "-target=module.eks",
                    "-var-file=env/prod.tfvars",
                    "-var-file=env/extra.tfvars",
                ]
            ),
            apply(infra, &[]),
        ],
        "{}",
        out.all()
    );
    // Each stage's commands ran inside that stage, and the stages in plan order.
    let pos = |needle: &str| {
        out.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in output\n{}", out.all()))
    };
    let mut last = 0;
    for (stage, first_apply) in [
        ("network", "-target=module.network"),
        ("edge", "-target=module.cdn"),
        ("cluster", "-target=module.eks"),
    ] {
        let at = pos(&format!("stage `{stage}`"));
        assert!(last < at, "stage `{stage}` out of order");
        assert!(at < pos(first_apply), "{stage}: its apply ran in it");
        last = at;
    }
    assert!(pos("stage `apps`") < pos("$ touch apps-ran"));
    assert!(
        run.path("deploy/apps-ran").exists(),
        "the command ran in the plan's directory"
    );
    assert_eq!(
        out.output("stages-completed").as_deref(),
        Some("network,edge,cluster,apps")
    );

    // `--from cluster` is a new run: `infra` is initialized again, once, before its first apply.
    std::fs::write(&record, "").expect("reset the record");
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy/plan.yaml",
        "--terraform",
        &program,
        "--from",
        "cluster",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let argv: Vec<String> = tf.calls().iter().map(|c| c.args.join(" ")).collect();
    assert_eq!(
        argv,
        [
            "-chdir=deploy/infra init -input=false",
            "-chdir=deploy/infra apply -auto-approve -input=false -target=module.eks -var-file=env/prod.tfvars -var-file=env/extra.tfvars",
            "-chdir=deploy/infra apply -auto-approve -input=false",
        ]
    );
    out.assert_no_secrets();
}

#[test]
fn sigterm_is_passed_to_the_running_child_and_the_run_ends_cancelled() {
    let oidc = oidc_server();
    let (aws, _) = aws_double(double_ok());
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: long\n      command: [sh, -c, 'trap \"echo child-got-term; exit 143\" TERM; echo child-started; while true; do sleep 0.1; done']\n    - name: later\n      command: [touch, later]\n"),
    );
    let stdout = std::fs::File::create(run.path("stdout")).expect("stdout file");
    let stderr = std::fs::File::create(run.path("stderr")).expect("stderr file");
    let child = run
        .command(&["deploy", "--plan", "deploy.yaml"])
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !std::fs::read_to_string(run.path("stdout"))
        .unwrap_or_default()
        .contains("child-started")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = run.finish(child, Duration::from_secs(60));
    let stdout = std::fs::read_to_string(run.path("stdout")).unwrap_or_default();
    let stderr = std::fs::read_to_string(run.path("stderr")).unwrap_or_default();
    assert_eq!(out.code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("passing SIGTERM to `sh`"), "{stdout}");
    assert!(
        stdout.contains("child-got-term"),
        "the child got the signal: {stdout}"
    );
    assert!(stderr.contains("cancelled by SIGTERM"), "{stderr}");
    assert!(!run.path("later").exists());
    assert_eq!(out.output("result").as_deref(), Some("cancelled"));
    assert!(
        out.summary.contains(": cancelled") && out.summary.contains("⏹️ cancelled"),
        "{}",
        out.summary
    );
}

#[test]
fn bad_plans_and_flags_exit_2() {
    let run = Run::new();
    run.write(
        "deploy.yaml",
        &plan("    - name: cluster\n      gates: [eks-cluster-up]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert!(
        out.stderr.contains(
            "deploy.yaml:9:15: unknown gate `eks-cluster-up`; known gates: eks-cluster-active,"
        ),
        "{}",
        out.all()
    );
    run.write(
        "deploy.yaml",
        &plan("    - name: cluster\n      gates: [eks-cluster-active]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml", "--only", "nope"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("no stage `nope` in the plan; stages are: cluster"),
        "{}",
        out.all()
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml", "--timeout", "10"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("has no unit"), "{}", out.all());
    let out = run.eksgate(&["deploy", "--plan", "missing.yaml"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("cannot read plan `missing.yaml`"),
        "{}",
        out.all()
    );
}

/// A FIFO or a device where the plan names a file (the plan itself, its policy, a manifests
/// entry) is refused at once with exit 2, never read or waited on (each run is killed after two
/// minutes; a blocked read would also fail the elapsed-time check).
#[test]
fn pipes_and_devices_are_refused_as_plan_policy_and_manifests() {
    let run = Run::new();
    let fifo = run.path("pipe.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let refused = |args: &[&str], wanted: &str| {
        let started = Instant::now();
        let out = run.eksgate(args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.all());
        assert!(out.stderr.contains(wanted), "{args:?}: {}", out.all());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} took long"
        );
    };
    refused(
        &["deploy", "--plan", "/dev/zero"],
        "eksgate: error: cannot read plan `/dev/zero`: is a character device, not a regular file",
    );
    refused(
        &["deploy", "--plan", "pipe.yaml", "--dry-run"],
        "eksgate: error: cannot read plan `pipe.yaml`: is a named pipe (FIFO), not a regular file",
    );
    let with_policy = |policy: &str| {
        plan("    - name: pools\n      manifests: [k8s]\n")
            .replace("  stages:\n", &format!("  policy: {policy}\n  stages:\n"))
    };
    run.write(
        "k8s/pool.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    run.write("deploy.yaml", &with_policy("/dev/zero"));
    refused(
        &["deploy", "--plan", "deploy.yaml", "--dry-run"],
        "eksgate: error: cannot read policy `/dev/zero`: is a character device, not a regular file",
    );
    run.write("deploy.yaml", &with_policy("pipe.yaml"));
    refused(
        &["deploy", "--plan", "deploy.yaml", "--dry-run"],
        "is a named pipe (FIFO), not a regular file",
    );
    run.write(
        "deploy.yaml",
        &plan("    - name: pools\n      manifests: [pipe.yaml]\n"),
    );
    refused(
        &["deploy", "--plan", "deploy.yaml", "--dry-run"],
        "eksgate: error: stage `pools`: cannot read manifests `",
    );
    // In a manifests directory a pipe is not a manifest: skipped, not waited on.
    std::fs::rename(&fifo, run.path("k8s/stream.yaml")).expect("move the pipe");
    run.write(
        "deploy.yaml",
        &plan("    - name: pools\n      manifests: [k8s]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml", "--dry-run"]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("policy gate: 1 file(s)"),
        "{}",
        out.all()
    );
}

#[test]
fn oidc_and_sts_failures_fail_fast_with_the_cause() {
    let oidc = oidc_server();
    // No `id-token: write`: the runner sets no token variables.
    let (aws, _) = aws_double(double_ok());
    let mut run = Run::new().actions(&oidc, &aws.url());
    run.env.retain(|(k, _)| !k.starts_with("ACTIONS_ID_TOKEN"));
    run.write(
        "deploy.yaml",
        &plan("    - name: c\n      command: [touch, ran]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("permissions: {id-token: write, contents: read}"),
        "{}",
        out.all()
    );
    assert!(!run.path("ran").exists());

    // A trust policy whose `sub` does not match: one call, no retries, the fix named.
    let (aws, aws_state) = aws_double(AwsScript {
        sts: VecDeque::from([sts_error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        )]),
        ..AwsScript::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: c\n      command: [touch, ran]\n"),
    );
    let started = Instant::now();
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(1));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        aws_state.lock().expect("lock").calls.len(),
        1,
        "AccessDenied is not retried"
    );
    assert!(out.stderr.contains("`token.actions.githubusercontent.com:sub` matching `repo:acme/platform:ref:refs/heads/main`"), "{}", out.all());
    assert!(
        out.stderr
            .contains("`token.actions.githubusercontent.com:aud` = `sts.amazonaws.com`"),
        "{}",
        out.all()
    );

    // Throttling is retried.
    let (aws, aws_state) = aws_double(AwsScript {
        sts: VecDeque::from([sts_error(400, "Throttling", "Rate exceeded"), sts_ok()]),
        ..AwsScript::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: c\n      command: [touch, ran]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(aws_state.lock().expect("lock").calls.len(), 2);
    assert!(run.path("ran").exists());
    out.assert_no_secrets();
}

#[test]
fn dry_run_prints_everything_and_touches_nothing() {
    let run = Run::new();
    copy_example(&run);
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--dry-run",
        "--from",
        "cluster",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    for line in [
        "stage 1/4 `cluster`",
        "  run: terraform -chdir=infra init -input=false",
        "  run: terraform -chdir=infra apply -auto-approve -input=false -target=module.eks -var-file=env/prod.tfvars",
        "  gate: kubernetes-api (timeout 5m)",
        "  gate: nodepools-ready (timeout 10m)",
        "NodePool/apps",
    ] {
        assert!(
            out.stdout.contains(line),
            "`{line}` missing:\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("stage 1/4 `network`"));
    assert!(
        !run.path("infra/.terraform").exists() && !run.path("tf-data").exists(),
        "terraform did not run"
    );
    let names: BTreeSet<&str> = ["stage 1/4", "stage 4/4"].into_iter().collect();
    assert!(names.iter().all(|n| out.stdout.contains(n)));
}

/// The `kubernetes-api` gate over HTTPS, as against EKS: the API server's certificate is issued
/// by the cluster CA, which comes from `--kube-ca-file` or from DescribeCluster.
#[test]
fn kubernetes_api_over_https_trusts_the_cluster_ca() {
    let ca = TestCa::new();
    let oidc = oidc_server();
    let gate = plan("    - name: cluster\n      gates: [{name: kubernetes-api, timeout: 20s}]\n");

    // (a) `--kube-ca-file` names the CA: the TLS handshake and /readyz succeed.
    let (aws, _) = aws_double(double_ok());
    let (kube, kube_state) = kube_server_tls(KubeSettings::default(), &ca);
    assert!(kube.url().starts_with("https://127.0.0.1:"));
    let run = Run::new().actions(&oidc, &aws.url());
    run.write("deploy.yaml", &gate);
    let ca_file = run.write("ca.pem", &ca.ca_pem);
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
        "--kube-ca-file",
        &ca_file.display().to_string(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("[kubernetes-api] ready"),
        "{}",
        out.all()
    );
    let st = kube_state.lock().expect("lock");
    assert!(st.readyz_calls >= 3, "readyz flipped after two failures");
    assert!(st.token_errors.is_empty(), "{:?}", st.token_errors);
    drop(st);

    // (b) No CA: the certificate is not trusted. The gate fails at once and says why, instead
    // of retrying a handshake that cannot succeed until the timeout.
    let (kube, kube_state) = kube_server_tls(KubeSettings::default(), &ca);
    let run = Run::new().actions(&oidc, &aws.url());
    run.write("deploy.yaml", &gate);
    let started = Instant::now();
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "an untrusted certificate is not waited on ({:?})\n{}",
        started.elapsed(),
        out.all()
    );
    assert!(
        out.stderr
            .contains("stage `cluster`, gate `kubernetes-api`"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains(&format!(
            "the TLS certificate of the Kubernetes API at `{}` is not trusted",
            kube.url()
        )),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("UnknownIssuer") && out.stderr.contains("--kube-ca-file"),
        "{}",
        out.all()
    );
    assert_eq!(
        kube_state.lock().expect("lock").requests.len(),
        0,
        "no request got past the handshake"
    );

    // A CA that did not issue the certificate: the same, and the message points at the CA.
    let other_ca = TestCa::new();
    let run = Run::new().actions(&oidc, &aws.url());
    run.write("deploy.yaml", &gate);
    let wrong = run.write("other-ca.pem", &other_ca.ca_pem);
    let out = run.eksgate(&[
        "deploy",
        "--plan",
        "deploy.yaml",
        "--kube-api-url",
        &kube.url(),
        "--kube-ca-file",
        &wrong.display().to_string(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr
            .contains("is not trusted (invalid peer certificate")
            && out.stderr.contains("not issued by the CA in use"),
        "{}",
        out.all()
    );

    // (c) No `--kube-api-url` and no `--kube-ca-file`: the endpoint and the CA
    // (`certificateAuthority.data`, base64 PEM) come from DescribeCluster.
    let (kube, kube_state) = kube_server_tls(KubeSettings::default(), &ca);
    let (aws, aws_state) = aws_double(AwsScript {
        sts: VecDeque::from([sts_ok()]),
        cluster: VecDeque::from([cluster_at(&kube.url(), &ca.ca_data())]),
        ..AwsScript::default()
    });
    let run = Run::new().actions(&oidc, &aws.url());
    run.write(
        "deploy.yaml",
        &plan("    - name: cluster\n      gates: [eks-cluster-active, {name: kubernetes-api, timeout: 20s}]\n"),
    );
    let out = run.eksgate(&["deploy", "--plan", "deploy.yaml"]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains(&format!("kubernetes API: {}", kube.url())),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("[kubernetes-api] ready"),
        "{}",
        out.all()
    );
    assert_eq!(out.output("cluster-endpoint"), Some(kube.url()));
    assert!(
        aws_state
            .lock()
            .expect("lock")
            .calls
            .iter()
            .any(|c| c == "eks:/clusters/demo"),
        "DescribeCluster was asked"
    );
    let st = kube_state.lock().expect("lock");
    assert!(st.readyz_calls >= 3);
    assert!(st.token_errors.is_empty(), "{:?}", st.token_errors);
}

/// Workflow commands a line would start for the runner: it ends lines at CR as well as LF and
/// trims leading whitespace. `(command, line)` for every such line of `text`.
fn command_lines(text: &str) -> Vec<(String, String)> {
    text.split(['\r', '\n'])
        .filter_map(|line| {
            let body = line.trim_start().strip_prefix("::")?;
            let end = body.find([' ', ':']).unwrap_or(body.len());
            Some((body[..end].to_string(), line.to_string()))
        })
        .collect()
}

/// Issue 8's chain: a manifest value echoed by the policy gate held `\n::stop-commands::TOKEN`,
/// which paused command processing before the `::add-mask::` lines, so the STS keys would have
/// been printed in clear. With values like that in the manifests, a manifest file name and the
/// plan's name: in a passing run the masks come before any byte derived from input, and in
/// every run (passing, failing at the gate, dry) each line the runner would read as a command
/// is one eksgate wrote, input only ever inside its escaped data.
#[test]
fn hostile_manifests_cannot_forge_workflow_commands_or_outrun_the_masks() {
    const HOSTILE: &str = "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: infra
  labels: {\"team\\n::warning::hostile-label\": x}
spec:
  role: KarpenterNodeRole
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions:
    httpTokens: \"optional\\n::stop-commands::hostile-token\"
    httpPutResponseHopLimit: \"2\\r::error::hostile-cr\"
  tags: {\"cost-center\\n  ::add-mask::hostile-mask\": \"\\t::notice::hostile-tag\"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: \"settings\\n::stop-commands::hostile-name\", namespace: default}
data: {a: b}
";
    let crds = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/deploy/k8s/crds/karpenter-crds.yaml");
    let crds = std::fs::read_to_string(crds).expect("the example CRDs");
    let plan_text = |fail_on: &str| {
        format!(
            "apiVersion: eksgate.dev/v1alpha1
kind: DeployPlan
metadata: {{name: \"test\\n::stop-commands::hostile-plan\"}}
spec:
  cluster: {{name: demo, region: us-east-1}}
  credentials: {{roleArn: {ROLE_ARN}}}
  failOn: {fail_on}
  stages:
    - name: pools
      manifests: [k8s]
"
        )
    };
    // A passing gate applies what it can: the ConfigMap's name cannot be put in a URL (nor
    // would the API server take it), so the run fails there, saying so.
    let modes: [(&str, &str, &[&str], Option<i32>); 3] = [
        ("a passing gate", "never", &[], Some(1)),
        ("a failing gate", "error", &[], Some(1)),
        ("a dry run", "never", &["--dry-run"], Some(0)),
    ];
    for (mode, fail_on, extra, code) in modes {
        let oidc = oidc_server();
        let (aws, aws_state) = aws_double(double_ok());
        let (kube, kube_state) = kube_server(KubeSettings::default());
        let run = Run::new().actions(&oidc, &aws.url());
        run.write("k8s/0-crds.yaml", &crds);
        run.write("k8s/pool\n::stop-commands::hostile-file.yaml", HOSTILE);
        run.write("deploy.yaml", &plan_text(fail_on));
        let mut args = vec!["deploy", "--plan", "deploy.yaml", "--kube-api-url"];
        let url = kube.url();
        args.push(&url);
        args.extend_from_slice(extra);
        let out = run.eksgate(&args);
        assert_eq!(out.code, code, "{mode}: {}", out.all());
        out.assert_no_secrets();
        assert!(
            out.stdout.contains("hostile-token"),
            "{mode}: the report echoes the values: {}",
            out.all()
        );

        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            for (command, line) in command_lines(text) {
                assert!(
                    [
                        "add-mask", "group", "endgroup", "error", "warning", "notice"
                    ]
                    .contains(&command.as_str()),
                    "{mode}: {stream} has a command eksgate never writes: {line:?}\n{}",
                    out.all()
                );
                if command == "add-mask" {
                    let value = line.trim_start().trim_start_matches("::add-mask::");
                    assert!(
                        secrets().contains(&value),
                        "{mode}: a mask that is not a secret: {line:?}"
                    );
                }
                assert!(
                    !line.trim_start().starts_with("::stop-commands"),
                    "{mode}: {line:?}"
                );
            }
        }
        // What the human text carried is still there, defused.
        if mode == "a passing gate" {
            assert!(
                out.stderr
                    .contains("applying ConfigMap/settings\n\\::stop-commands::hostile-name"),
                "{mode}: the ConfigMap's name is shown defused: {}",
                out.all()
            );
        }

        let lines: Vec<&str> = out.stdout.split(['\r', '\n']).collect();
        let masks: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("::add-mask::"))
            .map(|(i, _)| i)
            .collect();
        let first_input = lines
            .iter()
            .position(|l| l.contains("hostile"))
            .expect("input-derived lines");
        match mode {
            "a passing gate" => {
                assert_eq!(masks.len(), secrets().len(), "{}", out.all());
                assert!(
                    masks.iter().all(|&m| m < first_input),
                    "the masks come before any input-derived line:\n{}",
                    out.all()
                );
                let applies = kube_state.lock().expect("lock").applies.clone();
                assert!(
                    applies.iter().any(|a| a == "EC2NodeClass/infra"),
                    "{applies:?}"
                );
            }
            _ => {
                assert!(
                    aws_state.lock().expect("lock").calls.is_empty(),
                    "{mode}: no credentials were requested"
                );
                assert!(kube_state.lock().expect("lock").applies.is_empty());
            }
        }
    }
}

//! The nearest real parts, run locally for the deploy tests:
//! - `eksgate`: the real binary, run as a process (exit codes, signals, stdout/stderr);
//! - an OIDC token server that checks the bearer and the audience;
//! - an AWS double that speaks STS's query/XML and EKS's REST/JSON protocols with scripted
//!   answers (status sequences, throttling, 5xx) where moto_server cannot;
//! - a Kubernetes API test server that flips `/readyz`, establishes CRDs after a delay, serves
//!   discovery only once they are established, records server-side applies, answers 401 when the
//!   role has no access entry, and verifies every EKS token it receives;
//! - moto_server, started on a free port and killed after.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the shared support module"
)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

// ---------- known fake secrets: none of them may ever be printed ----------
pub const ACCESS_KEY_ID: &str = "ASIAEKSGATETESTKEY01";
pub const SECRET_ACCESS_KEY: &str = "eksgate/Test+Secret/Value0123456789abcdef";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEKSGATE//SessionToken+Value0987654321";
pub const OIDC_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eksgate-test-jwt-payload.c2lnbmF0dXJlLXNlY3JldA";
pub const REQUEST_BEARER: &str = "eksgate-request-bearer-0123456789";
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/eksgate-deploy";

pub fn secrets() -> [&'static str; 5] {
    [
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        OIDC_JWT,
        REQUEST_BEARER,
    ]
}

// ---------- the eksgate binary ----------

/// The workspace's `eksgate` binary, built once per test process (a no-op when up to date).
pub fn eksgate_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.join("../..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "eksgate", "--bin", "eksgate"])
            .current_dir(&root)
            .status()
            .expect("run cargo build -p eksgate");
        assert!(status.success(), "cargo build -p eksgate failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        target.join("debug").join("eksgate")
    })
    .clone()
}

/// A scratch directory with the runner's files and a clean environment for one run.
pub struct Run {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Run {
    pub fn new() -> Self {
        // Build first, so no test's timing includes the build.
        let _ = eksgate_bin();
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["output", "env", "summary"] {
            std::fs::write(dir.path().join(f), "").expect("runner file");
        }
        let tfrc = dir.path().join("terraformrc");
        std::fs::write(&tfrc, "").expect("terraformrc");
        let p = |n: &str| dir.path().join(n).display().to_string();
        let env = vec![
            ("GITHUB_OUTPUT".into(), p("output")),
            ("GITHUB_ENV".into(), p("env")),
            ("GITHUB_STEP_SUMMARY".into(), p("summary")),
            ("TF_CLI_CONFIG_FILE".into(), tfrc.display().to_string()),
            ("TF_DATA_DIR".into(), p("tf-data")),
            ("TF_PLUGIN_CACHE_DIR".into(), p("tf-plugins")),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), p("aws-config")),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), p("aws-credentials")),
        ];
        std::fs::create_dir_all(dir.path().join("tf-plugins")).expect("plugin cache");
        Self { dir, env }
    }

    /// As a GitHub Actions job with `id-token: write`, talking to `oidc` and `aws`.
    pub fn actions(mut self, oidc: &Server, aws: &str) -> Self {
        self.env.extend([
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_REPOSITORY".into(), "acme/platform".into()),
            ("GITHUB_RUN_ID".into(), "987654321".into()),
            ("GITHUB_RUN_ATTEMPT".into(), "1".into()),
            ("GITHUB_REF".into(), "refs/heads/main".into()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                format!("{}/token?api-version=2.0", oidc.url()),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_BEARER.into(),
            ),
            ("AWS_ENDPOINT_URL".into(), aws.to_string()),
        ]);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(eksgate_bin());
        cmd.args(args).current_dir(self.dir.path()).env_clear();
        for keep in ["PATH", "HOME", "LANG"] {
            if let Ok(v) = std::env::var(keep) {
                cmd.env(keep, v);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs eksgate to the end (killed after two minutes).
    pub fn eksgate(&self, args: &[&str]) -> Outcome {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn eksgate");
        self.finish(child, Duration::from_secs(120))
    }

    pub fn finish(&self, mut child: Child, limit: Duration) -> Outcome {
        let started = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!("eksgate ran longer than {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out: Output = child.wait_with_output().expect("output");
        let read = |n: &str| std::fs::read_to_string(self.path(n)).unwrap_or_default();
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            summary: read("summary"),
            outputs: read("output"),
        }
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub summary: String,
    pub outputs: String,
}

impl Outcome {
    /// The value of a step output written in heredoc form.
    pub fn output(&self, name: &str) -> Option<String> {
        let mut lines = self.outputs.lines();
        while let Some(line) = lines.next() {
            if let Some(delim) = line.strip_prefix(&format!("{name}<<")) {
                let mut value = Vec::new();
                for l in lines.by_ref() {
                    if l == delim {
                        return Some(value.join("\n"));
                    }
                    value.push(l);
                }
            }
        }
        None
    }

    /// No known secret anywhere, except on `::add-mask::` lines (which the runner consumes and
    /// which must come before any other use).
    pub fn assert_no_secrets(&self) {
        for secret in secrets() {
            for line in self.stdout.lines() {
                if line.contains(secret) {
                    assert_eq!(
                        line,
                        format!("::add-mask::{secret}"),
                        "secret printed outside ::add-mask::"
                    );
                }
            }
            assert!(
                !self.stderr.contains(secret),
                "secret in stderr: {}",
                self.stderr
            );
            assert!(!self.summary.contains(secret), "secret in the summary");
            assert!(!self.outputs.contains(secret), "secret in the outputs");
        }
    }

    pub fn all(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}\n--- summary\n{}",
            self.stdout, self.stderr, self.summary
        )
    }
}

// ---------- a tiny HTTP server ----------

#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_param(&self.query, name)
    }
}

pub fn form_param(text: &str, name: &str) -> Option<String> {
    text.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(v: &str) -> String {
    let v = v.replace('+', " ");
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(b)) = v.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_string(),
        }
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = Arc<dyn Fn(Req) -> Resp + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    /// Served over TLS (with a certificate for `127.0.0.1` from a [`TestCa`]).
    pub tls: bool,
}

impl Server {
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

pub fn serve(handler: impl Fn(Req) -> Resp + Send + Sync + 'static) -> Server {
    serve_with(Arc::new(handler), None)
}

/// Like [`serve`], over HTTPS with `tls` (see [`TestCa::server_config`]).
pub fn serve_tls(
    handler: impl Fn(Req) -> Resp + Send + Sync + 'static,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
) -> Server {
    serve_with(Arc::new(handler), Some(tls))
}

fn serve_with(handler: Handler, tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let server = Server {
        addr,
        tls: tls.is_some(),
    };
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        // A client that does not trust the certificate ends the handshake here.
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(stream, handler).await;
                            }
                        }
                        None => serve_connection(stream, handler).await,
                    }
                });
            }
        });
    });
    server
}

async fn serve_connection<S>(stream: S, handler: Handler)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let handler = handler.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default();
            let req = Req {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or("").to_string(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_ascii_lowercase(),
                            v.to_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect(),
                body,
            };
            let resp = handler(req);
            let mut builder = hyper::Response::builder().status(resp.status);
            for (k, v) in &resp.headers {
                builder = builder.header(k, v);
            }
            Ok::<_, Infallible>(
                builder
                    .body(Full::new(Bytes::from(resp.body)))
                    .expect("response"),
            )
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

// ---------- a CA made in the test, for the HTTPS Kubernetes test server ----------

/// A self-signed CA and a server certificate it issued for `127.0.0.1` and `localhost`, as an
/// EKS cluster CA and its API server's certificate are.
pub struct TestCa {
    /// The CA certificate, PEM: what `--kube-ca-file` names and what DescribeCluster's
    /// `certificateAuthority.data` carries (base64 of this PEM).
    pub ca_pem: String,
    server_cert: tokio_rustls::rustls::pki_types::CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "eksgate test cluster CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let server_key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let issuer = Issuer::from_params(&ca, &ca_key);
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        Self {
            ca_pem: ca_cert.pem(),
            server_cert: server_cert.der().clone(),
            server_key: server_key.serialize_der(),
        }
    }

    /// `certificateAuthority.data` as DescribeCluster returns it: base64 of the PEM.
    pub fn ca_data(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }

    pub fn server_config(&self) -> Arc<tokio_rustls::rustls::ServerConfig> {
        use tokio_rustls::rustls;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.server_key.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.server_cert.clone()], key)
            .expect("server certificate and key");
        Arc::new(config)
    }
}

// ---------- the GitHub OIDC token endpoint ----------

pub fn oidc_server() -> Server {
    serve(|req| {
        if req.headers.get("authorization").map(String::as_str)
            != Some(&format!("Bearer {REQUEST_BEARER}"))
        {
            return Resp::json(401, json!({"message": "bad bearer"}));
        }
        if req.query_param("audience").as_deref() != Some("sts.amazonaws.com") {
            return Resp::json(400, json!({"message": "unexpected audience"}));
        }
        Resp::json(200, json!({"count": 1, "value": OIDC_JWT}))
    })
}

// ---------- the AWS double (STS query/XML + EKS REST/JSON) ----------

#[derive(Default)]
pub struct AwsScript {
    /// Answers to AssumeRoleWithWebIdentity, in order; the last one repeats.
    pub sts: VecDeque<Resp>,
    /// Answers to DescribeCluster, in order; the last one repeats.
    pub cluster: VecDeque<Resp>,
    pub nodegroups: Vec<(String, VecDeque<Resp>)>,
    pub addons: Vec<(String, VecDeque<Resp>)>,
    pub calls: Vec<String>,
}

fn next(queue: &mut VecDeque<Resp>) -> Resp {
    if queue.len() > 1 {
        queue.pop_front().expect("non-empty")
    } else {
        queue
            .front()
            .cloned()
            .unwrap_or_else(|| Resp::text(404, "not scripted"))
    }
}

pub fn sts_ok() -> Resp {
    let body = format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>{ACCESS_KEY_ID}</AccessKeyId>
      <SecretAccessKey>{SECRET_ACCESS_KEY}</SecretAccessKey>
      <SessionToken>{SESSION_TOKEN}</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/eksgate-deploy/test</Arn>
      <AssumedRoleId>AROAEXAMPLE:test</AssumedRoleId>
    </AssumedRoleUser>
    <SubjectFromWebIdentityToken>repo:acme/platform:ref:refs/heads/main</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#
    );
    Resp {
        status: 200,
        headers: vec![("content-type".into(), "text/xml".into())],
        body,
    }
}

pub fn sts_error(status: u16, code: &str, message: &str) -> Resp {
    Resp {
        status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-e</RequestId></ErrorResponse>"#
        ),
    }
}

pub fn cluster(status: &str) -> Resp {
    Resp::json(
        200,
        json!({"cluster": {"name": "demo", "arn": "arn:aws:eks:us-east-1:123456789012:cluster/demo", "status": status,
            "endpoint": "https://demo.gr7.us-east-1.eks.amazonaws.com", "certificateAuthority": {"data": "bm90LWEtcGVt"},
            "health": {"issues": if status == "FAILED" { json!([{"code": "Ec2SubnetNotFound", "message": "subnet-123 does not exist"}]) } else { json!([]) }}}}),
    )
}

/// An ACTIVE cluster whose API is at `endpoint`, with `ca_data` (base64 PEM) as its CA.
pub fn cluster_at(endpoint: &str, ca_data: &str) -> Resp {
    Resp::json(
        200,
        json!({"cluster": {"name": "demo", "arn": "arn:aws:eks:us-east-1:123456789012:cluster/demo", "status": "ACTIVE",
            "endpoint": endpoint, "certificateAuthority": {"data": ca_data}, "health": {"issues": []}}}),
    )
}

pub fn eks_error(status: u16, kind: &str, message: &str) -> Resp {
    Resp::json(status, json!({"message": message})).with_header("x-amzn-errortype", kind)
}

pub fn nodegroup(name: &str, status: &str) -> Resp {
    Resp::json(
        200,
        json!({"nodegroup": {"nodegroupName": name, "clusterName": "demo", "status": status,
            "health": {"issues": if status == "DEGRADED" { json!([{"code": "AsgInstanceLaunchFailures", "message": "InsufficientInstanceCapacity"}]) } else { json!([]) }}}}),
    )
}

pub fn aws_double(script: AwsScript) -> (Server, Arc<Mutex<AwsScript>>) {
    let state = Arc::new(Mutex::new(script));
    let shared = state.clone();
    let server = serve(move |req| {
        let mut s = shared.lock().expect("lock");
        let body = String::from_utf8_lossy(&req.body).into_owned();
        if req.method == "POST" && req.path == "/" {
            let action = form_param(&body, "Action").unwrap_or_default();
            s.calls.push(format!("sts:{action}"));
            if action != "AssumeRoleWithWebIdentity" {
                return sts_error(400, "InvalidAction", "not scripted");
            }
            if form_param(&body, "WebIdentityToken").as_deref() != Some(OIDC_JWT) {
                return sts_error(400, "InvalidIdentityToken", "unexpected token");
            }
            if req.headers.contains_key("authorization") {
                return sts_error(
                    400,
                    "InvalidParameterValue",
                    "AssumeRoleWithWebIdentity must be unsigned",
                );
            }
            return next(&mut s.sts);
        }
        let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        s.calls.push(format!("eks:{}", req.path));
        match parts.as_slice() {
            ["clusters", _] => next(&mut s.cluster),
            ["clusters", _, "node-groups"] => {
                let names: Vec<&String> = s.nodegroups.iter().map(|(n, _)| n).collect();
                Resp::json(200, json!({"nodegroups": names}))
            }
            ["clusters", _, "node-groups", ng] => {
                match s.nodegroups.iter_mut().find(|(n, _)| n == ng) {
                    Some((_, q)) => next(q),
                    None => eks_error(404, "ResourceNotFoundException", "no nodegroup"),
                }
            }
            ["clusters", _, "addons"] => {
                let names: Vec<&String> = s.addons.iter().map(|(n, _)| n).collect();
                Resp::json(200, json!({"addons": names}))
            }
            ["clusters", _, "addons", a] => match s.addons.iter_mut().find(|(n, _)| n == a) {
                Some((_, q)) => next(q),
                None => eks_error(404, "ResourceNotFoundException", "no addon"),
            },
            _ => eks_error(404, "ResourceNotFoundException", "unknown route"),
        }
    });
    (server, state)
}

// ---------- the Kubernetes API test server ----------

pub struct KubeSettings {
    /// `/readyz` fails this many times before it answers ok.
    pub readyz_failures: usize,
    /// Every request gets 401: the role has no access entry.
    pub no_access_entry: bool,
    /// A CRD becomes Established this long after it is applied (`None`: never).
    pub crd_delay: Option<Duration>,
    /// And discovery lists its kinds this much later still.
    pub discovery_delay: Duration,
    /// NodePools, node classes and workloads report Ready this long after apply.
    pub ready_delay: Duration,
    /// The access key the tokens must be signed with.
    pub access_key: String,
    pub cluster: String,
    pub region: String,
}

impl Default for KubeSettings {
    fn default() -> Self {
        Self {
            readyz_failures: 2,
            no_access_entry: false,
            crd_delay: Some(Duration::from_millis(1500)),
            discovery_delay: Duration::from_millis(700),
            ready_delay: Duration::from_millis(1500),
            access_key: ACCESS_KEY_ID.into(),
            cluster: "demo".into(),
            region: "us-east-1".into(),
        }
    }
}

pub struct Stored {
    pub base: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
    pub object: Value,
    pub applied_at: Instant,
}

#[derive(Default)]
pub struct KubeState {
    pub readyz_calls: usize,
    pub objects: Vec<Stored>,
    /// `Kind/name` in apply order.
    pub applies: Vec<String>,
    pub tokens_verified: usize,
    pub token_errors: Vec<String>,
    pub requests: Vec<String>,
}

/// What the API server checks about an EKS token (aws-iam-authenticator's verifier rules).
pub fn verify_token(header: Option<&String>, s: &KubeSettings) -> Result<(), String> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or("no bearer token")?;
    let d = eksgate_deploy::token::decode(token)?;
    let want_host = format!("sts.{}.amazonaws.com", s.region);
    if d.host != want_host {
        return Err(format!("host {} is not {want_host}", d.host));
    }
    if d.path != "/" {
        return Err("path is not /".into());
    }
    if d.param("Action") != Some("GetCallerIdentity") {
        return Err("action is not GetCallerIdentity".into());
    }
    let signed = d.param("X-Amz-SignedHeaders").unwrap_or_default();
    if !signed.split(';').any(|h| h == "x-k8s-aws-id") {
        return Err(format!("x-k8s-aws-id not signed ({signed})"));
    }
    if d.param("X-Amz-Expires") != Some("60") {
        return Err("X-Amz-Expires is not 60".into());
    }
    let date = d.param("X-Amz-Date").unwrap_or_default();
    let signed_at = parse_amz_date(date).ok_or(format!("bad X-Amz-Date {date}"))?;
    let age = SystemTime::now()
        .duration_since(signed_at)
        .unwrap_or_default();
    if age > Duration::from_secs(15 * 60) {
        return Err("token older than 15 minutes".into());
    }
    let cred = d.param("X-Amz-Credential").unwrap_or_default();
    if (!s.access_key.is_empty() && !cred.starts_with(&format!("{}/", s.access_key)))
        || !cred.ends_with(&format!("/{}/sts/aws4_request", s.region))
    {
        return Err(format!("credential scope {cred}"));
    }
    if d.param("X-Amz-Signature").map(str::len) != Some(64) {
        return Err("no signature".into());
    }
    Ok(())
}

fn parse_amz_date(text: &str) -> Option<SystemTime> {
    // yyyymmddThhmmssZ -> seconds since the epoch (civil-from-days).
    if text.len() != 16 {
        return None;
    }
    let n = |a: usize, b: usize| text.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (hh, mm, ss) = (n(9, 11)?, n(11, 13)?, n(13, 15)?);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn split_path(path: &str) -> Option<(String, Vec<String>)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", v, rest @ ..] => Some((
            format!("/api/{v}"),
            rest.iter().map(|s| s.to_string()).collect(),
        )),
        ["apis", g, v, rest @ ..] => Some((
            format!("/apis/{g}/{v}"),
            rest.iter().map(|s| s.to_string()).collect(),
        )),
        _ => None,
    }
}

/// (plural, namespace, name) of a path below a discovery base.
fn locate(rest: &[String]) -> Option<(String, Option<String>, Option<String>)> {
    match rest {
        [plural] => Some((plural.clone(), None, None)),
        [plural, name] => Some((plural.clone(), None, Some(name.clone()))),
        [ns_kw, ns, plural] if ns_kw == "namespaces" => {
            Some((plural.clone(), Some(ns.clone()), None))
        }
        [ns_kw, ns, plural, name] if ns_kw == "namespaces" => {
            Some((plural.clone(), Some(ns.clone()), Some(name.clone())))
        }
        _ => None,
    }
}

/// One entry of an `APIResourceList`, with the fields a real API server always sends (clients
/// such as kube-rs require `singularName` and `verbs`).
fn api_resource(name: &str, kind: &str, namespaced: bool) -> Value {
    let verbs = if name.contains('/') {
        json!(["get", "patch", "update"])
    } else {
        json!([
            "create", "delete", "get", "list", "patch", "update", "watch"
        ])
    };
    json!({"name": name, "singularName": "", "kind": kind, "namespaced": namespaced, "verbs": verbs})
}

fn static_discovery(base: &str) -> Option<Value> {
    let r = |name: &str, kind: &str, namespaced: bool| api_resource(name, kind, namespaced);
    let list = match base {
        "/api/v1" => vec![
            r("namespaces", "Namespace", false),
            r("configmaps", "ConfigMap", true),
        ],
        "/apis/apps/v1" => vec![
            r("deployments", "Deployment", true),
            r("deployments/status", "Deployment", true),
            r("statefulsets", "StatefulSet", true),
            r("daemonsets", "DaemonSet", true),
        ],
        "/apis/apiextensions.k8s.io/v1" => vec![r(
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        )],
        _ => return None,
    };
    Some(
        json!({"kind": "APIResourceList", "groupVersion": base.trim_start_matches("/apis/").trim_start_matches("/api/"), "resources": list}),
    )
}

fn with_status(stored: &Stored, s: &KubeSettings) -> Value {
    let mut obj = stored.object.clone();
    let age = stored.applied_at.elapsed();
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let status = match kind.as_str() {
        "CustomResourceDefinition" => {
            let established = s.crd_delay.is_some_and(|d| age >= d);
            if established {
                json!({"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]})
            } else {
                json!({"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "False", "reason": "Installing", "message": "the initial names have been accepted"}]})
            }
        }
        "NodePool" | "EC2NodeClass" | "NodeClass" if age >= s.ready_delay => {
            json!({"conditions": [{"type": "Ready", "status": "True", "observedGeneration": generation}]})
        }
        "Deployment" => {
            let want = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let ready = if age >= s.ready_delay { want } else { 0 };
            json!({"observedGeneration": generation, "replicas": want, "updatedReplicas": want, "readyReplicas": ready, "availableReplicas": ready,
                   "conditions": [{"type": "Available", "status": if ready == want { "True" } else { "False" }}]})
        }
        _ => return obj,
    };
    obj["status"] = status;
    obj
}

fn crd_served(st: &KubeState, s: &KubeSettings, base: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for o in st.objects.iter().filter(|o| {
        o.object.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
    }) {
        let group = o
            .object
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let visible = s
            .crd_delay
            .is_some_and(|d| o.applied_at.elapsed() >= d + s.discovery_delay);
        for v in o
            .object
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let version = v.get("name").and_then(Value::as_str).unwrap_or("");
            if visible && format!("/apis/{group}/{version}") == base {
                let text = |p: &str| o.object.pointer(p).and_then(Value::as_str).unwrap_or("");
                resources.push(api_resource(
                    text("/spec/names/plural"),
                    text("/spec/names/kind"),
                    text("/spec/scope") == "Namespaced",
                ));
            }
        }
    }
    let group_version = base.trim_start_matches("/apis/");
    (!resources.is_empty()).then(
        || json!({"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}),
    )
}

pub fn kube_server(settings: KubeSettings) -> (Server, Arc<Mutex<KubeState>>) {
    let state = Arc::new(Mutex::new(KubeState::default()));
    let server = serve(kube_handler(settings, state.clone()));
    (server, state)
}

/// The same Kubernetes API test server over HTTPS, with a certificate issued by `ca`.
pub fn kube_server_tls(settings: KubeSettings, ca: &TestCa) -> (Server, Arc<Mutex<KubeState>>) {
    let state = Arc::new(Mutex::new(KubeState::default()));
    let server = serve_tls(kube_handler(settings, state.clone()), ca.server_config());
    (server, state)
}

fn kube_handler(
    settings: KubeSettings,
    shared: Arc<Mutex<KubeState>>,
) -> impl Fn(Req) -> Resp + Send + Sync + 'static {
    move |req| {
        let s = &settings;
        let mut st = shared.lock().expect("lock");
        st.requests.push(format!("{} {}", req.method, req.path));
        if let Err(e) = verify_token(req.headers.get("authorization"), s) {
            st.token_errors.push(e.clone());
            return Resp::json(
                401,
                json!({"kind": "Status", "status": "Failure", "message": format!("Unauthorized: {e}"), "reason": "Unauthorized", "code": 401}),
            );
        }
        st.tokens_verified += 1;
        if s.no_access_entry {
            return Resp::json(
                401,
                json!({"kind": "Status", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
            );
        }
        if req.path == "/readyz" {
            st.readyz_calls += 1;
            return if st.readyz_calls <= s.readyz_failures {
                Resp::text(500, "[-]etcd failed: reason withheld\nreadyz check failed")
            } else {
                Resp::text(200, "ok")
            };
        }
        let Some((base, rest)) = split_path(&req.path) else {
            return Resp::json(404, json!({"message": "not found"}));
        };
        if rest.is_empty() && req.method == "GET" {
            return match static_discovery(&base).or_else(|| crd_served(&st, s, &base)) {
                Some(list) => Resp::json(200, list),
                None => Resp::json(
                    404,
                    json!({"kind": "Status", "message": "the server could not find the requested resource", "code": 404}),
                ),
            };
        }
        let Some((plural, namespace, name)) = locate(&rest) else {
            return Resp::json(404, json!({"message": "not found"}));
        };
        let served = static_discovery(&base)
            .or_else(|| crd_served(&st, s, &base))
            .is_some();
        if !served {
            return Resp::json(
                404,
                json!({"kind": "Status", "message": "the server could not find the requested resource", "code": 404}),
            );
        }
        match (req.method.as_str(), name) {
            ("PATCH", Some(name)) => {
                if req.query_param("fieldManager").as_deref() != Some("eksgate")
                    || req.query_param("force").as_deref() != Some("true")
                {
                    return Resp::json(
                        400,
                        json!({"message": "server-side apply needs fieldManager=eksgate&force=true"}),
                    );
                }
                if req.headers.get("content-type").map(String::as_str)
                    != Some("application/apply-patch+yaml")
                {
                    return Resp::json(415, json!({"message": "not an apply patch"}));
                }
                let mut object: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let kind = object
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                let existing = st.objects.iter().position(|o| {
                    o.base == base
                        && o.plural == plural
                        && o.namespace == namespace
                        && o.name == name
                });
                let generation = existing
                    .and_then(|i| {
                        st.objects[i]
                            .object
                            .pointer("/metadata/generation")
                            .and_then(Value::as_i64)
                    })
                    .unwrap_or(0)
                    + 1;
                object["metadata"]["generation"] = json!(generation);
                if let Some(i) = existing {
                    st.objects.remove(i);
                }
                st.applies.push(format!("{kind}/{name}"));
                st.objects.push(Stored {
                    base,
                    plural,
                    namespace,
                    name,
                    object: object.clone(),
                    applied_at: Instant::now(),
                });
                Resp::json(200, object)
            }
            ("GET", Some(name)) => match st.objects.iter().find(|o| {
                o.base == base && o.plural == plural && o.namespace == namespace && o.name == name
            }) {
                Some(o) => Resp::json(200, with_status(o, s)),
                None => Resp::json(
                    404,
                    json!({"kind": "Status", "message": format!("{plural} \"{name}\" not found"), "code": 404}),
                ),
            },
            ("GET", None) => {
                let items: Vec<Value> = st
                    .objects
                    .iter()
                    .filter(|o| {
                        o.base == base
                            && o.plural == plural
                            && (namespace.is_none() || o.namespace == namespace)
                    })
                    .map(|o| with_status(o, s))
                    .collect();
                Resp::json(200, json!({"kind": "List", "items": items}))
            }
            _ => Resp::json(405, json!({"message": "method not allowed"})),
        }
    }
}

// ---------- moto_server ----------

/// A moto_server on a free port, killed on drop.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto_server, installing `moto[server]` with pip first if it is missing. `None` (with a
/// loud message) only when it truly cannot be installed.
pub fn moto() -> Option<Moto> {
    let have = || {
        Command::new("moto_server")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have() {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "moto[server]"])
            .status();
        if !have() {
            eprintln!(
                "\n!!!!!!!! SKIPPED: moto_server is not installed and `pip install 'moto[server]'` failed !!!!!!!!\n"
            );
            return None;
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}");
    let moto = Moto { child, url };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// Whether the real terraform CLI is here.
pub fn terraform() -> bool {
    Command::new("terraform")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tests/support/terraform-argument-recorder`: a stand-in for terraform that records each
/// invocation's working directory and argv, and fails an apply that targets `*broken*`.
pub fn terraform_recorder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/terraform-argument-recorder")
}

/// Which terraform a run uses.
#[derive(Debug)]
pub enum Terraform {
    /// The real CLI on PATH.
    Real,
    /// The argument recorder, which appends to `record`.
    Recorder { record: PathBuf },
}

impl Terraform {
    /// The program eksgate runs (as it shows in its messages).
    pub fn program(&self) -> String {
        match self {
            Terraform::Real => "terraform".into(),
            Terraform::Recorder { .. } => terraform_recorder().display().to_string(),
        }
    }

    /// What the recorder recorded, in order (empty for the real terraform).
    pub fn calls(&self) -> Vec<TerraformCall> {
        match self {
            Terraform::Real => Vec::new(),
            Terraform::Recorder { record } => recorded_calls(record),
        }
    }
}

/// One recorded terraform invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerraformCall {
    pub cwd: PathBuf,
    pub args: Vec<String>,
}

pub fn recorded_calls(record: &Path) -> Vec<TerraformCall> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            TerraformCall {
                cwd: PathBuf::from(fields.next().unwrap_or_default()),
                args: fields.map(str::to_string).collect(),
            }
        })
        .collect()
}

impl Run {
    /// The real terraform when `terraform version` works here; else the argument recorder,
    /// through `EKSGATE_TERRAFORM` (said loudly: the run then checks argv, not state).
    pub fn terraform(&mut self) -> Terraform {
        if terraform() {
            return Terraform::Real;
        }
        eprintln!(
            "\n!!!!!!!! terraform is not on PATH: this test uses tests/support/terraform-argument-recorder and checks the recorded argv instead of Terraform state !!!!!!!!\n"
        );
        let recorder = self.terraform_recorder();
        self.env.push((
            "EKSGATE_TERRAFORM".into(),
            terraform_recorder().display().to_string(),
        ));
        recorder
    }

    /// The argument recorder's record file for this run (the caller passes the program).
    pub fn terraform_recorder(&mut self) -> Terraform {
        let record = self.path("terraform-calls");
        self.env.push((
            "EKSGATE_TERRAFORM_RECORD".into(),
            record.display().to_string(),
        ));
        Terraform::Recorder { record }
    }
}

//! The Kubernetes API, through kube-rs: a `kube::Client` (hyper and rustls with the ring
//! provider, trusting only the cluster CA when one is given) with one extra layer that signs a
//! fresh EKS token into every request; discovery of one group-version at a time
//! (`kube::discovery::pinned_kind`, so a CRD that was just established is found without a stale
//! full discovery); server-side apply (`Patch::Apply`, field manager `eksgate`, forced); `GET`
//! by path and `/readyz`.
//!
//! What eksgate adds on top: errors worded for the deploy (an untrusted certificate is found in
//! the error chain and explained, and a gate fails on it at once), a cache of what discovery
//! found (forgotten when CRDs change), and plain paths for the gates. The gates themselves stay
//! polls of pure conditions ([`crate::conditions`], [`crate::wait`]) rather than kube-rs
//! watches: each poll prints what it saw, combines many objects, and ends with the last state
//! seen when its timeout passes, which is what the deploy log and its tests are built on.
//!
//! What kube-rs cost when it replaced the hand-written client (measured on the project's
//! 2-core machine): 39 more crates in `eksgate`'s graph (218 -> 257; k8s-openapi, kube-client,
//! serde-saphyr, jsonpath-rust with pest, jiff, a second tower-http), about 240 s more of
//! release compile time summed over units (160 s in debug; k8s-openapi 47 s and kube-client
//! 84 s the largest), and a release `eksgate` of 27.6 MB instead of 22.5 MB. No aws-lc: ring
//! remains the only crypto provider.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::client::{Body, ClientBuilder};
use kube::core::discovery::Scope;
use serde_json::Value;

use crate::token::{TokenError, TokenSource};

/// The field manager of every apply: one stable name keeps re-runs idempotent.
pub const FIELD_MANAGER: &str = "eksgate";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeError {
    #[error(
        "cannot use the cluster CA: {0}; check `--kube-ca-file` or the cluster's certificateAuthority"
    )]
    Ca(String),
    #[error("cannot reach the Kubernetes API at `{url}`: {message}")]
    Connect { url: String, message: String },
    /// The TLS handshake rejected the server's certificate. Waiting cannot fix this: the client
    /// trusts the same CA on every attempt.
    #[error(
        "the TLS certificate of the Kubernetes API at `{url}` is not trusted ({reason}); {hint}"
    )]
    Certificate {
        url: String,
        reason: String,
        hint: String,
    },
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("{method} {path} answered {status}: {message}")]
    Status {
        method: &'static str,
        path: String,
        status: u16,
        message: String,
    },
    #[error("the answer to {path} is not JSON: {message}")]
    Body { path: String, message: String },
    /// No request can be made for this path: a name with characters a URL cannot hold (the
    /// API server would refuse the name anyway).
    #[error("no request can be made for `{path}` ({message}); is the object's name valid?")]
    Request { path: String, message: String },
}

impl KubeError {
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            KubeError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether asking again cannot help (an untrusted certificate), so a gate fails at once.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        matches!(self, KubeError::Certificate { .. })
    }
}

/// The certificate error rustls reported somewhere in `err`'s chain. rustls's error reaches
/// the client inside `io::Error`s (hyper-rustls wraps tokio-rustls's one in another), and an
/// `io::Error`'s `source()` skips what it wraps, so each one is opened too.
fn rejected_certificate<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::CertificateError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(c)) = e.downcast_ref::<rustls::Error>() {
            return Some(c);
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// The token error the signing layer returned somewhere in `err`'s chain.
fn token_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a TokenError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<TokenError>() {
            return Some(t);
        }
        next = e.source();
    }
    None
}

/// What to do about a rejected certificate, given whether a cluster CA was in use.
fn certificate_hint(cert: &rustls::CertificateError, has_ca: bool) -> String {
    match cert {
        rustls::CertificateError::NotValidForName
        | rustls::CertificateError::NotValidForNameContext { .. } => "the certificate does not name the URL's host; through a tunnel to a private endpoint, reach it by the endpoint's own hostname (for example with an /etc/hosts entry) rather than by 127.0.0.1".to_string(),
        rustls::CertificateError::Expired
        | rustls::CertificateError::ExpiredContext { .. }
        | rustls::CertificateError::NotValidYet
        | rustls::CertificateError::NotValidYetContext { .. } => {
            "the certificate is outside its validity period; check this machine's clock".to_string()
        }
        _ if has_ca => "the certificate was not issued by the CA in use (`--kube-ca-file`, else DescribeCluster's `certificateAuthority.data`): check that it is this cluster's CA".to_string(),
        _ => "no cluster CA is in use, so only public roots are trusted: pass the cluster CA with `--kube-ca-file` (DescribeCluster's `certificateAuthority.data`, base64-decoded), or leave out `--kube-api-url` so that the endpoint and the CA both come from DescribeCluster".to_string(),
    }
}

/// Where a kind lives in the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResource {
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    pub base: String,
    pub plural: String,
    pub namespaced: bool,
    /// What kube-rs needs to build requests for it.
    pub kube: kube::api::ApiResource,
}

impl ApiResource {
    /// The collection path (all namespaces for namespaced kinds when `namespace` is `None`).
    #[must_use]
    pub fn collection(&self, namespace: Option<&str>) -> String {
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{}/namespaces/{ns}/{}", self.base, self.plural),
            _ => format!("{}/{}", self.base, self.plural),
        }
    }

    #[must_use]
    pub fn object(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection(namespace))
    }
}

/// The discovery base of an apiVersion: `v1` → `/api/v1`, `apps/v1` → `/apis/apps/v1`.
#[must_use]
pub fn discovery_base(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    }
}

/// The tower layer that puts a freshly signed EKS token on every request (they expire after
/// 15 minutes; a deploy runs longer). A signing failure fails the request.
#[derive(Clone)]
struct SignLayer {
    tokens: Arc<TokenSource>,
}

impl<S> tower::Layer<S> for SignLayer {
    type Service = tower::filter::Filter<S, Signer>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::filter::Filter::new(
            inner,
            Signer {
                tokens: Arc::clone(&self.tokens),
            },
        )
    }
}

#[derive(Clone)]
struct Signer {
    tokens: Arc<TokenSource>,
}

impl tower::filter::Predicate<http::Request<Body>> for Signer {
    type Request = http::Request<Body>;

    fn check(
        &mut self,
        mut request: http::Request<Body>,
    ) -> Result<Self::Request, tower::BoxError> {
        let token = self.tokens.token()?;
        let value = http::HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|e| -> tower::BoxError { Box::new(e) })?;
        let mut value = value;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
        Ok(request)
    }
}

#[derive(Clone)]
pub struct Client {
    inner: kube::Client,
    base: String,
    /// Whether a cluster CA was given (else only the built-in public roots are trusted).
    has_ca: bool,
    /// `(apiVersion, kind)` → where discovery found it. Only hits are kept: a kind that is not
    /// served yet is asked for again (a CRD may have arrived).
    discovery: Arc<Mutex<HashMap<(String, String), ApiResource>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `url`, trusting `ca_pem` (the cluster CA) when given.
    ///
    /// # Errors
    /// [`KubeError::Ca`] when the CA is not PEM; [`KubeError::Connect`] when `url` is not one.
    pub fn new(url: &str, ca_pem: Option<&[u8]>, tokens: TokenSource) -> Result<Self, KubeError> {
        let base = url.trim_end_matches('/').to_string();
        let uri: http::Uri =
            base.parse()
                .map_err(|e: http::uri::InvalidUri| KubeError::Connect {
                    url: base.clone(),
                    message: format!("not a URL: {e}"),
                })?;
        let mut config = kube::Config::new(uri);
        if let Some(pem) = ca_pem {
            use rustls::pki_types::pem::PemObject as _;
            let certs: Vec<Vec<u8>> = rustls::pki_types::CertificateDer::pem_slice_iter(pem)
                .map(|c| c.map(|der| der.as_ref().to_vec()))
                .collect::<Result<_, _>>()
                .map_err(|e| KubeError::Ca(e.to_string()))?;
            if certs.is_empty() {
                return Err(KubeError::Ca("no certificate in the PEM data".to_string()));
            }
            config.root_cert = Some(certs);
        }
        config.connect_timeout = Some(Duration::from_secs(10));
        config.read_timeout = Some(Duration::from_secs(30));
        config.write_timeout = Some(Duration::from_secs(30));
        // The gates retry, with their own backoff and messages.
        config.default_retry = false;
        let builder = ClientBuilder::try_from(config)
            .map_err(|e| KubeError::Ca(crate::aws::error_chain(Some(&e))))?;
        let inner = builder
            .with_layer(&SignLayer {
                tokens: Arc::new(tokens),
            })
            .build();
        Ok(Self {
            inner,
            base,
            has_ca: ca_pem.is_some(),
            discovery: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    #[must_use]
    pub fn url(&self) -> &str {
        &self.base
    }

    /// A transport error in the deploy's words.
    fn transport(&self, err: &kube::Error) -> KubeError {
        if let Some(cert) = rejected_certificate(err) {
            return KubeError::Certificate {
                url: self.base.clone(),
                reason: rustls::Error::InvalidCertificate(cert.clone()).to_string(),
                hint: certificate_hint(cert, self.has_ca),
            };
        }
        if let Some(token) = token_error(err) {
            return KubeError::Token(token.clone());
        }
        KubeError::Connect {
            url: self.base.clone(),
            message: crate::aws::error_chain(Some(err)),
        }
    }

    /// Any kube-rs error of a request to `path`: the API's refusal, or a transport error.
    fn error(&self, method: &'static str, path: &str, err: &kube::Error) -> KubeError {
        match err {
            kube::Error::Api(status) => KubeError::Status {
                method,
                path: path.to_string(),
                status: status.code,
                message: status.message.clone(),
            },
            kube::Error::SerdeError(e) => KubeError::Body {
                path: path.to_string(),
                message: e.to_string(),
            },
            kube::Error::BuildRequest(_) | kube::Error::HttpError(_) => KubeError::Request {
                path: path.to_string(),
                message: crate::aws::error_chain(Some(err)),
            },
            other => self.transport(other),
        }
    }

    /// `GET path`: the status code and body, whatever they are.
    async fn get_raw(&self, path: &str) -> Result<(u16, String), KubeError> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Body::empty())
            .map_err(|e| KubeError::Request {
                path: path.to_string(),
                message: e.to_string(),
            })?;
        let response = self
            .inner
            .send(request)
            .await
            .map_err(|e| self.transport(&e))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| self.transport(&e))?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// `GET /readyz`: the status code and body, whatever they are.
    ///
    /// # Errors
    /// Only when the server cannot be reached.
    pub async fn readyz(&self) -> Result<(u16, String), KubeError> {
        self.get_raw("/readyz").await
    }

    /// GET a JSON object; `None` on 404.
    ///
    /// # Errors
    /// Any other non-2xx answer, or a body that is not JSON.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, KubeError> {
        let (status, text) = self.get_raw(path).await?;
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(status_error("GET", path, status, &text));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| KubeError::Body {
                path: path.to_string(),
                message: e.to_string(),
            })
    }

    /// Forgets what discovery saw (after CRDs change).
    pub fn refresh_discovery(&self) {
        self.discovery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Where `kind` of `api_version` lives; `None` when the API does not serve it (yet).
    ///
    /// # Errors
    /// When discovery itself fails (not on "not served").
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ApiResource>, KubeError> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self
            .discovery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Some(found.clone()));
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let base = discovery_base(api_version);
        match kube::discovery::pinned_kind(&self.inner, &gvk).await {
            Ok((resource, capabilities)) => {
                let found = ApiResource {
                    base,
                    plural: resource.plural.clone(),
                    namespaced: capabilities.scope == Scope::Namespaced,
                    kube: resource,
                };
                self.discovery
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, found.clone());
                Ok(Some(found))
            }
            // The group-version is not served, or does not list the kind: not yet.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(kube::Error::Discovery(kube::error::DiscoveryError::MissingKind(_))) => Ok(None),
            Err(e) => Err(self.error("GET", &base, &e)),
        }
    }

    /// Server-side apply of `object` as `name` (in `namespace` for a namespaced kind), forced,
    /// field manager `eksgate`.
    ///
    /// # Errors
    /// The API's refusal (409 conflicts cannot happen with `force`; 422 names the bad field).
    pub async fn apply(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
    ) -> Result<Value, KubeError> {
        let api: Api<DynamicObject> = match namespace {
            Some(ns) if resource.namespaced => {
                Api::namespaced_with(self.inner.clone(), ns, &resource.kube)
            }
            _ => Api::all_with(self.inner.clone(), &resource.kube),
        };
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let path = resource.object(namespace, name);
        let applied = api
            .patch(name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| self.error("PATCH", &path, &e))?;
        serde_json::to_value(applied).map_err(|e| KubeError::Body {
            path,
            message: e.to_string(),
        })
    }
}

/// The `message` of a Kubernetes `Status` body, or the start of the body.
fn status_error(method: &'static str, path: &str, status: u16, text: &str) -> KubeError {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| text.trim().chars().take(300).collect());
    KubeError::Status {
        method,
        path: path.to_string(),
        status,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_api_layout() {
        assert_eq!(discovery_base("v1"), "/api/v1");
        assert_eq!(discovery_base("karpenter.sh/v1"), "/apis/karpenter.sh/v1");
        let kube = |group: &str, kind: &str, plural: &str| kube::api::ApiResource {
            group: group.into(),
            version: "v1".into(),
            api_version: format!("{group}/v1"),
            kind: kind.into(),
            plural: plural.into(),
        };
        let pools = ApiResource {
            base: "/apis/karpenter.sh/v1".into(),
            plural: "nodepools".into(),
            namespaced: false,
            kube: kube("karpenter.sh", "NodePool", "nodepools"),
        };
        assert_eq!(
            pools.object(Some("ignored"), "apps"),
            "/apis/karpenter.sh/v1/nodepools/apps"
        );
        let deploys = ApiResource {
            base: "/apis/apps/v1".into(),
            plural: "deployments".into(),
            namespaced: true,
            kube: kube("apps", "Deployment", "deployments"),
        };
        assert_eq!(
            deploys.object(Some("web"), "api"),
            "/apis/apps/v1/namespaces/web/deployments/api"
        );
        assert_eq!(deploys.collection(None), "/apis/apps/v1/deployments");
    }

    #[test]
    fn a_rejected_certificate_is_found_inside_nested_io_errors() {
        // As hyper-rustls hands it on: io::Error(io::Error(rustls::Error)).
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let outer = std::io::Error::other(inner);
        assert!(matches!(
            rejected_certificate(&outer),
            Some(rustls::CertificateError::UnknownIssuer)
        ));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(rejected_certificate(&refused).is_none());
        assert!(
            certificate_hint(&rustls::CertificateError::UnknownIssuer, false)
                .contains("--kube-ca-file")
        );
        assert!(
            certificate_hint(&rustls::CertificateError::NotValidForName, true)
                .contains("does not name the URL's host")
        );
    }
}

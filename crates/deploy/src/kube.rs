//! A small Kubernetes API client: `/readyz`, discovery of one group-version at a time (so a CRD
//! that was just established is found without a stale full discovery), server-side apply with
//! the field manager `eksgate`, and GET/LIST. Every request carries a fresh EKS token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use crate::token::TokenSource;

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
    Token(#[from] crate::token::TokenError),
    #[error("{method} {path} answered {status}: {message}")]
    Status {
        method: &'static str,
        path: String,
        status: u16,
        message: String,
    },
    #[error("the answer to {path} is not JSON: {message}")]
    Body { path: String, message: String },
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
/// reqwest inside `io::Error`s (hyper-rustls wraps tokio-rustls's one in another), and an
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

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// Whether a cluster CA was given (else only the built-in public roots are trusted).
    has_ca: bool,
    tokens: Arc<TokenSource>,
    /// group-version → its resource list (`None`: the API does not serve it).
    discovery: Arc<Mutex<HashMap<String, Option<Vec<Value>>>>>,
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
    /// [`KubeError::Ca`] when the CA is not PEM.
    pub fn new(url: &str, ca_pem: Option<&[u8]>, tokens: TokenSource) -> Result<Self, KubeError> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10));
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| KubeError::Ca(e.to_string()))?;
            if certs.is_empty() {
                return Err(KubeError::Ca("no certificate in the PEM data".to_string()));
            }
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| KubeError::Ca(crate::aws::error_chain(Some(&e))))?;
        Ok(Self {
            http,
            base: url.trim_end_matches('/').to_string(),
            has_ca: ca_pem.is_some(),
            tokens: Arc::new(tokens),
            discovery: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    #[must_use]
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<(u16, String), KubeError> {
        let token = self.tokens.token()?;
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "PATCH" => self.http.patch(&url),
            _ => self.http.get(&url),
        }
        .bearer_auth(token)
        .header("Accept", "application/json");
        if let Some((content_type, bytes)) = body {
            request = request.header("Content-Type", content_type).body(bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| match rejected_certificate(&e) {
                Some(cert) => KubeError::Certificate {
                    url: self.base.clone(),
                    reason: rustls::Error::InvalidCertificate(cert.clone()).to_string(),
                    hint: certificate_hint(cert, self.has_ca),
                },
                None => KubeError::Connect {
                    url: self.base.clone(),
                    message: crate::aws::error_chain(Some(&e)),
                },
            })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Ok((status, text))
    }

    /// `GET /readyz?verbose`: the status code and body, whatever they are.
    ///
    /// # Errors
    /// Only when the server cannot be reached.
    pub async fn readyz(&self) -> Result<(u16, String), KubeError> {
        self.send("GET", "/readyz", None).await
    }

    /// GET a JSON object; `None` on 404.
    ///
    /// # Errors
    /// Any other non-2xx answer, or a body that is not JSON.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, KubeError> {
        let (status, text) = self.send("GET", path, None).await?;
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
        let base = discovery_base(api_version);
        let cached = self
            .discovery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&base)
            .cloned();
        let resources = match cached {
            Some(Some(list)) => Some(list),
            // A group-version that was missing is asked again: a CRD may have arrived.
            Some(None) | None => {
                let fetched = self.get(&base).await?.map(|list| {
                    list.get("resources")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                });
                self.discovery
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(base.clone(), fetched.clone());
                fetched
            }
        };
        let found = resources.unwrap_or_default().into_iter().find(|r| {
            r.get("kind").and_then(Value::as_str) == Some(kind)
                && r.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.contains('/'))
        });
        if found.is_none() {
            // Not served: forget the answer so the next call asks again.
            self.discovery
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&base);
        }
        Ok(found.map(|r| ApiResource {
            base,
            plural: r
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            namespaced: r
                .get("namespaced")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }))
    }

    /// Server-side apply of `object` at `path` (forced, field manager `eksgate`).
    ///
    /// # Errors
    /// The API's refusal (409 conflicts cannot happen with `force`; 422 names the bad field).
    pub async fn apply(&self, path: &str, object: &Value) -> Result<Value, KubeError> {
        let query = format!("{path}?fieldManager={FIELD_MANAGER}&force=true");
        let body = serde_json::to_vec(object).map_err(|e| KubeError::Body {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let (status, text) = self
            .send(
                "PATCH",
                &query,
                Some(("application/apply-patch+yaml", body)),
            )
            .await?;
        if !(200..300).contains(&status) {
            return Err(status_error("PATCH", path, status, &text));
        }
        serde_json::from_str(&text).map_err(|e| KubeError::Body {
            path: path.to_string(),
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
        let pools = ApiResource {
            base: "/apis/karpenter.sh/v1".into(),
            plural: "nodepools".into(),
            namespaced: false,
        };
        assert_eq!(
            pools.object(Some("ignored"), "apps"),
            "/apis/karpenter.sh/v1/nodepools/apps"
        );
        let deploys = ApiResource {
            base: "/apis/apps/v1".into(),
            plural: "deployments".into(),
            namespaced: true,
        };
        assert_eq!(
            deploys.object(Some("web"), "api"),
            "/apis/apps/v1/namespaces/web/deployments/api"
        );
        assert_eq!(deploys.collection(None), "/apis/apps/v1/deployments");
    }

    #[test]
    fn a_rejected_certificate_is_found_inside_nested_io_errors() {
        // As hyper-rustls hands it to reqwest: io::Error(io::Error(rustls::Error)).
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

//! The EKS bearer token, as `aws eks get-token` and aws-iam-authenticator make it:
//! `k8s-aws-v1.` + unpadded base64url of a SigV4-presigned STS `GetCallerIdentity` URL whose
//! signature covers the `x-k8s-aws-id: <cluster>` header, with `X-Amz-Expires=60`.
//!
//! The Rust STS client cannot presign this call, so it is signed here with `aws-sigv4`. EKS
//! accepts a token for 15 minutes after its `X-Amz-Date`; [`TokenSource`] makes a new one after
//! [`REFRESH_AFTER`], well before that.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;

/// Prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// A token is made anew after this long (EKS accepts it for 15 minutes; clients refresh at 14).
pub const REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);

/// Why a token could not be made.
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot sign the EKS token for cluster `{cluster}`: {message}")]
pub struct TokenError {
    cluster: String,
    message: String,
}

/// The regional STS host the token is presigned for. EKS only accepts known STS hostnames, so
/// this is never a test endpoint.
#[must_use]
pub fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

/// Makes a token for `cluster` signed at `time`.
///
/// # Errors
/// [`TokenError`] when signing fails (it does not with well-formed input).
pub fn eks_token(
    credentials: &Credentials,
    cluster: &str,
    region: &str,
    time: SystemTime,
) -> Result<String, TokenError> {
    let fail = |message: String| TokenError {
        cluster: cluster.to_string(),
        message,
    };
    let host = sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| fail(e.to_string()))?
        .into();
    let headers = [(CLUSTER_ID_HEADER, cluster)];
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| fail(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| fail(e.to_string()))?
        .into_parts();
    let mut signed = url;
    for (name, value) in instructions.params() {
        signed.push('&');
        signed.push_str(name);
        signed.push('=');
        signed.push_str(&percent_encode(value));
    }
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)
    ))
}

/// RFC 3986 unreserved characters pass; everything else is `%XX` (as SigV4 encodes query values).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hands out a token, signing a new one when the last is older than [`REFRESH_AFTER`].
#[derive(Debug)]
pub struct TokenSource {
    credentials: Credentials,
    cluster: String,
    region: String,
    cached: Mutex<Option<(Instant, String)>>,
}

impl TokenSource {
    #[must_use]
    pub fn new(credentials: Credentials, cluster: &str, region: &str) -> Self {
        Self {
            credentials,
            cluster: cluster.to_string(),
            region: region.to_string(),
            cached: Mutex::new(None),
        }
    }

    /// A token valid for at least five more minutes.
    ///
    /// # Errors
    /// [`TokenError`] when signing fails.
    pub fn token(&self) -> Result<String, TokenError> {
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((made, token)) = cached.as_ref()
            && made.elapsed() < REFRESH_AFTER
        {
            return Ok(token.clone());
        }
        let token = eks_token(
            &self.credentials,
            &self.cluster,
            &self.region,
            SystemTime::now(),
        )?;
        *cached = Some((Instant::now(), token.clone()));
        Ok(token)
    }
}

/// What a token says, decoded (for tests and for the test API server that verifies tokens).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedToken {
    pub host: String,
    pub path: String,
    /// Query parameters in URL order, percent-decoded.
    pub params: Vec<(String, String)>,
}

impl DecodedToken {
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes a token the way the EKS authenticator reads it.
///
/// # Errors
/// A message naming what is malformed.
pub fn decode(token: &str) -> Result<DecodedToken, String> {
    if token.len() > 4096 {
        return Err("token longer than 4096 bytes".to_string());
    }
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or_else(|| format!("token does not start with `{TOKEN_PREFIX}`"))?;
    if body.contains('=') {
        return Err("token has base64 padding".to_string());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| format!("token is not unpadded base64url: {e}"))?;
    let url = String::from_utf8(bytes).map_err(|_| "token URL is not UTF-8".to_string())?;
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| "token URL is not https".to_string())?;
    let (authority, path_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok(DecodedToken {
        host: authority.to_string(),
        path: path.to_string(),
        params,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        )
    }

    #[test]
    fn token_has_the_eks_shape() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = eks_token(&creds(Some("session/token+x")), "demo", "us-east-1", time)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(!token.contains('='));
        let d = decode(&token).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.host, "sts.us-east-1.amazonaws.com");
        assert_eq!(d.path, "/");
        assert_eq!(d.param("Action"), Some("GetCallerIdentity"));
        assert_eq!(d.param("Version"), Some("2011-06-15"));
        assert_eq!(d.param("X-Amz-Expires"), Some("60"));
        assert_eq!(d.param("X-Amz-SignedHeaders"), Some("host;x-k8s-aws-id"));
        assert_eq!(d.param("X-Amz-Date"), Some("20231114T221320Z"));
        assert_eq!(
            d.param("X-Amz-Credential"),
            Some("AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request")
        );
        assert_eq!(d.param("X-Amz-Security-Token"), Some("session/token+x"));
        assert_eq!(d.param("X-Amz-Signature").map(str::len), Some(64));
    }

    #[test]
    fn decode_rejects_what_eks_rejects() {
        assert!(decode("k8s-aws-v2.abc").is_err());
        assert!(decode("k8s-aws-v1.aHR0cDovL3g=").is_err());
        let http = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("http://x/");
        assert!(decode(&format!("{TOKEN_PREFIX}{http}")).is_err());
    }

    #[test]
    fn source_reuses_a_fresh_token() {
        let source = TokenSource::new(creds(None), "demo", "eu-west-1");
        let a = source.token().unwrap_or_default();
        let b = source.token().unwrap_or_default();
        assert_eq!(a, b);
        assert!(decode(&a).is_ok_and(|d| d.host == "sts.eu-west-1.amazonaws.com"));
    }
}

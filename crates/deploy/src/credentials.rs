//! AWS credentials for the run.
//!
//! In GitHub Actions with a `roleArn`: the job's OIDC token (one GET to
//! `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=...` with the bearer `$ACTIONS_ID_TOKEN_REQUEST_TOKEN`)
//! is exchanged through STS `AssumeRoleWithWebIdentity`. Elsewhere: the standard AWS chain.
//! Every secret is masked and registered for redaction the moment it is known, kept in memory
//! only, and handed to child processes through their environment.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials as _;

use crate::aws::{self, Failure};
use crate::cancel::Cancel;
use crate::iam::SESSION_NAME_PUNCTUATION;
use crate::log::Log;
use crate::plan::CredentialsSpec;
use crate::wait::Backoff;

/// The environment that decides how credentials are obtained.
#[derive(Clone, Debug, Default)]
pub struct ActionsEnv {
    pub in_actions: bool,
    pub token_url: Option<String>,
    pub token_bearer: Option<String>,
    pub repository: Option<String>,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub git_ref: Option<String>,
}

impl ActionsEnv {
    #[must_use]
    pub fn from_process() -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        Self {
            in_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            token_url: var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            token_bearer: var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            repository: var("GITHUB_REPOSITORY"),
            run_id: var("GITHUB_RUN_ID"),
            run_attempt: var("GITHUB_RUN_ATTEMPT"),
            git_ref: var("GITHUB_REF"),
        }
    }

    /// The `sub` claim a trust policy must match for this run (the classic format).
    fn expected_sub(&self) -> String {
        match (&self.repository, &self.git_ref) {
            (Some(repo), Some(r)) => format!("repo:{repo}:ref:{r}"),
            (Some(repo), None) => format!("repo:{repo}:*"),
            _ => "repo:OWNER/REPO:ref:refs/heads/BRANCH".to_string(),
        }
    }
}

/// Why no credentials could be obtained. Each message names the likely cause and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    #[error(
        "GitHub OIDC is not available to this job: `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set. Add `permissions: {{id-token: write, contents: read}}` to the job; pull requests from forks never get an OIDC token"
    )]
    MissingIdTokenPermission,
    #[error(
        "the GitHub OIDC token endpoint refused the request (HTTP {status}): {message}; check `permissions: id-token: write` on the job"
    )]
    TokenRefused { status: u16, message: String },
    #[error("the GitHub OIDC token endpoint answered without a token: {0}")]
    TokenMalformed(String),
    #[error("cannot get a GitHub OIDC token after {attempts} attempts: {last}")]
    TokenUnavailable { attempts: u32, last: String },
    #[error(
        "STS rejected the OIDC token for `{role}` (InvalidIdentityToken): {message}. Create the IAM OIDC provider `token.actions.githubusercontent.com` in the role's account with the audience `{audience}`, or set `spec.credentials.audience` to one the provider lists"
    )]
    InvalidIdentityToken {
        role: String,
        audience: String,
        message: String,
    },
    #[error(
        "STS rejected a claim of the OIDC token for `{role}` (IDPRejectedClaim): {message}. The identity provider's audience list or thumbprint does not accept this token's `aud` `{audience}`"
    )]
    IdpRejectedClaim {
        role: String,
        audience: String,
        message: String,
    },
    #[error(
        "not allowed to assume `{role}` with web identity (AccessDenied): {message}. The role's trust policy must allow `sts:AssumeRoleWithWebIdentity` for the principal `token.actions.githubusercontent.com` with `token.actions.githubusercontent.com:aud` = `{audience}` and `token.actions.githubusercontent.com:sub` matching `{sub}` (repositories created after 2026-07-15 use the immutable form `repo:OWNER@ID/REPO@ID:...`; environments use `repo:OWNER/REPO:environment:NAME`)"
    )]
    AccessDenied {
        role: String,
        audience: String,
        sub: String,
        message: String,
    },
    #[error(
        "the OIDC token expired before STS saw it (ExpiredTokenException): {0}; rerun the job (a token lives 5 minutes)"
    )]
    ExpiredToken(String),
    #[error("STS refused `{role}`: {message}{hint}")]
    Sts {
        role: String,
        message: String,
        hint: &'static str,
    },
    #[error("STS stayed unavailable after {attempts} attempts: {last}")]
    StsUnavailable { attempts: u32, last: String },
    #[error(
        "no AWS credentials: {0}. Outside GitHub Actions eksgate uses the standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity, instance role)"
    )]
    Chain(String),
    #[error("cancelled while getting credentials")]
    Cancelled,
}

/// Credentials for the run and who they belong to.
#[derive(Clone)]
pub struct Resolved {
    pub credentials: Credentials,
    /// The IAM principal to name in access-entry advice (a role ARN when known).
    pub principal: String,
    /// How they were obtained, for the log.
    pub source: String,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("principal", &self.principal)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// `eksgate-<repo>-<run id>-<attempt>`, cut to what STS allows.
#[must_use]
pub fn default_session_name(env: &ActionsEnv) -> String {
    let mut name = "eksgate".to_string();
    if let Some(repo) = &env.repository {
        let repo = repo.rsplit('/').next().unwrap_or(repo);
        name.push('-');
        name.push_str(repo);
    }
    if let Some(run) = &env.run_id {
        name.push('-');
        name.push_str(run);
    }
    if let Some(attempt) = &env.run_attempt {
        name.push('-');
        name.push_str(attempt);
    }
    let mut clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || SESSION_NAME_PUNCTUATION.contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.len() > 64 {
        // Keep the end: the run id tells runs apart.
        clean = clean.split_off(clean.len() - 64);
    }
    clean
}

/// `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` → `arn:aws:iam::ACCT:role/ROLE` (what an access
/// entry names).
#[must_use]
pub fn canonical_principal(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let [_, partition, "sts", _, account, resource] = parts.as_slice()
        && let Some(rest) = resource.strip_prefix("assumed-role/")
    {
        let role = rest.split('/').next().unwrap_or(rest);
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    arn.to_string()
}

/// Session length when the plan gives none: the run's deadline plus a margin, at least STS's
/// 15 minutes and at most 12 hours (the role's MaxSessionDuration must allow it).
#[must_use]
pub fn default_duration(run_timeout: Duration) -> i32 {
    let secs = run_timeout.as_secs().saturating_add(600).clamp(900, 43_200);
    i32::try_from(secs).unwrap_or(3600)
}

/// Obtains the run's credentials.
///
/// # Errors
/// [`CredentialsError`], naming the cause.
pub async fn resolve(
    spec: &CredentialsSpec,
    env: &ActionsEnv,
    region: &str,
    run_timeout: Duration,
    log: &Log,
    cancel: &Cancel,
) -> Result<Resolved, CredentialsError> {
    if let Some(bearer) = &env.token_bearer {
        log.secret(bearer);
    }
    match (&spec.role_arn, env.in_actions) {
        (Some(role), true) => {
            let (Some(url), Some(bearer)) = (&env.token_url, &env.token_bearer) else {
                return Err(CredentialsError::MissingIdTokenPermission);
            };
            let jwt = fetch_oidc_token(url, bearer, &spec.audience, log, cancel).await?;
            let session = spec
                .session_name
                .clone()
                .unwrap_or_else(|| default_session_name(env));
            let duration = spec
                .duration_seconds
                .unwrap_or_else(|| default_duration(run_timeout));
            let creds = assume_role(
                role, &session, duration, &jwt, spec, env, region, log, cancel,
            )
            .await?;
            Ok(Resolved {
                credentials: creds,
                principal: role.clone(),
                source: format!(
                    "GitHub OIDC (audience `{}`) -> AssumeRoleWithWebIdentity `{role}` as session `{session}` for {duration}s",
                    spec.audience
                ),
            })
        }
        _ => {
            let config = aws::sdk_config(region, None).await;
            let provider = config.credentials_provider().ok_or_else(|| {
                CredentialsError::Chain("no credentials provider is configured".to_string())
            })?;
            let creds = provider
                .provide_credentials()
                .await
                .map_err(|e| CredentialsError::Chain(aws::error_chain(Some(&e))))?;
            register(&creds, log);
            // Best effort: who we are, for access-entry advice.
            let sts = aws_sdk_sts::Client::new(&config);
            let principal = match sts.get_caller_identity().send().await {
                Ok(out) => out
                    .arn
                    .map(|a| canonical_principal(&a))
                    .unwrap_or_else(|| "the deploy identity".to_string()),
                Err(_) => spec
                    .role_arn
                    .clone()
                    .unwrap_or_else(|| "the deploy identity".to_string()),
            };
            Ok(Resolved {
                credentials: creds,
                principal,
                source: "the standard AWS credential chain".to_string(),
            })
        }
    }
}

fn register(creds: &Credentials, log: &Log) {
    log.secret(creds.access_key_id());
    log.secret(creds.secret_access_key());
    if let Some(token) = creds.session_token() {
        log.secret(token);
    }
}

fn token_url(base: &str, audience: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let encoded: String = audience
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{base}{sep}audience={encoded}")
}

const TOKEN_ATTEMPTS: u32 = 5;

async fn fetch_oidc_token(
    base: &str,
    bearer: &str,
    audience: &str,
    log: &Log,
    cancel: &Cancel,
) -> Result<String, CredentialsError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| CredentialsError::TokenUnavailable {
            attempts: 0,
            last: e.to_string(),
        })?;
    let url = token_url(base, audience);
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let mut last = String::new();
    for attempt in 1..=TOKEN_ATTEMPTS {
        let response = client
            .get(&url)
            .bearer_auth(bearer)
            .header("Accept", "application/json")
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => {
                let body: serde_json::Value = r
                    .json()
                    .await
                    .map_err(|e| CredentialsError::TokenMalformed(e.to_string()))?;
                let Some(token) = body.get("value").and_then(|v| v.as_str()) else {
                    return Err(CredentialsError::TokenMalformed(
                        "the JSON has no `value` field".to_string(),
                    ));
                };
                log.secret(token);
                return Ok(token.to_string());
            }
            Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                last = format!("HTTP {}", r.status().as_u16());
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                return Err(CredentialsError::TokenRefused {
                    status,
                    message: log.redact(text.trim()).chars().take(300).collect(),
                });
            }
            Err(e) => last = log.redact(&aws::error_chain(Some(&e))),
        }
        if attempt < TOKEN_ATTEMPTS {
            let delay = backoff.next_delay();
            log.line(&format!(
                "  GitHub OIDC token endpoint: {last}; retrying in {}",
                crate::duration::format(delay)
            ));
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => return Err(CredentialsError::Cancelled),
            }
        }
    }
    Err(CredentialsError::TokenUnavailable {
        attempts: TOKEN_ATTEMPTS,
        last,
    })
}

const STS_ATTEMPTS: u32 = 6;

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename the arguments"
)]
async fn assume_role(
    role: &str,
    session: &str,
    duration: i32,
    jwt: &str,
    spec: &CredentialsSpec,
    env: &ActionsEnv,
    region: &str,
    log: &Log,
    cancel: &Cancel,
) -> Result<Credentials, CredentialsError> {
    // AssumeRoleWithWebIdentity is unsigned: the client needs no credentials of its own.
    let config = aws::sdk_config(region, None).await;
    let sts = aws_sdk_sts::Client::new(&config);
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(20));
    let mut last = String::new();
    for attempt in 1..=STS_ATTEMPTS {
        let result = sts
            .assume_role_with_web_identity()
            .role_arn(role)
            .role_session_name(session)
            .duration_seconds(duration)
            .web_identity_token(jwt)
            .send()
            .await;
        match result {
            Ok(out) => {
                let Some(c) = out.credentials else {
                    return Err(CredentialsError::Sts {
                        role: role.to_string(),
                        message: "the answer has no credentials".to_string(),
                        hint: "",
                    });
                };
                let expiry = std::time::SystemTime::try_from(c.expiration).ok();
                let creds = Credentials::new(
                    c.access_key_id,
                    c.secret_access_key,
                    Some(c.session_token),
                    expiry,
                    "eksgate-oidc",
                );
                register(&creds, log);
                return Ok(creds);
            }
            Err(e) => match aws::classify(&e) {
                Failure::Transient(m) => last = log.redact(&m),
                Failure::NotFound(m) => {
                    return Err(CredentialsError::Sts {
                        role: role.to_string(),
                        message: log.redact(&m),
                        hint: "; is `AWS_ENDPOINT_URL_STS` pointing at STS?",
                    });
                }
                Failure::Fatal { code, message } => {
                    let message = log.redact(&message);
                    let role = role.to_string();
                    let audience = spec.audience.clone();
                    return Err(match code.as_str() {
                        "InvalidIdentityToken" => CredentialsError::InvalidIdentityToken {
                            role,
                            audience,
                            message,
                        },
                        "IDPRejectedClaim" => CredentialsError::IdpRejectedClaim {
                            role,
                            audience,
                            message,
                        },
                        "AccessDenied" | "AccessDeniedException" => {
                            CredentialsError::AccessDenied {
                                role,
                                audience,
                                sub: env.expected_sub(),
                                message,
                            }
                        }
                        "ExpiredTokenException" => CredentialsError::ExpiredToken(message),
                        "ValidationError" if message.contains("DurationSeconds") => {
                            CredentialsError::Sts {
                                role,
                                message,
                                hint: "; lower `spec.credentials.durationSeconds` or raise the role's MaxSessionDuration",
                            }
                        }
                        "RegionDisabledException" => CredentialsError::Sts {
                            role,
                            message,
                            hint: "; activate STS in this region (IAM > Account settings) or use another region",
                        },
                        _ => CredentialsError::Sts {
                            role,
                            message,
                            hint: "",
                        },
                    });
                }
            },
        }
        if attempt < STS_ATTEMPTS {
            let delay = backoff.next_delay();
            log.line(&format!(
                "  STS AssumeRoleWithWebIdentity: {last}; retrying in {}",
                crate::duration::format(delay)
            ));
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => return Err(CredentialsError::Cancelled),
            }
        }
    }
    Err(CredentialsError::StsUnavailable {
        attempts: STS_ATTEMPTS,
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::valid_session_name;

    #[test]
    fn session_names_are_valid_for_sts() {
        let env = ActionsEnv {
            repository: Some("acme/platform infra".into()),
            run_id: Some("123456789".into()),
            run_attempt: Some("2".into()),
            ..ActionsEnv::default()
        };
        let name = default_session_name(&env);
        assert_eq!(name, "eksgate-platform-infra-123456789-2");
        assert!(valid_session_name(&name));
        let long = ActionsEnv {
            repository: Some(format!("o/{}", "r".repeat(80))),
            run_id: Some("42".into()),
            ..ActionsEnv::default()
        };
        let name = default_session_name(&long);
        assert_eq!(name.len(), 64);
        assert!(name.ends_with("-42"));
        assert!(!valid_session_name("a"));
        assert!(!valid_session_name("has space"));
    }

    #[test]
    fn principal_of_an_assumed_role_is_the_role() {
        assert_eq!(
            canonical_principal("arn:aws:sts::123456789012:assumed-role/deploy/eksgate-1"),
            "arn:aws:iam::123456789012:role/deploy"
        );
        assert_eq!(
            canonical_principal("arn:aws:iam::1:user/x"),
            "arn:aws:iam::1:user/x"
        );
    }

    #[test]
    fn token_url_appends_the_audience() {
        assert_eq!(
            token_url("https://x/token?api-version=2.0", "sts.amazonaws.com"),
            "https://x/token?api-version=2.0&audience=sts.amazonaws.com"
        );
        assert_eq!(token_url("http://x/t", "a b"), "http://x/t?audience=a%20b");
    }

    #[test]
    fn duration_covers_the_run() {
        assert_eq!(default_duration(Duration::from_secs(60)), 900);
        assert_eq!(default_duration(Duration::from_secs(7200)), 7800);
        assert_eq!(default_duration(Duration::from_secs(100_000)), 43_200);
    }
}

//! The GitHub REST API through octocrab: a few calls, each retried on what GitHub says is
//! temporary (5xx, 429, secondary rate limits with `retry-after`) and worded for the user when
//! it is not (401, 403, 404, 422).
//!
//! octocrab sends the requests (auth header, base URL, TLS); this module keeps the status and
//! headers of each response, which the typed octocrab calls hide, so a fork's 403 is told apart
//! from a rate limit and `Link` pagination is followed.

use std::time::Duration;

use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;

/// Why a call did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The token was refused.
    #[error(
        "GitHub refused the token (401 Unauthorized) for {what}: pass `github-token` (default `github.token`)"
    )]
    Unauthorized { what: String },
    /// The token may not do this (a fork's read-only token, or a missing `permissions:` entry).
    #[error("GitHub denied {what} (403 Forbidden): {message}; {hint}")]
    Forbidden {
        what: String,
        message: String,
        hint: &'static str,
    },
    /// The repository, pull request or comment does not exist (or the token cannot see it).
    #[error(
        "GitHub found no {what} (404 Not Found): check the repository, the pull request number and that the token can read them"
    )]
    NotFound { what: String },
    /// GitHub rejected the request body.
    #[error("GitHub rejected {what} (422 Unprocessable Entity): {message}")]
    Unprocessable { what: String, message: String },
    /// Still failing after the retries.
    #[error("GitHub answered {status} for {what} after {attempts} attempts: {message}")]
    Status {
        what: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    /// No answer at all.
    #[error("cannot reach the GitHub API for {what}: {message}")]
    Transport { what: String, message: String },
    /// A configuration the client cannot start with.
    #[error("{0}")]
    Config(String),
}

impl ApiError {
    /// A 403 from a token that may not write (fork pull requests, missing permissions).
    #[must_use]
    pub const fn is_forbidden(&self) -> bool {
        matches!(self, Self::Forbidden { .. })
    }
}

/// How often and how long to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first back-off when GitHub gives no `retry-after`; doubled each time.
    pub base_delay: Duration,
    /// The longest wait honoured (a longer `retry-after` ends the retries).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A response: status, the `next` page link and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub next: Option<String>,
    pub body: Value,
}

/// A repository's API: `owner/name` under `base` (`GITHUB_API_URL`).
pub struct Api {
    octo: octocrab::Octocrab,
    repo: String,
    retry: RetryPolicy,
}

impl Api {
    /// A client for `repo` (`owner/name`) at `base_url` with `token`.
    ///
    /// # Errors
    /// [`ApiError::Config`] when the URL or repository cannot be used.
    pub fn new(
        base_url: &str,
        repo: &str,
        token: &str,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        let valid_repo = repo.split_once('/').is_some_and(|(o, n)| {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            };
            ok(o) && ok(n)
        });
        if !valid_repo {
            return Err(ApiError::Config(format!(
                "`{}` is not a repository (`owner/name`): GITHUB_REPOSITORY is set by the runner",
                eksgate_policy::render::escape::visible(repo)
            )));
        }
        let octo = octocrab::Octocrab::builder()
            .base_uri(base_url.trim_end_matches('/'))
            .map_err(|e| ApiError::Config(format!("GITHUB_API_URL `{base_url}`: {e}")))?
            .personal_token(token.to_string())
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot start the GitHub client: {e}")))?;
        Ok(Self {
            octo,
            repo: repo.to_string(),
            retry,
        })
    }

    /// `/repos/{owner}/{name}{rest}`.
    #[must_use]
    pub fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}{rest}", self.repo)
    }

    /// Sends one request, retrying what is temporary, and maps failures to [`ApiError`].
    /// `what` names the call in messages ("the pull request comment").
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Response, ApiError> {
        let mut attempt = 0;
        let mut delay = self.retry.base_delay;
        loop {
            attempt += 1;
            let result = match method {
                Method::GET => self.octo._get(path).await,
                Method::POST => self.octo._post(path, body).await,
                Method::PATCH => self.octo._patch(path, body).await,
                Method::DELETE => self.octo._delete(path, body).await,
                _ => return Err(ApiError::Config(format!("unsupported method {method}"))),
            };
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    if attempt < self.retry.attempts {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(self.retry.max_delay);
                        continue;
                    }
                    return Err(ApiError::Transport {
                        what: what.to_string(),
                        message: error_chain(&e),
                    });
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status.is_success() {
                let next = headers
                    .get(http::header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .and_then(next_link);
                return Ok(Response {
                    status,
                    next,
                    body: json,
                });
            }
            let message = json
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| String::from("(no message)"), one_line);
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
            let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::FORBIDDEN
                    && (retry_after.is_some()
                        || header("x-ratelimit-remaining").as_deref() == Some("0")
                        || message.to_ascii_lowercase().contains("rate limit")));
            let temporary = status.is_server_error() || rate_limited;
            if temporary && attempt < self.retry.attempts {
                let wait = retry_after.map_or(delay, Duration::from_secs);
                if wait <= self.retry.max_delay {
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(self.retry.max_delay);
                    continue;
                }
            }
            let what = what.to_string();
            return Err(match status {
                StatusCode::UNAUTHORIZED => ApiError::Unauthorized { what },
                StatusCode::FORBIDDEN if !rate_limited => ApiError::Forbidden {
                    what,
                    message,
                    hint: "a pull request from a fork gets a read-only token, and otherwise the job needs the `permissions:` the README lists for this mode",
                },
                StatusCode::NOT_FOUND => ApiError::NotFound { what },
                StatusCode::UNPROCESSABLE_ENTITY => ApiError::Unprocessable { what, message },
                _ => ApiError::Status {
                    what,
                    status: status.as_u16(),
                    attempts: attempt,
                    message,
                },
            });
        }
    }

    /// Every item of a paginated list (`per_page=100`, following `Link: rel="next"`), at most
    /// `max_pages` pages.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn list(
        &self,
        path: &str,
        what: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, ApiError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{sep}per_page=100"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let page = self.send(Method::GET, &url, None, what).await?;
            if let Value::Array(list) = page.body {
                items.extend(list);
            }
            if pages < max_pages {
                next = page.next;
            }
        }
        Ok(items)
    }
}

/// The `rel="next"` URL of a `Link` header.
#[must_use]
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

fn one_line(text: &str) -> String {
    let line: String = text.chars().take(300).collect();
    eksgate_policy::render::escape::visible(&line).into_owned()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    one_line(&out)
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn finds_the_next_page_link() {
        let h = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
    }
}

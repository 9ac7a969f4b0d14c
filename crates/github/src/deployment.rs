//! GitHub Deployments: one per deploy run, with its statuses (`in_progress`, then `success`,
//! `failure` or `inactive`), the run's log URL and the cluster endpoint as environment URL.

use http::Method;
use serde_json::{Value, json};

use crate::api::{Api, ApiError};

/// A deployment's state, as the Deployments API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
}

impl State {
    /// The API's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Error => "error",
            Self::Inactive => "inactive",
        }
    }

    /// From the API's name (`success`, `failure`, ...) or the deploy's `result` output
    /// (`cancelled` becomes `inactive`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "in_progress" => Self::InProgress,
            "success" => Self::Success,
            "failure" => Self::Failure,
            "error" => Self::Error,
            "inactive" | "cancelled" => Self::Inactive,
            _ => return None,
        })
    }
}

/// Creates a deployment of `git_ref` to `environment`; returns its id.
///
/// `auto_merge` is off (a deploy of the PR head must not merge the default branch in) and no
/// status checks are required (the workflow's own `needs:` says what must pass).
///
/// # Errors
/// See [`ApiError`].
pub async fn create(
    api: &Api,
    git_ref: &str,
    environment: &str,
    description: &str,
) -> Result<u64, ApiError> {
    let body = json!({
        "ref": git_ref,
        "environment": environment,
        "description": description,
        "auto_merge": false,
        "required_contexts": [],
        "transient_environment": false,
        "production_environment": environment.to_ascii_lowercase().contains("prod"),
    });
    let response = api
        .send(
            Method::POST,
            &api.repo_path("/deployments"),
            Some(&body),
            "the deployment",
        )
        .await?;
    response
        .body
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::Unprocessable {
            what: "the deployment".into(),
            message: "the answer has no deployment id (a merge conflict answers 202 without one)"
                .into(),
        })
}

/// Adds a status to deployment `id`.
///
/// # Errors
/// See [`ApiError`].
pub async fn set_status(
    api: &Api,
    id: u64,
    state: State,
    log_url: Option<&str>,
    environment_url: Option<&str>,
    description: &str,
) -> Result<(), ApiError> {
    let mut body = json!({
        "state": state.as_str(),
        "description": description.chars().take(140).collect::<String>(),
        "auto_inactive": true,
    });
    if let Some(url) = log_url {
        body["log_url"] = json!(url);
    }
    if let Some(url) =
        environment_url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    {
        body["environment_url"] = json!(url);
    }
    api.send(
        Method::POST,
        &api.repo_path(&format!("/deployments/{id}/statuses")),
        Some(&body),
        "the deployment status",
    )
    .await?;
    Ok(())
}

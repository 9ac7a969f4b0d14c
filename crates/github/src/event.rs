//! The workflow run's event (`GITHUB_EVENT_PATH`): which pull request, which head commit, and
//! whether it comes from a fork (whose token is read-only).

use serde_json::Value;

/// The pull request of a `pull_request` or `pull_request_target` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub head_sha: String,
    /// The head repository differs from the base repository.
    pub from_fork: bool,
}

/// The pull request in the event JSON, if the event has one.
#[must_use]
pub fn pull_request(event: &Value) -> Option<PullRequest> {
    let pr = event.get("pull_request")?;
    let number = pr.get("number").and_then(Value::as_u64)?;
    let head_sha = pr
        .pointer("/head/sha")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = |p: &str| pr.pointer(p).and_then(Value::as_str);
    let from_fork = match (name("/head/repo/full_name"), name("/base/repo/full_name")) {
        (Some(head), Some(base)) => head != base,
        // A deleted fork has `head.repo: null`.
        (None, Some(_)) => true,
        _ => false,
    };
    Some(PullRequest {
        number,
        head_sha,
        from_fork,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pull_request_event() {
        let event = serde_json::json!({"pull_request": {"number": 7,
            "head": {"sha": "abc", "repo": {"full_name": "fork/platform"}},
            "base": {"repo": {"full_name": "acme/platform"}}}});
        assert_eq!(
            pull_request(&event),
            Some(PullRequest {
                number: 7,
                head_sha: "abc".into(),
                from_fork: true
            })
        );
        assert_eq!(pull_request(&serde_json::json!({"push": {}})), None);
    }
}

//! What IAM and STS accept, checked where a value enters (the plan, `--role-arn`) and where it
//! is used (credentials). A leaf: it imports nothing from this crate, so the plan reader and the
//! credentials code can both use it without importing each other.

/// The characters STS allows in a role session name besides letters and digits.
pub const SESSION_NAME_PUNCTUATION: &str = "_+=,.@-";

/// STS allows `[\w+=,.@-]{2,64}`.
#[must_use]
pub fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SESSION_NAME_PUNCTUATION.contains(c))
}

/// Whether `arn` looks like an IAM role ARN (`arn:aws...:role/...`).
#[must_use]
pub fn is_role_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws") && arn.contains(":role/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_and_role_arns() {
        assert!(valid_session_name("eksgate-platform-42-1"));
        assert!(!valid_session_name("a"));
        assert!(!valid_session_name("has space"));
        assert!(!valid_session_name(&"x".repeat(65)));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/eksgate-deploy"));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/d"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/me"));
    }
}

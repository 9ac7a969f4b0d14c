//! CEL (the Common Expression Language) for eksgate: the engine behind CEL001 (the
//! `x-kubernetes-validations` rules of CRDs given with `--crd`) and the policy's custom rules.
//!
//! Built on the `cel` crate, with the parts of the Kubernetes CEL library it lacks and the
//! Karpenter CRDs use ([`k8s`]), a static check that names a function the engine does not have
//! before a rule is evaluated ([`refs`]), the conversion of a document into CEL values the way
//! the API server sees it: typed by the schema, defaulted and pruned ([`value`]), and the CRD
//! rules compiled once per schema ([`crd`]), and the rules of the Karpenter and EKS Auto Mode
//! CRDs implemented natively ([`native`]).

pub mod crd;
pub mod k8s;
mod macros;
pub mod native;
pub mod program;
pub mod refs;
pub mod value;

use std::sync::{Arc, OnceLock};

use cel::Env;

pub use program::{Program, compile};

/// The environment every eksgate CEL program runs in: the CEL standard library, the `strings`
/// and `lists` extensions, and [`k8s`]'s Kubernetes functions. Built once.
#[must_use]
pub fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(k8s::environment())))
}

/// A CEL expression that does not compile: where (1-based line and column inside the
/// expression, counting characters) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// A short, single-line rendering of an evaluation error for messages.
#[must_use]
pub fn describe_error(error: &cel::ExecutionError) -> String {
    let text = error.to_string();
    let line = text.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(200).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn compile_errors_have_positions() {
        let err = compile("a == )").unwrap_err();
        assert_eq!((err.line, err.column), (1, 6), "{err:?}");
        let err = compile("true &&\n  )").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn env_compiles_the_standard_macros() {
        assert!(compile("[1, 2].all(x, x > 0)").is_ok());
    }
}

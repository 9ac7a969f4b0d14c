//! eksgate's policy engine: Karpenter NodePools, EC2NodeClasses, EKS Auto Mode NodeClasses,
//! workload scheduling and AWS tags, checked against a platform policy.
//!
//! Pure: text in, a [`Report`] out. No file system, environment, clock or network, so the same
//! code runs in the CLI, in CI and in the browser (wasm32).
//!
//! ```
//! use eksgate_policy::{check, CheckOptions, Input, Policy, SourceFile};
//!
//! let policy = Policy::default_policy().unwrap();
//! let text = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n  metadataOptions: {httpTokens: optional}\n";
//! let report = check(vec![Input::text("x.yaml", text)], &policy, &CheckOptions::default());
//! assert!(report.diagnostics.iter().any(|d| d.rule == "IMDS001"));
//! ```

pub mod autofix;
pub mod catalogue;
pub mod cel;
pub mod diagnostic;
pub mod engine;
pub mod ffi;
pub mod fix;
pub mod generate;
pub mod migrate;
pub mod model;
pub mod node;
pub mod placeholder;
pub mod re2;
pub mod reader;
pub mod render;
pub mod rules;
pub mod schema;
pub mod select;
pub mod source;
mod suppress;
pub mod text;

pub use diagnostic::{
    CheckedObject, CustomRuleInfo, Diagnostic, Position, Report, Severity, Summary,
};
pub use engine::{CheckedFile, Checker};
pub use model::policy::{Policy, PolicyError};
pub use source::{DecodeFault, Limits, SourceFile};

use source::Document;

/// How a run behaves beyond the policy.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub limits: Limits,
    /// Schemas from CustomResourceDefinitions the user gave (`--crd`); they take precedence
    /// over the built-in schemas for the same `apiVersion` and kind.
    pub schemas: schema::SchemaSet,
    /// `--var`/`--vars-file`: placeholders to substitute before checking (Flux
    /// `postBuild.substitute` semantics, see [`placeholder::substitute`]); positions in the
    /// report still point into the text as written. `None`: nothing is substituted and every
    /// placeholder is an unknown value.
    pub vars: Option<placeholder::Vars>,
}

/// One source handed to [`check`]: its text, or why its bytes could not be read as text.
#[derive(Clone, Debug)]
pub struct Input {
    pub source: SourceFile,
    pub fault: Option<DecodeFault>,
}

impl Input {
    /// A source that is already text.
    #[must_use]
    pub fn text(name: impl Into<String>, text: impl Into<std::sync::Arc<str>>) -> Self {
        Self {
            source: SourceFile::new(name, text),
            fault: None,
        }
    }

    /// A source from raw bytes: bytes that are not UTF-8 or too many become a `YAML001`
    /// finding (the text is kept, with replacement characters, for the code frame).
    #[must_use]
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>, limits: &Limits) -> Self {
        let name = name.into();
        if bytes.len() > limits.max_source_bytes {
            return Self::too_large(name, bytes.len(), limits);
        }
        match SourceFile::from_bytes(name.clone(), bytes, limits) {
            Ok(source) => Self {
                source,
                fault: None,
            },
            Err((fault, bytes)) => Self {
                source: SourceFile::new(name, String::from_utf8_lossy(&bytes).into_owned()),
                fault: Some(fault),
            },
        }
    }
}

impl Input {
    /// A source that was not read because it has `bytes` bytes, more than the limit allows.
    #[must_use]
    pub fn too_large(name: impl Into<String>, bytes: usize, limits: &Limits) -> Self {
        Self {
            fault: Some(DecodeFault::TooLarge {
                bytes,
                limit: limits.max_source_bytes,
            }),
            source: SourceFile::new(name, ""),
        }
    }
}

/// Kinds some rule reads; other documents are counted as skipped.
pub(crate) fn is_checked_kind(doc: &Document) -> bool {
    model::NodePool::from_document(doc).is_some()
        || model::NodeClass::from_document(doc).is_some()
        || model::Workload::from_document(doc).is_some()
        || model::misplaced(doc).is_some()
        || matches!(
            (doc.api_version(), doc.kind()),
            (Some("karpenter.sh/v1alpha5"), Some("Provisioner"))
                | (Some("karpenter.k8s.aws/v1alpha1"), Some("AWSNodeTemplate"))
                | (
                    Some("karpenter.sh/v1beta1" | "karpenter.sh/v1"),
                    Some("NodeClaim")
                )
                | (Some(reader::API_VERSION), Some("ClusterRequest"))
        )
}

/// Reads every document of `inputs` and runs no rule: the cost of parsing alone, which the
/// benchmark compares a full check against. Returns the number of documents read.
#[must_use]
pub fn parse_only(inputs: &[Input], options: &CheckOptions) -> usize {
    inputs
        .iter()
        .filter(|i| i.fault.is_none())
        .enumerate()
        .map(|(index, input)| {
            source::load(index, &input.source, &options.limits)
                .documents
                .len()
        })
        .sum()
}

/// Checks every document of `inputs` against `policy`.
#[must_use]
pub fn check(inputs: Vec<Input>, policy: &Policy, options: &CheckOptions) -> Report {
    run(inputs, policy, options).0
}

/// Checks `inputs` as [`check`] does, and returns the apply order their Flux Kustomizations
/// and Argo CD Applications imply, with the ordering findings on it (`eksgate graph`).
#[must_use]
pub fn graph(
    inputs: Vec<Input>,
    policy: &Policy,
    options: &CheckOptions,
) -> (Report, model::repo::graph::Graph) {
    let (report, repository) = run(inputs, policy, options);
    let graph = model::repo::graph::Graph::new(&repository, &report.diagnostics);
    (report, graph)
}

fn run(
    inputs: Vec<Input>,
    policy: &Policy,
    options: &CheckOptions,
) -> (Report, model::repo::Repository) {
    let checker = engine::Checker::new(policy, options);
    let files = inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| checker.file(index, input))
        .collect();
    checker.finish(files)
}

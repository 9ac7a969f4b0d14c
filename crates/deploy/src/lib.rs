//! `eksgate deploy`: a staged EKS deploy that knows what "ready" means.
//!
//! A [`plan::DeployPlan`] lists stages; each runs Terraform, applies manifests (server-side
//! apply, after the policy gate) or a command, then waits on gates: pure conditions
//! ([`conditions`]) polled by one loop ([`wait::wait_until`]) with a required timeout, capped
//! exponential backoff with jitter, progress lines and a final "last seen" message. Credentials
//! come from GitHub OIDC through STS in Actions ([`credentials`]); the Kubernetes API is reached
//! with an EKS token signed here ([`token`]).

pub mod aws;
pub mod cancel;
pub mod conditions;
pub mod credentials;
pub mod duration;
pub mod iam;
pub mod kube;
pub mod log;
pub mod manifests;
pub mod plan;
pub mod process;
pub mod runner;
pub mod terraform;
pub mod token;
pub mod wait;

pub use runner::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, RunOptions, run, run_blocking};

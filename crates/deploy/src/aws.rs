//! The AWS SDK, set up once: a ring-only rustls HTTP client, the region from the plan, and the
//! SDK's own retries turned off, because eksgate's wait loop and credential exchange own
//! retrying (and know which errors are worth it). The standard endpoint settings
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_EKS`) are read by `aws-config`.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::conditions::Check;
use crate::conditions::{self, Member};

/// Loads the SDK configuration: the standard chain for credentials unless `credentials` is
/// given.
pub async fn sdk_config(region: &str, credentials: Option<Credentials>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c);
    }
    loader.load().await
}

/// What an SDK error means for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Throttling, 5xx, timeouts, connection problems: worth retrying.
    Transient(String),
    /// `ResourceNotFoundException` (or a plain 404).
    NotFound(String),
    /// Anything else: retrying will not help.
    Fatal { code: String, message: String },
}

const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "IDPCommunicationError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "ServerException",
];

/// Sorts an SDK error into [`Failure`].
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("").to_string();
            let message = service.err().message().unwrap_or("").to_string();
            let text = if code.is_empty() {
                format!(
                    "HTTP {status}{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                )
            } else {
                format!("{code} (HTTP {status}): {message}")
            };
            if TRANSIENT_CODES.contains(&code.as_str()) || status >= 500 || status == 429 {
                Failure::Transient(text)
            } else if code == "ResourceNotFoundException" || (code.is_empty() && status == 404) {
                Failure::NotFound(text)
            } else {
                Failure::Fatal {
                    code,
                    message: text,
                }
            }
        }
        SdkError::TimeoutError(_) => Failure::Transient("the request timed out".to_string()),
        SdkError::DispatchFailure(d) => Failure::Transient(format!(
            "cannot reach the AWS endpoint: {}",
            error_chain(d.as_connector_error().map(|e| e as &dyn std::error::Error))
        )),
        SdkError::ResponseError(_) => {
            Failure::Transient("the AWS response could not be read".to_string())
        }
        other => Failure::Fatal {
            code: String::new(),
            message: error_chain(Some(other as &dyn std::error::Error)),
        },
    }
}

/// An error and its causes, `: `-joined.
#[must_use]
pub fn error_chain(err: Option<&dyn std::error::Error>) -> String {
    let mut parts = Vec::new();
    let mut next = err;
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        "unknown error".to_string()
    } else {
        parts.join(": ")
    }
}

/// What DescribeCluster says about the cluster.
#[derive(Clone, Debug, Default)]
pub struct ClusterInfo {
    pub status: Option<String>,
    pub endpoint: Option<String>,
    /// Base64 PEM of the cluster CA, as DescribeCluster returns it.
    pub ca_data: Option<String>,
    pub issues: Vec<String>,
}

/// DescribeCluster.
///
/// # Errors
/// The classified SDK error.
pub async fn describe_cluster(
    eks: &aws_sdk_eks::Client,
    name: &str,
) -> Result<ClusterInfo, Failure> {
    let out = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let Some(c) = out.cluster else {
        return Ok(ClusterInfo::default());
    };
    Ok(ClusterInfo {
        status: c.status.map(|s| s.as_str().to_string()),
        endpoint: c.endpoint,
        ca_data: c.certificate_authority.and_then(|a| a.data),
        issues: c
            .health
            .map(|h| {
                h.issues
                    .unwrap_or_default()
                    .into_iter()
                    .map(|i| {
                        format!(
                            "{}: {}",
                            i.code.map(|c| c.as_str().to_string()).unwrap_or_default(),
                            i.message.unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// One poll of `eks-cluster-active`.
pub async fn poll_cluster(eks: &aws_sdk_eks::Client, name: &str) -> Check {
    match describe_cluster(eks, name).await {
        Ok(info) => conditions::eks_cluster(name, info.status.as_deref(), &info.issues),
        Err(failure) => failure_check(&format!("DescribeCluster `{name}`"), failure),
    }
}

/// One poll of `nodegroups-active`.
pub async fn poll_nodegroups(eks: &aws_sdk_eks::Client, cluster: &str) -> Check {
    let names = match eks.list_nodegroups().cluster_name(cluster).send().await {
        Ok(out) => out.nodegroups.unwrap_or_default(),
        Err(e) => return failure_check("ListNodegroups", classify(&e)),
    };
    let mut members = Vec::new();
    for name in names {
        match eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&name)
            .send()
            .await
        {
            Ok(out) => {
                let ng = out
                    .nodegroup
                    .unwrap_or_else(|| aws_sdk_eks::types::Nodegroup::builder().build());
                members.push(Member {
                    name,
                    status: ng
                        .status
                        .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()),
                    issues: ng
                        .health
                        .and_then(|h| h.issues)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| {
                            format!(
                                "{}: {}",
                                i.code.map(|c| c.as_str().to_string()).unwrap_or_default(),
                                i.message.unwrap_or_default()
                            )
                        })
                        .collect(),
                });
            }
            Err(e) => return failure_check(&format!("DescribeNodegroup `{name}`"), classify(&e)),
        }
    }
    conditions::nodegroups(cluster, &members)
}

/// One poll of `addons-active`.
pub async fn poll_addons(eks: &aws_sdk_eks::Client, cluster: &str) -> Check {
    let names = match eks.list_addons().cluster_name(cluster).send().await {
        Ok(out) => out.addons.unwrap_or_default(),
        Err(e) => return failure_check("ListAddons", classify(&e)),
    };
    let mut members = Vec::new();
    for name in names {
        match eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(&name)
            .send()
            .await
        {
            Ok(out) => {
                let addon = out.addon;
                members.push(Member {
                    name,
                    status: addon
                        .as_ref()
                        .and_then(|a| a.status.as_ref())
                        .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()),
                    issues: addon
                        .and_then(|a| a.health)
                        .and_then(|h| h.issues)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| {
                            format!(
                                "{}: {}",
                                i.code.map(|c| c.as_str().to_string()).unwrap_or_default(),
                                i.message.unwrap_or_default()
                            )
                        })
                        .collect(),
                });
            }
            Err(e) => return failure_check(&format!("DescribeAddon `{name}`"), classify(&e)),
        }
    }
    conditions::addons(cluster, &members)
}

/// A failed AWS call as a gate sees it: transient errors and "not found yet" keep waiting
/// (a cluster is eventually consistent right after creation), the rest fails.
fn failure_check(what: &str, failure: Failure) -> Check {
    match failure {
        Failure::Transient(m) => Check::Pending(format!("{what}: {m} (retrying)")),
        Failure::NotFound(m) => Check::Pending(format!("{what}: not found yet ({m})")),
        Failure::Fatal { code, message } => {
            let hint = if code.contains("AccessDenied") || code.contains("UnrecognizedClient") {
                "; the deploy role needs eks:DescribeCluster, eks:ListNodegroups, eks:DescribeNodegroup, eks:ListAddons and eks:DescribeAddon"
            } else {
                ""
            };
            Check::Failed(format!("{what}: {message}{hint}"))
        }
    }
}

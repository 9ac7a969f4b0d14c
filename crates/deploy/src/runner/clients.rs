//! The sessions a run opens on demand: EKS (with the run's credentials) and the Kubernetes API
//! (endpoint and CA from DescribeCluster unless `--kube-api-url`/`--kube-ca-file` say otherwise,
//! a fresh EKS token on every request).

use crate::aws;
use crate::kube;
use crate::token::TokenSource;

use super::Deploy;

impl Deploy<'_> {
    pub(super) fn eks(&mut self) -> Result<aws_sdk_eks::Client, String> {
        if let Some(c) = &self.eks {
            return Ok(c.clone());
        }
        Err("no AWS session".to_string())
    }

    pub(super) async fn ensure_eks(&mut self) -> Result<aws_sdk_eks::Client, String> {
        if self.eks.is_none() {
            let creds = self
                .resolved
                .as_ref()
                .map(|r| r.credentials.clone())
                .ok_or_else(|| "no credentials".to_string())?;
            let config = aws::sdk_config(&self.plan.cluster.region, Some(creds)).await;
            self.eks = Some(aws_sdk_eks::Client::new(&config));
        }
        self.eks()
    }

    /// The Kubernetes client: endpoint and CA from DescribeCluster unless overridden.
    pub(super) async fn ensure_kube(&mut self) -> Result<kube::Client, String> {
        if let Some(k) = &self.kube {
            return Ok(k.clone());
        }
        let cluster = self.plan.cluster.name.clone();
        let mut ca_pem: Option<Vec<u8>> = match &self.options.kube_ca_file {
            // A CA bundle is a few kilobytes; 1 MiB is generous.
            Some(path) => Some(eksgate_io::read_user_file(path, 1 << 20).map_err(|e| {
                format!(
                    "cannot read `--kube-ca-file` `{}`: {}",
                    eksgate_io::shown(path),
                    e.kind
                )
            })?),
            None => None,
        };
        let url = match &self.options.kube_api_url {
            Some(url) => url.clone(),
            None => {
                let eks = self.ensure_eks().await?;
                let info = aws::describe_cluster(&eks, &cluster).await.map_err(|f| {
                    format!("cannot read the API endpoint of `{cluster}` (DescribeCluster: {f:?}); gate the stage that creates the cluster on `eks-cluster-active`")
                })?;
                let Some(endpoint) = info.endpoint.filter(|e| !e.is_empty()) else {
                    return Err(format!(
                        "cluster `{cluster}` has no API endpoint yet (status {}); gate the stage that creates it on `eks-cluster-active`",
                        info.status.unwrap_or_else(|| "unknown".into())
                    ));
                };
                if ca_pem.is_none() {
                    use base64::Engine as _;
                    let data = info.ca_data.unwrap_or_default();
                    let pem = base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|e| format!("the cluster CA from DescribeCluster is not base64: {e}; pass `--kube-ca-file`"))?;
                    ca_pem = Some(pem);
                }
                endpoint
            }
        };
        let https = url.starts_with("https://");
        let creds = self
            .resolved
            .as_ref()
            .map(|r| r.credentials.clone())
            .ok_or_else(|| "no credentials".to_string())?;
        let tokens = TokenSource::new(creds, &cluster, &self.plan.cluster.region);
        let client = kube::Client::new(&url, if https { ca_pem.as_deref() } else { None }, tokens)
            .map_err(|e| e.to_string())?;
        self.log.line(&format!("kubernetes API: {url}"));
        self.endpoint = Some(url);
        self.kube = Some(client.clone());
        Ok(client)
    }
}

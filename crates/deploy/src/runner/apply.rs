//! Server-side apply of a stage's manifests: Namespaces, then CRDs, then the rest, each kind
//! waited for in discovery first (a CRD applied a moment ago is served a moment later).

use std::time::Duration;

use serde_json::Value;

use super::Deploy;
use super::gates::kube_check;
use super::summary::Status;
use crate::kube::ApiResource;
use crate::manifests::{Manifest, object_label};
use crate::wait::{self, Check};

/// An object this run applied, and where it lives.
pub(super) struct Applied {
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) namespace: Option<String>,
    pub(super) resource: ApiResource,
}

impl Applied {
    pub(super) fn path(&self) -> String {
        self.resource.object(self.namespace.as_deref(), &self.name)
    }
}

impl Deploy<'_> {
    pub(super) async fn apply(
        &mut self,
        mut manifests: Vec<Manifest>,
    ) -> Result<(), (Status, String)> {
        let kube = self.ensure_kube().await.map_err(|m| (Status::Failed, m))?;
        // Namespaces, then CRDs, then the rest, each in file order.
        manifests.sort_by_key(|m| match m.object.get("kind").and_then(Value::as_str) {
            Some("Namespace") => 0,
            Some("CustomResourceDefinition") => 1,
            _ => 2,
        });
        for m in manifests {
            let api_version = m
                .object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let kind = m
                .object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let name = m
                .object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if api_version.is_empty() || kind.is_empty() || name.is_empty() {
                return Err((
                    Status::Failed,
                    format!(
                        "{} document {}: needs `apiVersion`, `kind` and `metadata.name` to be applied",
                        m.file,
                        m.document + 1
                    ),
                ));
            }
            let what = format!("discovery of {kind} in {api_version}");
            let timeout = Duration::from_secs(60).min(self.remaining());
            let found = wait::wait_until(
                &what,
                timeout,
                wait::gate_backoff(),
                &self.cancel,
                &self.log,
                || {
                    let kube = &kube;
                    let (api_version, kind) = (&api_version, &kind);
                    async move {
                        match kube.resolve(api_version, kind).await {
                            Ok(Some(_)) => Check::Ready(format!("{kind} is served")),
                            Ok(None) => Check::Pending(format!(
                                "no matches for kind `{kind}` in version `{api_version}`"
                            )),
                            Err(e) if matches!(e.status(), Some(401 | 403)) => {
                                Check::Failed(e.to_string())
                            }
                            Err(e) => kube_check(&e),
                        }
                    }
                },
            )
            .await;
            if let Err(e) = found {
                let (status, message) = self.wait_failure(e);
                return Err((
                    status,
                    format!(
                        "{message}. `{kind}` ({api_version}) is not served by the API server: apply its CRD in an earlier stage gated on `crds-established` (and the cluster on `kubernetes-api`)"
                    ),
                ));
            }
            let resource = match kube.resolve(&api_version, &kind).await {
                Ok(Some(r)) => r,
                _ => {
                    return Err((
                        Status::Failed,
                        format!("`{kind}` ({api_version}) disappeared from discovery"),
                    ));
                }
            };
            let namespace = if resource.namespaced {
                Some(
                    m.object
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("default")
                        .to_string(),
                )
            } else {
                None
            };
            let applied = Applied {
                api_version,
                kind,
                name,
                namespace,
                resource,
            };
            kube.apply(
                &applied.resource,
                applied.namespace.as_deref(),
                &applied.name,
                &m.object,
            )
            .await
            .map_err(|e| {
                (
                    Status::Failed,
                    format!("applying {} from {}: {e}", object_label(&m.object), m.file),
                )
            })?;
            self.log.line(&format!(
                "  applied {}{}",
                object_label(&m.object),
                applied
                    .namespace
                    .as_ref()
                    .map(|n| format!(" in `{n}`"))
                    .unwrap_or_default()
            ));
            if applied.kind == "CustomResourceDefinition" {
                // New kinds: what discovery said before is stale.
                kube.refresh_discovery();
            }
            self.applied.push(applied);
        }
        Ok(())
    }
}

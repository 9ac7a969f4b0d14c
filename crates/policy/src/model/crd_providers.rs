//! `spec.crdProviders` of the policy: which Helm chart, Flux Kustomization or Argo CD
//! Application installs the CRDs of which API groups, beyond what eksgate knows (the Karpenter
//! charts, EKS Auto Mode's built-in kinds, and CRD files in the run).
//!
//! ```yaml
//! spec:
//!   crdProviders:
//!     - name: cert-manager           # a chart, Kustomization or Application name
//!       groups: [cert-manager.io, acme.cert-manager.io]
//! ```
//!
//! Kept apart from the rest of the policy reader so that the reader can change underneath it:
//! the policy calls [`read`] on the `crdProviders` node and stores the result.

use crate::node::{Node, Span};

/// One entry of `spec.crdProviders`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrdProvider {
    /// A Helm chart name (a Flux HelmRelease's chart, an Argo CD Application's `source.chart`),
    /// or the name of a Flux Kustomization or Argo CD Application.
    pub name: String,
    /// The API groups whose CRDs it installs.
    pub groups: Vec<String>,
}

/// Reads `spec.crdProviders`; an error is the span and message of the first problem.
///
/// # Errors
/// When the node is not a list of `{name, groups}` mappings.
pub fn read(node: &Node) -> Result<Vec<CrdProvider>, (Span, String)> {
    let Some(items) = node.as_seq() else {
        return Err((
            node.span,
            format!("`crdProviders` must be a list, found {}", node.type_name()),
        ));
    };
    let mut out: Vec<CrdProvider> = Vec::new();
    for item in items {
        if item.as_map().is_none() {
            return Err((
                item.span,
                format!(
                    "a CRD provider must be a mapping, found {}",
                    item.type_name()
                ),
            ));
        }
        for entry in item.entries() {
            let key = entry.key_str().unwrap_or("");
            if key != "name" && key != "groups" {
                return Err((
                    entry.key.span,
                    format!(
                        "unknown field `{key}` in a CRD provider; expected one of: name, groups"
                    ),
                ));
            }
        }
        let name = match item.get("name") {
            Some(n) => n
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or((n.span, "`name` must be a non-empty string".to_string()))?,
            None => return Err((item.span, "a CRD provider needs a `name`".to_string())),
        };
        let groups_node = item
            .get("groups")
            .ok_or((item.span, format!("CRD provider `{name}` needs `groups`")))?;
        let groups = groups_node
            .as_seq()
            .filter(|g| !g.is_empty())
            .ok_or((
                groups_node.span,
                "`groups` must be a non-empty list of API groups".to_string(),
            ))?
            .iter()
            .map(|g| {
                g.as_str()
                    .filter(|s| !s.is_empty() && !s.contains('/'))
                    .map(str::to_string)
                    .ok_or((
                        g.span,
                        "a group is an API group such as `cert-manager.io` (no version)"
                            .to_string(),
                    ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if out.iter().any(|p| p.name == name) {
            return Err((item.span, format!("CRD provider `{name}` is listed twice")));
        }
        out.push(CrdProvider {
            name: name.to_string(),
            groups,
        });
    }
    Ok(out)
}

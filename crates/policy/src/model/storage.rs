//! An EC2NodeClass's node volumes: its block device mappings and the volumes Karpenter
//! defines when it has none (read by the encryption rules, ENC001 and ENC002).

use crate::node::{Entry, Node};

/// One `spec.blockDeviceMappings` item.
#[derive(Debug)]
pub struct Mapping<'a> {
    pub node: &'a Node,
    /// `deviceName` as the user wrote it, or the mapping's 1-based position.
    pub device: String,
    /// The `ebs` entry (key and value).
    pub ebs: Option<&'a Entry>,
}

impl Mapping<'_> {
    /// Where to point when the mapping itself is the problem: its `deviceName` key, else itself.
    pub fn anchor(&self) -> &Node {
        self.node.entry("deviceName").map_or(self.node, |e| &e.key)
    }
}

/// The block device mappings of an EC2NodeClass spec; `None` when there are none (absent,
/// `null` or `[]`), which makes Karpenter use its defaults. Mistyped lists also read as `None`
/// (a schema finding).
pub fn block_device_mappings(spec: &Node) -> Option<Vec<Mapping<'_>>> {
    let items = spec.get("blockDeviceMappings")?.as_seq()?;
    if items.is_empty() {
        return None;
    }
    Some(
        items
            .iter()
            .enumerate()
            .map(|(i, node)| Mapping {
                node,
                device: node
                    .get("deviceName")
                    .and_then(Node::scalar_text)
                    .filter(|d| !d.is_empty())
                    .map_or_else(|| format!("number {}", i + 1), |d| format!("`{d}`")),
                ebs: node.entry("ebs"),
            })
            .collect(),
    )
}

/// Whether the class uses `amiFamily: Custom` (Karpenter then defines no default volumes).
pub fn is_custom_family(spec: &Node) -> bool {
    spec.get("amiFamily").and_then(Node::as_str) == Some("Custom")
}

/// The devices Karpenter's default volumes use for the class's AMI family, for advice.
pub fn default_devices(spec: &Node) -> &'static str {
    let family = spec
        .get("amiFamily")
        .and_then(Node::as_str)
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            spec.get("amiSelectorTerms")?
                .items()
                .iter()
                .find_map(|t| t.get("alias").and_then(Node::as_str))
                .and_then(|a| a.split('@').next())
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_default();
    if family.starts_with("bottlerocket") {
        "`/dev/xvda` (OS) and `/dev/xvdb` (data)"
    } else if family.starts_with("windows") {
        "`/dev/sda1`"
    } else {
        "`/dev/xvda` (the AMI's root device)"
    }
}

use crate::model::{NodeClass, NodeClassFlavor};
use crate::node::{Entry, Node, Value};
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// An EBS volume of an EC2NodeClass is not encrypted.
    ///
    /// ## Why
    /// Node volumes hold container images, logs, `emptyDir` data and sometimes secrets written
    /// to disk; an unencrypted volume or snapshot exposes all of it. Karpenter passes each
    /// `blockDeviceMappings[].ebs.encrypted` to EC2 as written, so this rule wants every `ebs`
    /// to say `encrypted: true`:
    ///
    /// - `encrypted` missing: EC2 encrypts the volume only if the account's "EBS encryption by
    ///   default" is on in that Region (or, for a `snapshotID`, if the snapshot is encrypted),
    ///   which the manifest cannot show. Karpenter's own examples leave it out. A volume from
    ///   an unencrypted snapshot is unencrypted too, so mappings with a `snapshotID` are checked
    ///   the same way (`encrypted: true` makes EC2 encrypt the new volume).
    /// - `encrypted: false`, or a value that is not a boolean (`"true"` in quotes is a string,
    ///   which the API server rejects).
    /// - a mapping without `ebs` settings.
    ///
    /// Without `blockDeviceMappings`, Karpenter creates its default volumes, which are
    /// encrypted gp3 (`/dev/xvda`; Bottlerocket adds `/dev/xvdb`; Windows uses `/dev/sda1`), so
    /// that is compliant, except with `amiFamily: Custom`: then Karpenter defines no volumes,
    /// EC2 uses the AMI's own block device mappings, and their encryption is unknown.
    /// EKS Auto Mode always encrypts node volumes and is never reported. The policy's
    /// `encryption.requireEbsEncryption: false` turns this rule off.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   blockDeviceMappings:
    ///     - deviceName: /dev/xvda
    ///       ebs:
    ///         volumeSize: 100Gi
    ///         volumeType: gp3
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   blockDeviceMappings:
    ///     - deviceName: /dev/xvda
    ///       ebs:
    ///         volumeSize: 100Gi
    ///         volumeType: gp3
    ///         encrypted: true
    /// ```
    pub EbsUnencrypted { id: "ENC001", name: "ebs-volume-unencrypted", severity: Error }
}

/// One `spec.blockDeviceMappings` item. Shared with `ENC002`.
#[derive(Debug)]
pub(crate) struct Mapping<'a> {
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
pub(crate) fn block_device_mappings(spec: &Node) -> Option<Vec<Mapping<'_>>> {
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
pub(crate) fn is_custom_family(spec: &Node) -> bool {
    spec.get("amiFamily").and_then(Node::as_str) == Some("Custom")
}

/// The devices Karpenter's default volumes use for the class's AMI family, for advice.
pub(crate) fn default_devices(spec: &Node) -> &'static str {
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

/// EC2 node classes (Karpenter v1 and v1beta1) with their spec.
pub(crate) fn ec2_classes<'c, 'a>(
    cx: &'c Context<'a>,
) -> impl Iterator<Item = (&'c NodeClass<'a>, &'a Node)> {
    cx.node_classes.iter().filter_map(|class| {
        if matches!(class.flavor, NodeClassFlavor::Ec2(_)) {
            class.spec.map(|spec| (class, spec))
        } else {
            None
        }
    })
}

impl Rule for EbsUnencrypted {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if !cx.policy.encryption.require_ebs_encryption {
            return;
        }
        for (class, spec) in ec2_classes(cx) {
            let Some(mappings) = block_device_mappings(spec) else {
                if is_custom_family(spec) {
                    let at = spec.get("amiFamily").unwrap_or_else(|| class.anchor(&[]));
                    out.report(
                        class.doc,
                        at,
                        format!(
                            "EC2NodeClass `{}` uses `amiFamily: Custom` without `blockDeviceMappings`: \
                             its volumes come from the AMI, so their encryption is unknown",
                            class.name
                        ),
                    )
                    .help(
                        "add `blockDeviceMappings` for the AMI's root device, e.g. `- {deviceName: \
                         /dev/xvda, ebs: {volumeSize: 20Gi, volumeType: gp3, encrypted: true}}`",
                    );
                }
                continue;
            };
            for mapping in mappings {
                check_mapping(class, &mapping, out);
            }
        }
    }
}

fn check_mapping<'a>(class: &NodeClass<'a>, mapping: &Mapping<'a>, out: &mut Findings<'a>) {
    let device = &mapping.device;
    let help = "set `encrypted: true` in the mapping's `ebs`";
    let Some(ebs) = mapping.ebs else {
        out.report(
            class.doc,
            mapping.anchor(),
            format!("block device mapping {device} has no `ebs` settings, so nothing encrypts its volume"),
        )
        .help("give the mapping `ebs: {volumeSize: 20Gi, volumeType: gp3, encrypted: true}`");
        return;
    };
    let snapshot = ebs
        .value
        .get("snapshotID")
        .and_then(Node::scalar_text)
        .filter(|s| !s.is_empty());
    let unless = match &snapshot {
        Some(id) => format!(
            "it is encrypted only if snapshot `{id}` is, or if the account's EBS encryption by default is on"
        ),
        None => "EC2 encrypts it only if the account's EBS encryption by default is on".to_string(),
    };
    let Some(encrypted) = ebs.value.get("encrypted") else {
        out.report(
            class.doc,
            &ebs.key,
            format!("EBS volume {device} does not set `encrypted: true`: {unless}"),
        )
        .help(help);
        return;
    };
    match &encrypted.value {
        Value::Bool(true) => {}
        Value::Bool(false) => {
            out.report(
                class.doc,
                encrypted,
                format!("EBS volume {device} is `encrypted: false`"),
            )
            .help(help);
        }
        Value::Null => {
            out.report(
                class.doc,
                encrypted,
                format!("EBS volume {device} has an empty `encrypted`: {unless}"),
            )
            .help(help);
        }
        _ => {
            let shown = match &encrypted.value {
                Value::Str(text) => format!(" (`\"{text}\"`)"),
                _ => encrypted
                    .scalar_text()
                    .map(|t| format!(" (`{t}`)"))
                    .unwrap_or_default(),
            };
            out.report(
                class.doc,
                encrypted,
                format!(
                    "`encrypted` of EBS volume {device} is {} {}{shown}, not the boolean `true`: \
                     the API server rejects it",
                    article(encrypted.type_name()),
                    encrypted.type_name()
                ),
            )
            .help("write `encrypted: true`, without quotes");
        }
    }
}

/// `a` or `an` before a type name.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

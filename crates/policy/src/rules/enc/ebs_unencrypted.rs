use crate::fix::{Applicability, Change, NewValue, Quotes};
use crate::model::NodeClass;
use crate::model::storage::{Mapping, block_device_mappings, is_custom_family};
use crate::node::{Node, Value};
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
    /// ## Fix
    /// Safe: `eksgate check --fix` writes `encrypted: true` where it is `false`, where it is
    /// the quoted string `"true"`, and where it is missing from an `ebs` mapping (it adds the
    /// line). That is what Karpenter's own default volumes are: encrypted with the account's
    /// default EBS key (or `kmsKeyID` if set), and only new nodes get new volumes. When the
    /// account's default EBS key is a customer managed key, the node role needs to be allowed
    /// to use it, as for any encrypted volume. Mappings without `ebs` and `amiFamily: Custom`
    /// without mappings are left to you.
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
    pub EbsUnencrypted { id: "ENC001", name: "ebs-volume-unencrypted", severity: Error, fix: Safe }
}

impl Rule for EbsUnencrypted {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if !cx.policy.encryption.require_ebs_encryption {
            return;
        }
        for (class, spec) in cx.ec2_node_classes() {
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
        .help(help)
        .fix(
            Applicability::Safe,
            "set `encrypted: true`",
            Change::Insert {
                map: &ebs.value,
                path: vec!["encrypted".to_string()],
                value: NewValue::Bool(true),
            },
        );
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
            .help(help)
            .fix(
                Applicability::Safe,
                "set `encrypted: true`",
                to_true(encrypted),
            );
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
            let violation = out.report(
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
            if matches!(&encrypted.value, Value::Str(t) if t.eq_ignore_ascii_case("true")) {
                violation.fix(
                    Applicability::Safe,
                    "write `encrypted: true` without quotes",
                    to_true(encrypted),
                );
            }
        }
    }
}

/// `encrypted: true`, written plain in place of the value.
fn to_true(node: &Node) -> Change<'_> {
    Change::Replace {
        node,
        text: "true".to_string(),
        quotes: Quotes::Drop,
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

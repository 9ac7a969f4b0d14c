use crate::model::NodeClassFlavor;
use crate::model::storage::{block_device_mappings, default_devices, is_custom_family};
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// Node volumes are not encrypted with the customer-managed KMS key the policy requires.
    ///
    /// ## Why
    /// Encryption with a customer-managed KMS key (CMK) lets you control and audit who can
    /// decrypt node volumes, rotate or revoke the key, and meet compliance rules that the AWS
    /// managed `aws/ebs` key does not. This rule runs only when the policy says
    /// `encryption.requireKmsKey: true` (the default policy does not), and reports:
    ///
    /// - an EC2NodeClass `blockDeviceMappings[].ebs` without `kmsKeyID`: EC2 then uses the
    ///   account's default EBS key, the AWS managed key unless someone changed it;
    /// - an EC2NodeClass without `blockDeviceMappings`: Karpenter's default volumes are
    ///   encrypted, but name no key, so they get the account's default key too (with
    ///   `amiFamily: Custom` the volumes come from the AMI, with no key named either);
    /// - an EKS Auto Mode NodeClass without `spec.ephemeralStorage.kmsKeyID`: Auto Mode
    ///   always encrypts, with the AWS managed key unless this names a CMK (it covers the data
    ///   volume and the root volume).
    ///
    /// Whether a volume is encrypted at all is `ENC001`'s check, so a `kmsKeyID` whose `ebs`
    /// lacks `encrypted: true` (EC2 needs both to use the key) is reported here only when the
    /// policy turns `ENC001` off with `encryption.requireEbsEncryption: false`; otherwise
    /// `ENC001` already reports that volume.
    ///
    /// ## Example
    /// With a policy that requires a customer-managed key (a `kind: Policy` document in an
    /// example is the policy it runs with):
    /// ```yaml,fail
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: Policy
    /// metadata: {name: cmk}
    /// spec:
    ///   encryption: {requireEbsEncryption: true, requireKmsKey: true}
    /// ---
    /// apiVersion: eks.amazonaws.com/v1
    /// kind: NodeClass
    /// metadata:
    ///   name: private
    /// spec:
    ///   role: AmazonEKSAutoNodeRole
    ///   subnetSelectorTerms: [{tags: {kubernetes.io/role/internal-elb: "1"}}]
    ///   securityGroupSelectorTerms: [{id: sg-0123456789abcdef0}]
    ///   ephemeralStorage:
    ///     size: 80Gi
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: eksgate.dev/v1alpha1
    /// kind: Policy
    /// metadata: {name: cmk}
    /// spec:
    ///   encryption: {requireEbsEncryption: true, requireKmsKey: true}
    /// ---
    /// apiVersion: eks.amazonaws.com/v1
    /// kind: NodeClass
    /// metadata:
    ///   name: private
    /// spec:
    ///   role: AmazonEKSAutoNodeRole
    ///   subnetSelectorTerms: [{tags: {kubernetes.io/role/internal-elb: "1"}}]
    ///   securityGroupSelectorTerms: [{id: sg-0123456789abcdef0}]
    ///   ephemeralStorage:
    ///     size: 80Gi
    ///     kmsKeyID: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    /// ```
    pub KmsKeyMissing { id: "ENC002", name: "kms-key-missing", severity: Error }
}

/// A usable key reference: a non-empty string.
fn key_of(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_str).filter(|k| !k.trim().is_empty())
}

const KEY_HELP: &str = "the ARN of the customer-managed KMS key (a key ID, alias or alias ARN \
     works too); the key policy must let the node role or the Karpenter controller use it";

impl Rule for KmsKeyMissing {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let policy = &cx.policy.encryption;
        if !policy.require_kms_key {
            return;
        }
        for class in &cx.node_classes {
            if class.flavor != NodeClassFlavor::AutoMode {
                continue;
            }
            let key = class
                .spec
                .and_then(|s| s.path(&["ephemeralStorage", "kmsKeyID"]));
            if key_of(key).is_some() {
                continue;
            }
            let at = key.unwrap_or_else(|| class.anchor(&["ephemeralStorage", "kmsKeyID"]));
            out.report(
                class.doc,
                at,
                format!(
                    "NodeClass `{}` names no `ephemeralStorage.kmsKeyID`, so its volumes are \
                     encrypted with the AWS managed key, not a customer-managed key",
                    class.name
                ),
            )
            .help(format!(
                "set `spec.ephemeralStorage.kmsKeyID` to {KEY_HELP}"
            ));
        }
        for (class, spec) in cx.ec2_node_classes() {
            let Some(mappings) = block_device_mappings(spec) else {
                let why = if is_custom_family(spec) {
                    "its volumes come from the AMI (`amiFamily: Custom`) with no customer-managed key named"
                } else {
                    "Karpenter's default volumes use the account's default EBS key (the AWS managed \
                     `aws/ebs` key unless changed), not a named customer-managed key"
                };
                out.report(
                    class.doc,
                    class.anchor(&["blockDeviceMappings"]),
                    format!(
                        "EC2NodeClass `{}` sets no `blockDeviceMappings`: {why}",
                        class.name
                    ),
                )
                .help(format!(
                    "add `blockDeviceMappings` for {} with `ebs: {{volumeSize: 20Gi, volumeType: \
                     gp3, encrypted: true, kmsKeyID: <key ARN>}}`; `kmsKeyID` is {KEY_HELP}",
                    default_devices(spec)
                ));
                continue;
            };
            for mapping in mappings {
                let device = &mapping.device;
                let Some(ebs) = mapping.ebs else {
                    out.report(
                        class.doc,
                        mapping.anchor(),
                        format!(
                            "block device mapping {device} has no `ebs` settings, so it names no `kmsKeyID`"
                        ),
                    )
                    .help(format!(
                        "give the mapping `ebs: {{encrypted: true, kmsKeyID: <key ARN>, ...}}`; \
                         `kmsKeyID` is {KEY_HELP}"
                    ));
                    continue;
                };
                let key = ebs.value.get("kmsKeyID");
                let encrypted = ebs.value.get("encrypted").and_then(Node::as_bool);
                if key_of(key).is_none() {
                    let how = if encrypted == Some(true) {
                        "it is encrypted"
                    } else {
                        "if it is encrypted at all, it is"
                    };
                    out.report(
                        class.doc,
                        key.unwrap_or(&ebs.key),
                        format!(
                            "EBS volume {device} names no `kmsKeyID`: {how} with the account's \
                             default EBS key, not a customer-managed key"
                        ),
                    )
                    .help(format!(
                        "set `kmsKeyID` in the mapping's `ebs` to {KEY_HELP}"
                    ));
                    continue;
                }
                if encrypted != Some(true)
                    && !policy.require_ebs_encryption
                    && let Some(key) = key
                {
                    out.report(
                        class.doc,
                        key,
                        format!(
                            "EBS volume {device} names a `kmsKeyID` but is not `encrypted: true`: \
                             EC2 uses the key only for encrypted volumes"
                        ),
                    )
                    .help("set `encrypted: true` next to `kmsKeyID`");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use crate::{CheckOptions, Input, Policy, SourceFile, check};

    const CLASS: &str = "apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: apps}
spec:
  role: KarpenterNodeRole-demo
  amiSelectorTerms: [{alias: al2023@v20240807}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs: {volumeSize: 20Gi, kmsKeyID: alias/eks-nodes}
";

    fn findings(require_ebs_encryption: bool) -> Vec<(&'static str, String)> {
        let policy = format!(
            "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  encryption: \
             {{requireEbsEncryption: {require_ebs_encryption}, requireKmsKey: true}}\n"
        );
        let policy = Policy::from_source(&SourceFile::new("policy.yaml", policy)).unwrap();
        check(
            vec![Input::text("class.yaml", CLASS)],
            &policy,
            &CheckOptions::default(),
        )
        .diagnostics
        .into_iter()
        .filter(|d| d.rule.starts_with("ENC"))
        .map(|d| {
            (
                crate::rules::find(&d.rule).map_or("", |r| r.meta().id),
                d.message,
            )
        })
        .collect()
    }

    #[test]
    fn key_without_encrypted_is_enc001s_finding_when_enc001_runs() {
        let found = findings(true);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "ENC001");
    }

    #[test]
    fn key_without_encrypted_is_reported_here_when_enc001_is_off() {
        let found = findings(false);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "ENC002");
        assert!(found[0].1.contains("not `encrypted: true`"), "{found:?}");
    }
}

//! What a schema finding probably means: readable names for the patterns the Karpenter and
//! Auto Mode schemas use, fields that Karpenter v1 moved, and the closest known field name.

/// A readable description of a pattern, for the ones Karpenter and EKS Auto Mode schemas use.
/// Keyed by the pattern text, so CRD-loaded schemas get the same words as the built-in ones.
pub(crate) fn pattern_hint(pattern: &str) -> Option<&'static str> {
    const VOLUME_SIZE: &str = r"^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$";
    const QUANTITY: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";
    const EVICTION: &str = r"^((\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)%||(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?)$";
    const QUALIFIED_NAME: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";
    const LABEL_VALUE: &str = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
    const CONDITION_TYPE: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";
    Some(match pattern {
        VOLUME_SIZE => {
            "a size such as `20Gi`: 1-59000 `Gi`, 1-64000 `G`, 1-58 `Ti` or 1-64 `T` (no `GB` or `GiB`)"
        }
        QUANTITY => "a quantity such as `1000`, `1.5`, `250m` or `512Mi`",
        EVICTION => "a percentage such as `10%` or a quantity such as `100Mi`",
        QUALIFIED_NAME | CONDITION_TYPE => {
            "a name such as `example.com/node-role`: an optional DNS prefix and `/`, then letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        }
        LABEL_VALUE => {
            "a label value: letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        }
        r"^(([0-9]+(s|m|h))+|Never)$" => "a duration such as `720h`, `30m` or `1h30m`, or `Never`",
        r"^([0-9]+(s|m|h))+$" => "a duration such as `48h`, `30m` or `1h30m`",
        r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$" => {
            "a duration in hours and minutes such as `8h`, `30m` or `1h30m`"
        }
        r"^((100|[0-9]{1,2})%|[0-9]+)$" => {
            "a number of nodes such as `5`, or a percentage such as `10%` (written as a string)"
        }
        r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$" => {
            "a cron schedule with five fields such as `0 9 * * mon-fri`, or a macro such as `@daily`"
        }
        "ami-[0-9a-z]+" => "an AMI ID such as `ami-0123456789abcdef0`",
        "sg-[0-9a-z]+" => "a security group ID such as `sg-0123456789abcdef0`",
        "subnet-[0-9a-z]+" => "a subnet ID such as `subnet-0123456789abcdef0`",
        "^cr-[0-9a-z]+$" => "a capacity reservation ID such as `cr-0123456789abcdef0`",
        "^pg-[0-9a-z]+$" => "a placement group ID such as `pg-0123456789abcdef0`",
        "^[0-9]{12}$" => "a 12-digit AWS account ID",
        "^[^/]*$" => "an API group without a version, such as `karpenter.k8s.aws` (no `/`)",
        _ => return None,
    })
}

/// Where Karpenter v1 (or EKS Auto Mode) put a field that this kind does not have at `parent`
/// (a dotted path from the object root), for the fields users carry over from older versions
/// or the other flavour.
pub(crate) fn moved_field(
    group: &str,
    kind: &str,
    parent: &str,
    key: &str,
) -> Option<(&'static str, &'static str)> {
    // (explanation for the message, what to do)
    Some(match (group, kind, parent, key) {
        ("karpenter.sh", "NodePool", "spec.template.spec", "kubelet") => (
            "Karpenter v1 moved `kubelet` to the EC2NodeClass (`spec.kubelet`)",
            "move these settings to `spec.kubelet` of the EC2NodeClass this pool's `nodeClassRef` names",
        ),
        ("karpenter.sh", "NodePool", "spec.disruption", "expireAfter") => (
            "Karpenter v1 moved `expireAfter` to `spec.template.spec.expireAfter`",
            "move it to `spec.template.spec.expireAfter`",
        ),
        ("karpenter.sh", "NodePool", "spec.template.spec.nodeClassRef", "apiVersion") => (
            "Karpenter v1 replaced `nodeClassRef.apiVersion` with `group`, which has no version",
            "remove `apiVersion`; `group: karpenter.k8s.aws` (or `eks.amazonaws.com` for EKS Auto Mode) and `kind` say the same",
        ),
        ("karpenter.sh", "NodePool", "spec.template.spec", "resources") => (
            "Karpenter v1 removed `resources` from the NodePool template",
            "remove it; Karpenter sizes nodes from the pods it schedules",
        ),
        ("karpenter.sh", "NodePool", "spec", "providerRef") => (
            "the v1alpha5 `providerRef` is `spec.template.spec.nodeClassRef` in v1",
            "write `spec.template.spec.nodeClassRef` with `group`, `kind` and `name`",
        ),
        ("karpenter.sh", "NodePool", "spec", "ttlSecondsAfterEmpty") => (
            "the v1alpha5 `ttlSecondsAfterEmpty` is `spec.disruption` in v1",
            "write `spec.disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: 30s}`",
        ),
        ("karpenter.sh", "NodePool", "spec", "ttlSecondsUntilExpired") => (
            "the v1alpha5 `ttlSecondsUntilExpired` is `spec.template.spec.expireAfter` in v1",
            "write `spec.template.spec.expireAfter` as a duration such as `720h`",
        ),
        ("karpenter.sh", "NodePool", "spec", "consolidation") => (
            "the v1alpha5 `consolidation` is `spec.disruption.consolidationPolicy` in v1",
            "write `spec.disruption.consolidationPolicy: WhenEmptyOrUnderutilized`",
        ),
        ("karpenter.sh", "NodePool", "spec", "kubeletConfiguration") => (
            "the v1alpha5 `kubeletConfiguration` is the EC2NodeClass `spec.kubelet` in v1",
            "move these settings to `spec.kubelet` of the EC2NodeClass",
        ),
        ("karpenter.sh", "NodePool", "spec", "provider") => (
            "the v1alpha5 inline `provider` is an EC2NodeClass in v1",
            "write an EC2NodeClass and reference it from `spec.template.spec.nodeClassRef`",
        ),
        ("eks.amazonaws.com", "NodeClass", "spec", "amiSelectorTerms" | "amiFamily") => (
            "EKS Auto Mode chooses the AMI itself; a NodeClass has no AMI settings",
            "remove it (use a Karpenter EC2NodeClass if you need your own AMI)",
        ),
        ("eks.amazonaws.com", "NodeClass", "spec", "blockDeviceMappings") => (
            "EKS Auto Mode sizes node storage with `ephemeralStorage`",
            "write `ephemeralStorage: {size: 80Gi, iops: 3000, throughput: 125}` (and `kmsKeyID` for a customer-managed key)",
        ),
        ("eks.amazonaws.com", "NodeClass", "spec", "metadataOptions") => (
            "EKS Auto Mode enforces IMDSv2 itself; a NodeClass has no `metadataOptions`",
            "remove it",
        ),
        ("eks.amazonaws.com", "NodeClass", "spec", "kubelet" | "userData") => (
            "EKS Auto Mode manages the node's kubelet and boot configuration; a NodeClass cannot set it",
            "remove it (use a Karpenter EC2NodeClass if you need it)",
        ),
        ("karpenter.k8s.aws", "EC2NodeClass", "spec", "ephemeralStorage") => (
            "`ephemeralStorage` is an EKS Auto Mode NodeClass field; an EC2NodeClass sizes volumes with `blockDeviceMappings`",
            "write `blockDeviceMappings` with an `ebs.volumeSize`, or use `apiVersion: eks.amazonaws.com/v1`, `kind: NodeClass`",
        ),
        _ => return None,
    })
}

/// Why an enum value is wrong when it is a value an older Karpenter accepted: (explanation,
/// what to do).
pub(crate) fn old_enum_value(
    group: &str,
    kind: &str,
    path: &str,
    value: &str,
) -> Option<(&'static str, &'static str)> {
    Some(match (group, kind, path, value) {
        (
            "karpenter.sh",
            "NodePool",
            "spec.disruption.consolidationPolicy",
            "WhenUnderutilized",
        ) => (
            "Karpenter v1 renamed it `WhenEmptyOrUnderutilized`",
            "use `WhenEmptyOrUnderutilized` (and set `consolidateAfter`, `0s` for the v1beta1 behaviour)",
        ),
        ("karpenter.k8s.aws", "EC2NodeClass", "spec.amiFamily", "Ubuntu") => (
            "Karpenter v1 dropped the `Ubuntu` family",
            "use `amiFamily: Custom` with `amiSelectorTerms` that select your Ubuntu AMI, and your own `userData`",
        ),
        _ => return None,
    })
}

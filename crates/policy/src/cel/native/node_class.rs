//! EC2NodeClass (`karpenter.k8s.aws/v1`) and the EKS Auto Mode NodeClass: identity, AMI
//! selection, volumes, kubelet, network interfaces and tags.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn ec2_node_class(&mut self, spec: &'a Node, spec_at: &'a Node, tags: SpecTags) {
        if has(spec, "role") == has(spec, "instanceProfile") {
            let message = if has(spec, "role") {
                "EC2NodeClass sets both `role` and `instanceProfile`"
            } else {
                "EC2NodeClass sets neither `role` nor `instanceProfile`"
            };
            self.hit(
                "role-xor-instance-profile",
                spec_at,
                message.to_string(),
                "set exactly one: `role` (Karpenter manages an instance profile for it) or `instanceProfile` (one you manage) (the API server answers `must specify exactly one of ['role', 'instanceProfile']`)",
            );
        }
        for field in ["role", "instanceProfile"] {
            self.identity_empty(spec, field);
        }
        let terms = prop(spec, "amiSelectorTerms").map(|(t, a)| (t.items(), a));
        if let Some((terms, terms_at)) = terms {
            let alias_families: Vec<&str> = terms
                .iter()
                .filter_map(|t| str_of(t, "alias"))
                .map(|a| a.split('@').next().unwrap_or(""))
                .collect();
            // NC-02..07: `alias.find('^[^@]+')` is the text before the first `@`.
            if let Some(family) = str_of(spec, "amiFamily") {
                for (alias, expected) in AMI_FAMILIES {
                    if alias_families.contains(alias) && family != "Custom" && family != *expected {
                        self.hit(
                            "ami-family-matches-alias",
                            spec_at,
                            format!("`amiFamily: {family}` does not match the `{alias}@...` alias in `amiSelectorTerms`"),
                            &format!("remove `amiFamily` (the alias implies `{expected}`), or set it to `{expected}` or `Custom` (the API server answers `if set, amiFamily must be '{expected}' or 'Custom' when using {} {expected} alias`)", if expected.starts_with("AL") { "an" } else { "a" }),
                        );
                    }
                }
            }
            let any_alias = terms.iter().any(|t| has(t, "alias"));
            if !any_alias && !has(spec, "amiFamily") {
                self.hit(
                    "ami-family-required",
                    spec_at,
                    "`amiFamily` is required when no `amiSelectorTerms` entry uses an `alias`".to_string(),
                    "set `amiFamily` (`AL2023`, `Bottlerocket`, ... or `Custom` for your own bootstrap), or select the AMI with an alias such as `alias: al2023@v20240807` (the API server answers `must specify amiFamily if amiSelectorTerms does not contain an alias`)",
                );
            }
            for term in terms {
                if !["tags", "id", "name", "alias", "ssmParameter"]
                    .iter()
                    .any(|f| has(term, f))
                {
                    self.empty_term(
                        term,
                        "amiSelectorTerms",
                        "`tags`, `id`, `name`, `alias` or `ssmParameter`",
                    );
                }
                let others = |except: &str| -> Vec<&'static str> {
                    ["alias", "id", "tags", "name", "owner"]
                        .into_iter()
                        .filter(|f| *f != except && has(term, f))
                        .collect()
                };
                if has(term, "id") && !others("id").is_empty() {
                    self.hit(
                        "ami-term-id-exclusive",
                        term,
                        format!("an `amiSelectorTerms` entry with `id` also sets {}", list(&others("id"))),
                        "an `id` selects exactly one AMI: put it in a term of its own (the API server answers `'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms`)",
                    );
                }
                if has(term, "alias") && !others("alias").is_empty() {
                    self.hit(
                        "ami-term-alias-exclusive",
                        term,
                        format!("an `amiSelectorTerms` entry with `alias` also sets {}", list(&others("alias"))),
                        "an `alias` selects Karpenter's own AMI: give it alone (the API server answers `'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms`)",
                    );
                }
                if let Some((alias_node, at)) = prop(term, "alias")
                    && let Some(alias) = alias_node.as_str()
                {
                    self.alias(alias, at);
                }
                self.selector_tags(term);
            }
            if any_alias && terms.len() != 1 {
                self.hit(
                    "ami-alias-alone",
                    terms_at,
                    format!("`amiSelectorTerms` has an `alias` term and {} other term(s)", terms.len().saturating_sub(1)),
                    "an `alias` must be the only AMI selector term: remove the others, or replace the alias with `name`/`tags`/`id` terms and set `amiFamily` (the API server answers `'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms`)",
                );
            }
        }
        if let Some((mappings, mappings_at)) = prop(spec, "blockDeviceMappings") {
            let roots = mappings
                .items()
                .iter()
                .filter(|m| prop(m, "rootVolume").and_then(|(v, _)| v.as_bool()) == Some(true))
                .count();
            if roots > 1 {
                self.hit(
                    "root-volume-unique",
                    mappings_at,
                    format!("{roots} `blockDeviceMappings` are marked `rootVolume: true`"),
                    "mark only the device the kubelet's root directory lives on (the API server answers `must have only one blockDeviceMappings with rootVolume`)",
                );
            }
            for mapping in mappings.items() {
                let Some((ebs, ebs_at)) = prop(mapping, "ebs") else {
                    continue;
                };
                if !has(ebs, "snapshotID") && !has(ebs, "volumeSize") {
                    self.hit(
                        "ebs-volume-source",
                        ebs_at,
                        "EBS volume has neither `volumeSize` nor `snapshotID`".to_string(),
                        "set `volumeSize` (e.g. `volumeSize: 100Gi`) or create the volume from a `snapshotID` (the API server answers `snapshotID or volumeSize must be defined`)",
                    );
                }
                if has(ebs, "volumeInitializationRate")
                    && str_of(ebs, "snapshotID").is_none_or(str::is_empty)
                {
                    self.hit(
                        "ebs-initialization-rate-snapshot",
                        ebs_at,
                        "`volumeInitializationRate` is set without a `snapshotID`".to_string(),
                        "the rate only applies to volumes created from a snapshot: set `snapshotID` or remove `volumeInitializationRate` (the API server answers `snapshotID must be set when volumeInitializationRate is set`)",
                    );
                }
            }
        }
        if let Some((terms, terms_at)) = prop(spec, "capacityReservationSelectorTerms") {
            for term in terms.items() {
                if !["tags", "id", "instanceMatchCriteria"]
                    .iter()
                    .any(|f| has(term, f))
                {
                    self.empty_term(
                        term,
                        "capacityReservationSelectorTerms",
                        "`tags`, `id` or `instanceMatchCriteria`",
                    );
                }
                self.selector_tags(term);
            }
            self.every_term_mixes(
                terms,
                terms_at,
                "capacityReservationSelectorTerms",
                "id",
                &["tags", "ownerID", "instanceMatchCriteria"],
                "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term",
            );
        }
        if let Some((tracking, at)) = prop(spec, "connectionTracking")
            && !["tcpEstablishedTimeout", "udpStreamTimeout", "udpTimeout"]
                .iter()
                .any(|f| has(tracking, f))
        {
            self.hit(
                "connection-tracking-empty",
                at,
                "`connectionTracking` sets no timeout".to_string(),
                "set at least one of `tcpEstablishedTimeout`, `udpStreamTimeout`, `udpTimeout`, or remove `connectionTracking` (the API server answers `at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set`)",
            );
        }
        if let Some((kubelet, kubelet_at)) = prop(spec, "kubelet") {
            self.kubelet(kubelet, kubelet_at);
        }
        if let Some((interfaces, at)) = prop(spec, "networkInterfaces") {
            self.network_interfaces(interfaces, at);
        }
        if let Some((selector, at)) = prop(spec, "placementGroupSelector") {
            match (has(selector, "name"), has(selector, "id")) {
                (false, false) => self.hit(
                    "placement-group-selector",
                    at,
                    "`placementGroupSelector` sets neither `name` nor `id`".to_string(),
                    "set the placement group's `name` or its `id` (the API server answers `expected at least one, got none, ['name', 'id']`)",
                ),
                (true, true) => self.hit(
                    "placement-group-selector",
                    at,
                    "`placementGroupSelector` sets both `name` and `id`".to_string(),
                    "keep one of them (the API server answers `'name' and 'id' are mutually exclusive`)",
                ),
                _ => {}
            }
        }
        self.security_groups_and_subnets(spec, "securityGroupSelectorTerms", "subnetSelectorTerms");
        self.spec_tags(spec, tags, RESTRICTED_TAGS_EC2);
    }

    pub(super) fn auto_mode_node_class(&mut self, spec: &'a Node, tags: SpecTags) {
        self.identity_empty(spec, "role");
        self.security_groups_and_subnets(spec, "securityGroupSelectorTerms", "subnetSelectorTerms");
        self.spec_tags(spec, tags, RESTRICTED_TAGS_AUTO_MODE);
    }

    pub(super) fn alias(&mut self, alias: &str, at: &'a Node) {
        let well_formed = alias.split_once('@').is_some_and(|(family, version)| {
            !family.is_empty()
                && family.chars().all(|c| c.is_ascii_alphanumeric())
                && !version.is_empty()
                && !version.contains('\n')
        });
        if !well_formed {
            self.hit(
                "ami-alias-format",
                at,
                format!("AMI alias `{alias}` is not of the form `family@version`"),
                "write e.g. `al2023@v20240807` or `bottlerocket@latest` (the API server answers `'alias' is improperly formatted, must match the format 'family@version'`)",
            );
        }
        let mut parts = alias.split('@');
        let family = parts.next().unwrap_or("");
        if !AMI_FAMILIES.iter().any(|(a, _)| *a == family) {
            self.hit(
                "ami-alias-family",
                at,
                format!("AMI alias family `{family}` is not supported"),
                "use one of `al2`, `al2023`, `bottlerocket`, `windows2019`, `windows2022`, `windows2025`; for other AMIs use `name`/`tags`/`id` terms with `amiFamily: Custom` (the API server answers `family is not supported, ...`)",
            );
        }
        if family.starts_with("windows")
            && AMI_FAMILIES.iter().any(|(a, _)| *a == family)
            && let Some(version) = parts.next()
            && version != "latest"
        {
            self.hit(
                "ami-alias-windows-latest",
                at,
                format!("Windows AMI alias `{alias}` pins a version"),
                &format!("Windows aliases only support `latest`: write `{family}@latest` (the API server answers `windows families may only specify version 'latest'`)"),
            );
        }
    }

    pub(super) fn kubelet(&mut self, kubelet: &'a Node, at: &'a Node) {
        if let (Some(high), Some(low)) = (
            prop(kubelet, "imageGCHighThresholdPercent").and_then(|(v, _)| v.as_i64()),
            prop(kubelet, "imageGCLowThresholdPercent").and_then(|(v, _)| v.as_i64()),
        ) && high <= low
        {
            self.hit(
                "kubelet-image-gc-thresholds",
                at,
                format!("`imageGCHighThresholdPercent` ({high}) is not above `imageGCLowThresholdPercent` ({low})"),
                "image garbage collection runs from the high threshold down to the low one: make high greater than low (the API server answers `imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent`)",
            );
        }
        let keys = |field: &str| -> Option<Vec<String>> {
            prop(kubelet, field).map(|(m, _)| {
                m.entries()
                    .iter()
                    .filter(|e| !e.value.is_null())
                    .filter_map(|e| e.key.scalar_text())
                    .collect()
            })
        };
        let soft = keys("evictionSoft");
        let grace = keys("evictionSoftGracePeriod");
        for (from, to, other) in [
            (&soft, &grace, "evictionSoftGracePeriod"),
            (&grace, &soft, "evictionSoft"),
        ] {
            if let Some(from) = from {
                let unmatched: Vec<&String> = from
                    .iter()
                    .filter(|k| to.as_ref().is_none_or(|to| !to.contains(k)))
                    .collect();
                if let Some(first) = unmatched.first() {
                    let this = if other == "evictionSoft" {
                        "evictionSoftGracePeriod"
                    } else {
                        "evictionSoft"
                    };
                    self.hit(
                        "kubelet-eviction-soft-pairs",
                        at,
                        format!("`{this}` sets `{first}` but `{other}` does not"),
                        "every soft eviction signal needs both a threshold (`evictionSoft`) and a grace period (`evictionSoftGracePeriod`) (the API server answers `evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod`)",
                    );
                }
            }
        }
        for field in ["evictionHard", "evictionSoft", "evictionSoftGracePeriod"] {
            let Some((map, _)) = prop(kubelet, field) else {
                continue;
            };
            for entry in map.entries() {
                let key = entry.key.scalar_text().unwrap_or_default();
                if entry.value.is_null() || EVICTION_SIGNALS.contains(&key.as_str()) {
                    continue;
                }
                self.hit(
                    "kubelet-eviction-keys",
                    &entry.key,
                    format!("`{key}` is not an eviction signal `{field}` accepts"),
                    &format!(
                        "use one of {} (the API server answers `valid keys for {field} are [...]`)",
                        list(EVICTION_SIGNALS)
                    ),
                );
            }
        }
        for field in ["kubeReserved", "systemReserved"] {
            let Some((map, _)) = prop(kubelet, field) else {
                continue;
            };
            for entry in map.entries() {
                if entry.value.is_null() {
                    continue;
                }
                let key = entry.key.scalar_text().unwrap_or_default();
                if !RESERVED_RESOURCES.contains(&key.as_str()) {
                    self.hit(
                        "kubelet-reserved-keys",
                        &entry.key,
                        format!("`{field}` cannot reserve `{key}`"),
                        &format!("reserve one of {} (the API server answers `valid keys for {field} are ['cpu','memory','ephemeral-storage','pid']`)", list(RESERVED_RESOURCES)),
                    );
                }
                if entry.value.as_str().is_some_and(|v| v.starts_with('-')) {
                    self.hit(
                        "kubelet-reserved-negative",
                        &entry.key,
                        format!("`{field}.{key}` is negative"),
                        &format!("reserve a positive quantity (the API server answers `{field} value cannot be a negative resource quantity`)"),
                    );
                }
            }
        }
    }

    pub(super) fn network_interfaces(&mut self, interfaces: &'a Node, at: &'a Node) {
        let items = interfaces.items();
        let field = |n: &Node, k: &str| prop(n, k).map(|(v, _)| v.value.clone());
        let int = |n: &Node, k: &str| {
            field(n, k).and_then(|v| if let Value::Int(i) = v { Some(i) } else { None })
        };
        let complete = items.iter().all(|i| {
            int(i, "deviceIndex").is_some()
                && int(i, "networkCardIndex").is_some()
                && str_of(i, "interfaceType").is_some()
        });
        if !complete {
            return; // a missing required field: SCH001's finding, and the rule cannot run
        }
        if !items.is_empty()
            && !items.iter().any(|i| {
                int(i, "deviceIndex") == Some(0)
                    && int(i, "networkCardIndex") == Some(0)
                    && str_of(i, "interfaceType") == Some("interface")
            })
        {
            self.hit(
                "network-interfaces-primary",
                at,
                "`networkInterfaces` has no primary interface".to_string(),
                "add `{networkCardIndex: 0, deviceIndex: 0, interfaceType: interface}` (the API server answers `networkInterfaces must include a primary interface with interfaceType='interface'`)",
            );
        }
        for item in items {
            let card = int(item, "networkCardIndex");
            let device = int(item, "deviceIndex");
            let same_slot = items
                .iter()
                .filter(|y| int(y, "networkCardIndex") == card && int(y, "deviceIndex") == device)
                .count();
            let efa_on_card = items
                .iter()
                .filter(|y| {
                    int(y, "networkCardIndex") == card
                        && str_of(y, "interfaceType") == Some("efa-only")
                })
                .count();
            let efa = str_of(item, "interfaceType") == Some("efa-only");
            if same_slot != 1 || (efa && efa_on_card != 1) {
                let message = if same_slot != 1 {
                    format!(
                        "network card {} device {} is used by more than one interface",
                        card.unwrap_or_default(),
                        device.unwrap_or_default()
                    )
                } else {
                    format!(
                        "network card {} has more than one `efa-only` interface",
                        card.unwrap_or_default()
                    )
                };
                self.hit(
                    "network-interfaces-unique",
                    item,
                    message,
                    "give each interface its own `networkCardIndex`/`deviceIndex` pair, with at most one `efa-only` interface per card (the API server answers `networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card`)",
                );
            }
        }
    }
}

/// `(key, prefix match)` the EC2NodeClass v1 CRD rejects in `spec.tags` (NC-50..54).
const RESTRICTED_TAGS_EC2: &[(&str, bool)] = &[
    ("eks:eks-cluster-name", false),
    ("kubernetes.io/cluster", true),
    ("karpenter.sh/nodepool", false),
    ("karpenter.sh/nodeclaim", false),
    ("karpenter.k8s.aws/ec2nodeclass", false),
];

/// The same for the EKS Auto Mode NodeClass (AM-13..18).
const RESTRICTED_TAGS_AUTO_MODE: &[(&str, bool)] = &[
    ("kubernetes.io/cluster", true),
    ("karpenter.sh/provisioner-name", false),
    ("karpenter.sh/nodepool", false),
    ("karpenter.sh/nodeclaim", false),
    ("karpenter.sh/managed-by", false),
    ("eks.amazonaws.com/nodeclass", false),
];

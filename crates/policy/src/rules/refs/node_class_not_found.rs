use crate::rules::refs::node_class_ref_mismatch::{AUTO_MODE_GROUP, ref_group};
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// A nodeClassRef names a node class that is not in the checked set.
    ///
    /// ## Why
    /// A NodePool whose node class does not exist never launches a node: Karpenter marks it
    /// `NodeClassReady=False` and pods wait in Pending, with nothing said at apply time. A typo
    /// in `nodeClassRef.name`, a renamed EC2NodeClass, or a node class left out of the
    /// deployment are the usual causes. This is reported only when the checked files contain at
    /// least one node class (checking a lone NodePool says nothing about what exists), and never
    /// for EKS Auto Mode's built-in NodeClass `default` (`group: eks.amazonaws.com`), which AWS
    /// provides. The help names the closest existing node class.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: aps}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: apps
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements: []
    /// ---
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: apps
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    /// ```
    pub NodeClassNotFound { id: "REF001", name: "node-class-not-found", severity: Warning }
}

impl Rule for NodeClassNotFound {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        if cx.node_classes.is_empty() {
            return;
        }
        for pool in &cx.node_pools {
            let Some(reference) = pool.node_class_ref.as_ref() else {
                continue;
            };
            let (Some(name_node), Some(name)) = (reference.name, reference.name()) else {
                continue;
            };
            // An empty name is rejected by the API server before any lookup.
            if name.is_empty() {
                continue;
            }
            let auto_mode = match ref_group(reference) {
                Some((group, _)) => group == AUTO_MODE_GROUP,
                None => reference.kind() == Some("NodeClass"),
            };
            if auto_mode && name == "default" {
                continue;
            }
            // A class of that name but the other kind is REF002's finding.
            if cx.node_classes.iter().any(|nc| nc.name == name) {
                continue;
            }
            let kind = reference.kind().unwrap_or("EC2NodeClass");
            let same_kind: Vec<&str> = cx
                .node_classes
                .iter()
                .filter(|nc| nc.kind() == kind)
                .map(|nc| nc.name)
                .collect();
            let names: Vec<&str> = if same_kind.is_empty() {
                cx.node_classes.iter().map(|nc| nc.name).collect()
            } else {
                same_kind
            };
            let help = match closest(name, &names) {
                Some(near) => format!(
                    "did you mean `{near}`? Otherwise add the {kind} `{name}` to the checked files, or Karpenter launches no node for this pool"
                ),
                None => format!(
                    "node classes in the checked files: `{}`; point `nodeClassRef.name` at one of them or add the {kind} `{name}`",
                    names.join("`, `")
                ),
            };
            out.report(
                pool.doc,
                name_node,
                format!(
                    "NodePool `{}` references {kind} `{name}`, which is not in the checked files",
                    pool.name
                ),
            )
            .help(help);
        }
    }
}

/// The candidate nearest to `name`, if it is near enough to be a typo of it.
fn closest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let (distance, best) = candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .min_by_key(|(d, c)| (*d, *c))?;
    let longest = name.chars().count().max(best.chars().count());
    // Up to a third of the longer name may differ (at least one edit), as rustc suggests names.
    (distance <= (longest / 3).max(1)).then_some(best)
}

/// Levenshtein distance in characters.
///
/// One row, updated in place: `closest` runs this for every node class against every
/// dangling reference, so it allocates twice per call rather than once per character.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // Distances from the first i characters of `a` to each prefix of `b`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        // The previous row's value one column left (`diagonal`), and this row's (`left`).
        let mut diagonal = i;
        let mut left = i + 1;
        for (cb, cell) in b.iter().zip(row.iter_mut().skip(1)) {
            let above = *cell;
            left = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(left + 1);
            diagonal = above;
            *cell = left;
        }
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("infra", "infra"), 0);
        assert_eq!(edit_distance("aps", "apps"), 1);
        assert_eq!(edit_distance("ünï", "uni"), 2);
    }

    /// The textbook two-row form, to check the in-place one against.
    fn reference_distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut row = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
                let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
                let insert = row.last().copied().unwrap_or(0) + 1;
                row.push(substitute.min(delete).min(insert));
            }
            previous = row;
        }
        previous.last().copied().unwrap_or(0)
    }

    #[test]
    fn distances_match_the_reference() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "infra",
            "infrastructure",
            "client-acme",
            "client-acme-v2",
            "client-bcme",
            "cleint-acme",
            "ünï",
            "uni",
            "aaaa",
            "bbbb",
        ];
        for a in words {
            for b in words {
                assert_eq!(edit_distance(a, b), reference_distance(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn closest_needs_a_near_name() {
        assert_eq!(closest("aps", &["apps", "infra"]), Some("apps"));
        assert_eq!(closest("infra-nodes", &["infra", "apps"]), None);
        assert_eq!(closest("infrastructure", &["infra"]), None);
        assert_eq!(
            closest("client-acme", &["client-acme-v2", "client-bcme"]),
            Some("client-bcme")
        );
        assert_eq!(closest("x", &[]), None);
    }
}

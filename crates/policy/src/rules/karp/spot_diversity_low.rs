use std::collections::BTreeSet;

use crate::model::scheduling::normalize_label;
use crate::model::{NodePool, Requirement};
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A spot NodePool allows too few instance types for reliable spot capacity.
    ///
    /// ## Why
    /// Spot capacity comes in pools, one per instance type and Availability Zone, and any pool
    /// can run dry or be reclaimed. AWS's spot guidance is to be flexible across at least 10
    /// instance types per workload, so that EC2's price-capacity-optimized allocation can move
    /// to a pool with spare capacity; Karpenter's spot-to-spot consolidation (feature gate
    /// `SpotToSpotConsolidation`) replaces a single spot node only when at least 15 instance
    /// types are possible, so that it does not race to the cheapest, most interrupted type.
    /// A spot pool pinned to a handful of types sees more interruptions, more
    /// `InsufficientInstanceCapacity` launch failures and pods that stay Pending.
    ///
    /// The rule checks NodePools whose capacity types include `spot` (Karpenter launches
    /// on-demand when no requirement names `karpenter.sh/capacity-type`), and counts the
    /// instance types their requirements can allow when that count is certain: a
    /// `node.kubernetes.io/instance-type In [...]` list, or `instance-family In [...]` together
    /// with `instance-size In [...]` (`karpenter.k8s.aws/` or, for EKS Auto Mode,
    /// `eks.amazonaws.com/` keys), less what `NotIn` requirements exclude. Fewer than the
    /// policy's `spot.minInstanceTypes` (default 10) is reported. Broad requirements (category,
    /// generation, CPU or memory ranges) or none at all leave the pool flexible and are not
    /// reported.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps-spot
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements:
    ///         - key: karpenter.sh/capacity-type
    ///           operator: In
    ///           values: ["spot"]
    ///         - key: node.kubernetes.io/instance-type
    ///           operator: In
    ///           values: ["m5.large", "m5.xlarge", "c5.xlarge"]
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps-spot
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements:
    ///         - key: karpenter.sh/capacity-type
    ///           operator: In
    ///           values: ["spot"]
    ///         - key: karpenter.k8s.aws/instance-category
    ///           operator: In
    ///           values: ["c", "m", "r"]
    ///         - key: karpenter.k8s.aws/instance-generation
    ///           operator: Gt
    ///           values: ["4"]
    /// ```
    pub SpotDiversityLow { id: "KARP001", name: "spot-diversity-low", severity: Warning }
}

const INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Type,
    Family,
    Size,
}

fn dimension(key: &str) -> Option<Dimension> {
    match normalize_label(key) {
        INSTANCE_TYPE => Some(Dimension::Type),
        "karpenter.k8s.aws/instance-family" | "eks.amazonaws.com/instance-family" => {
            Some(Dimension::Family)
        }
        "karpenter.k8s.aws/instance-size" | "eks.amazonaws.com/instance-size" => {
            Some(Dimension::Size)
        }
        _ => None,
    }
}

/// What the requirements on one dimension allow: `In` lists (intersected) and `NotIn` lists.
#[derive(Default)]
struct Allowed<'r, 'a> {
    only: Option<BTreeSet<String>>,
    except: BTreeSet<String>,
    /// The first `In` requirement: where to point.
    first_in: Option<&'r Requirement<'a>>,
}

impl<'r, 'a> Allowed<'r, 'a> {
    fn add(&mut self, req: &'r Requirement<'a>) {
        let values: BTreeSet<String> = req.values.iter().cloned().collect();
        match req.operator {
            "In" => {
                self.only = Some(match self.only.take() {
                    Some(only) => only.intersection(&values).cloned().collect(),
                    None => values,
                });
                self.first_in.get_or_insert(req);
            }
            "NotIn" => self.except.extend(values),
            _ => {}
        }
    }

    fn allows(&self, value: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(value)) && !self.except.contains(value)
    }

    /// The allowed values, when an `In` list bounds them.
    fn bounded(&self) -> Option<BTreeSet<String>> {
        self.only
            .as_ref()
            .map(|o| o.difference(&self.except).cloned().collect())
    }
}

/// The most instance types a pool's requirements allow, when that number is certain:
/// `(count, requirement to point at, how it was counted)`.
pub(crate) fn instance_type_cap<'r, 'a>(
    requirements: &'r [Requirement<'a>],
) -> Option<(usize, &'r Requirement<'a>, String)> {
    let mut types = Allowed::default();
    let mut families = Allowed::default();
    let mut sizes = Allowed::default();
    for req in requirements {
        match dimension(req.key) {
            Some(Dimension::Type) => types.add(req),
            Some(Dimension::Family) => families.add(req),
            Some(Dimension::Size) => sizes.add(req),
            None => {}
        }
    }
    // `m5.large` has family `m5` and size `large`.
    let fits = |t: &str| match t.split_once('.') {
        Some((family, size)) => families.allows(family) && sizes.allows(size),
        None => true,
    };
    if let (Some(listed), Some(at)) = (types.bounded(), types.first_in) {
        let count = listed.iter().filter(|t| fits(t)).count();
        let how = format!(
            "`{}` In {} value{}",
            at.key,
            at.values.len(),
            if at.values.len() == 1 { "" } else { "s" }
        );
        return Some((count, at, how));
    }
    let (Some(fam), Some(size), Some(at)) =
        (families.bounded(), sizes.bounded(), families.first_in)
    else {
        return None;
    };
    let count = fam
        .iter()
        .flat_map(|f| size.iter().map(move |s| format!("{f}.{s}")))
        .filter(|t| types.allows(t))
        .count();
    let how = format!(
        "{} instance famil{} × {} size{}",
        fam.len(),
        if fam.len() == 1 { "y" } else { "ies" },
        size.len(),
        if size.len() == 1 { "" } else { "s" }
    );
    Some((count, at, how))
}

/// The label prefix of instance attributes for the pool's flavour of Karpenter.
fn attribute_prefix(pool: &NodePool<'_>, at: &Requirement<'_>) -> &'static str {
    let auto_mode = at.key.starts_with("eks.amazonaws.com/")
        || pool
            .node_class_ref
            .as_ref()
            .and_then(|r| r.group())
            .is_some_and(|g| g.starts_with("eks.amazonaws.com"));
    if auto_mode {
        "eks.amazonaws.com"
    } else {
        "karpenter.k8s.aws"
    }
}

impl Rule for SpotDiversityLow {
    // Whether a pool can launch Spot depends on its node class, which may be in another file.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let min = cx.policy.spot.min_instance_types;
        for pool in &cx.node_pools {
            if !cx.capacity_types(pool).contains(&"spot") {
                continue;
            }
            let Some((count, at, how)) = instance_type_cap(&pool.requirements) else {
                continue;
            };
            if i64::try_from(count).unwrap_or(i64::MAX) >= min {
                continue;
            }
            let prefix = attribute_prefix(pool, at);
            let node: &Node = at.values_node.unwrap_or(at.node);
            out.report(
                pool.doc,
                node,
                format!(
                    "spot pool `{}` allows at most {count} instance type{} ({how}), fewer than \
                     the policy minimum of {min}",
                    pool.name,
                    if count == 1 { "" } else { "s" }
                ),
            )
            .help(format!(
                "allow at least {min} instance types (AWS advises 10 or more for spot; Karpenter's \
                 spot-to-spot consolidation needs 15): replace the list with broad requirements \
                 such as `{prefix}/instance-category In [c, m, r]` and \
                 `{prefix}/instance-generation Gt 4`, or add more values"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::node::{Span, Value};

    fn req<'a>(
        node: &'a Node,
        key: &'a str,
        operator: &'a str,
        values: &[&str],
    ) -> Requirement<'a> {
        Requirement {
            node,
            key,
            operator,
            values: values.iter().map(|v| (*v).to_string()).collect(),
            values_node: None,
            min_values: None,
        }
    }

    #[test]
    fn counts_type_lists_and_family_size_products() {
        let n = Node::new(Value::Null, Span::default());
        let types = [req(
            &n,
            INSTANCE_TYPE,
            "In",
            &["m5.large", "m5.xlarge", "c5.large"],
        )];
        assert_eq!(instance_type_cap(&types).unwrap().0, 3);

        // Intersections, NotIn and family filters narrow the list.
        let narrowed = [
            req(
                &n,
                INSTANCE_TYPE,
                "In",
                &["m5.large", "m5.xlarge", "c5.large"],
            ),
            req(
                &n,
                "beta.kubernetes.io/instance-type",
                "NotIn",
                &["m5.xlarge"],
            ),
            req(&n, "karpenter.k8s.aws/instance-family", "NotIn", &["c5"]),
        ];
        assert_eq!(instance_type_cap(&narrowed).unwrap().0, 1);

        let product = [
            req(
                &n,
                "karpenter.k8s.aws/instance-family",
                "In",
                &["m5", "c5", "r5"],
            ),
            req(
                &n,
                "karpenter.k8s.aws/instance-size",
                "In",
                &["large", "xlarge"],
            ),
            req(&n, INSTANCE_TYPE, "NotIn", &["r5.large"]),
        ];
        assert_eq!(instance_type_cap(&product).unwrap().0, 5);

        let auto_mode = [
            req(&n, "eks.amazonaws.com/instance-family", "In", &["m7g"]),
            req(
                &n,
                "eks.amazonaws.com/instance-size",
                "In",
                &["large", "xlarge"],
            ),
        ];
        assert_eq!(instance_type_cap(&auto_mode).unwrap().0, 2);
    }

    #[test]
    fn broad_requirements_set_no_cap() {
        let n = Node::new(Value::Null, Span::default());
        let family_only = [req(&n, "karpenter.k8s.aws/instance-family", "In", &["m5"])];
        assert!(instance_type_cap(&family_only).is_none());
        let broad = [
            req(&n, "karpenter.k8s.aws/instance-category", "In", &["c", "m"]),
            req(&n, INSTANCE_TYPE, "NotIn", &["m5.large"]),
            req(&n, INSTANCE_TYPE, "Exists", &[]),
        ];
        assert!(instance_type_cap(&broad).is_none());
        assert!(instance_type_cap(&[]).is_none());
    }
}

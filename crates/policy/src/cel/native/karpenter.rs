//! NodePool and NodeClaim (`karpenter.sh/v1`): static pools, budgets, labels, `nodeClassRef`
//! and requirements.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn node_pool(&mut self, spec: &'a Node, spec_at: &'a Node) {
        if let Some((replicas, _)) = prop(spec, "replicas") {
            let shown = replicas.scalar_text().unwrap_or_default();
            if let Some((limits, _)) = prop(spec, "limits")
                && let Some(entries) = limits.as_map()
                && !entries.is_empty()
                && !(entries.len() == 1 && limits.get("nodes").is_some())
            {
                let others: Vec<String> = entries
                    .iter()
                    .filter_map(|e| e.key_str())
                    .filter(|k| *k != "nodes")
                    .map(|k| format!("`{k}`"))
                    .collect();
                self.hit(
                    "static-pool-limits",
                    spec_at,
                    format!(
                        "a static NodePool (`replicas: {shown}`) may only limit `nodes`, but `limits` sets {}",
                        others.join(", ")
                    ),
                    "keep only `limits.nodes` on a static pool, or remove `replicas` to let Karpenter provision dynamically (the API server answers `only 'limits.nodes' is supported on static NodePools`)",
                );
            }
            if has(spec, "weight") {
                self.hit(
                    "static-pool-weight",
                    spec_at,
                    format!("a static NodePool (`replicas: {shown}`) cannot have a `weight`"),
                    "remove `weight`: it orders dynamic pools only (the API server answers `'weight' is not supported on static NodePools`)",
                );
            }
        }
        if let Some((budgets, _)) = spec.get("disruption").and_then(|d| prop(d, "budgets")) {
            for budget in budgets.items() {
                let (schedule, duration) = (has(budget, "schedule"), has(budget, "duration"));
                if schedule != duration {
                    let (set, missing) = if schedule {
                        ("schedule", "duration")
                    } else {
                        ("duration", "schedule")
                    };
                    self.hit(
                        "budget-schedule-duration",
                        budget,
                        format!("disruption budget sets `{set}` without `{missing}`"),
                        "a budget with a `schedule` (cron, UTC) needs a `duration` (how long it is active, e.g. `8h`), and a `duration` needs a `schedule`; drop both for an always-active budget (the API server answers `'schedule' must be set with 'duration'`)",
                    );
                }
            }
        }
        if let Some(labels) = spec.path(&["template", "metadata", "labels"]) {
            for entry in labels.entries() {
                let Some(key) = entry.key_str() else {
                    continue;
                };
                for (check, message, help) in restricted_key(key, "label") {
                    self.hit(check, &entry.key, message, &help);
                }
            }
        }
        if let Some(template_spec) = spec.path(&["template", "spec"]) {
            if let Some((r, _)) = prop(template_spec, "nodeClassRef") {
                self.node_class_ref(r);
            }
            if let Some((reqs, _)) = prop(template_spec, "requirements") {
                self.requirements(reqs, false);
            }
        }
    }

    pub(super) fn node_class_ref(&mut self, r: &'a Node) {
        for field in ["group", "kind", "name"] {
            if let Some((value, at)) = prop(r, field)
                && value.as_str() == Some("")
            {
                self.hit(
                    "node-class-ref-empty",
                    at,
                    format!("`nodeClassRef.{field}` is empty"),
                    match field {
                        "group" => "set `group: karpenter.k8s.aws` (EC2NodeClass) or `group: eks.amazonaws.com` (EKS Auto Mode NodeClass) (the API server answers `group may not be empty`)",
                        "kind" => "set `kind: EC2NodeClass` (Karpenter) or `kind: NodeClass` (EKS Auto Mode) (the API server answers `kind may not be empty`)",
                        _ => "set `name` to the node class this pool launches nodes with (the API server answers `name may not be empty`)",
                    },
                );
            }
        }
    }

    /// `claim`: a NodeClaim's requirements, which may name `karpenter.sh/nodepool`.
    pub(super) fn requirements(&mut self, reqs: &'a Node, claim: bool) {
        for req in reqs.items() {
            let operator = str_of(req, "operator");
            let values = prop(req, "values").map(|(v, _)| v);
            let count = values.map(|v| v.items().len());
            if operator == Some("In") && count.unwrap_or(0) == 0 {
                let key = str_of(req, "key").unwrap_or("");
                self.hit(
                    "requirement-in-without-values",
                    req,
                    format!("requirement on `{key}` with operator `In` has no values"),
                    "list at least one value, or use `operator: Exists` to require only that the label exists (the API server answers `requirements with operator 'In' must have a value defined`)",
                );
            }
            if let Some(op @ ("Gt" | "Lt" | "Gte" | "Lte")) = operator {
                let ok = match values.map(Node::items) {
                    Some([only]) => only
                        .scalar_text()
                        .and_then(|t| t.parse::<i64>().ok())
                        .is_some_and(|n| n >= 0),
                    _ => false,
                };
                if !ok {
                    let key = str_of(req, "key").unwrap_or("");
                    self.hit(
                        "requirement-comparison-value",
                        req,
                        format!("requirement on `{key}` with operator `{op}` needs exactly one value, a non-negative integer"),
                        "write e.g. `operator: Gt` with `values: [\"4\"]` (the API server answers `requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value`)",
                    );
                }
            }
            if operator == Some("In")
                && let Some(min) = prop(req, "minValues").and_then(|(m, _)| m.as_i64())
                && let Some(count) = count
                && i64::try_from(count).unwrap_or(i64::MAX) < min
            {
                let key = str_of(req, "key").unwrap_or("");
                self.hit(
                    "requirement-min-values",
                    req,
                    format!("requirement on `{key}` asks for `minValues: {min}` but lists only {count} value(s)"),
                    "list at least `minValues` values, or lower `minValues` (the API server answers `requirements with 'minValues' must have at least that many values specified in the 'values' field`)",
                );
            }
            if let Some((key_node, at)) = prop(req, "key")
                && let Some(key) = key_node.as_str()
            {
                if claim && key == "karpenter.sh/nodepool" {
                    continue;
                }
                for (check, message, help) in restricted_key(key, "requirement key") {
                    self.hit(check, at, message, &help);
                }
            }
        }
    }
}

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{NodeClass, NodeClassFlavor};
use crate::node::{Node, Value};
use crate::rules::{Context, Findings, Rule, declare_rule};
use crate::text::shorten;

declare_rule! {
    /// A tag breaks AWS tag syntax.
    ///
    /// ## Why
    /// Karpenter (and EKS Auto Mode) pass a node class's `spec.tags` to EC2 when it launches an
    /// instance; a tag EC2 refuses makes every launch of that class fail, and a tag another AWS
    /// service refuses breaks cost reports and tag policies later. The rules checked, from the
    /// EC2 and AWS tagging documentation:
    ///
    /// - a key is 1 to 128 characters, a value at most 256 (an empty value is fine);
    /// - keys and values use only letters, digits, spaces and `+ - = . _ : / @` (Unicode letters
    ///   and digits count): EC2 itself allows more, but these are the characters every AWS
    ///   service accepts;
    /// - neither a key nor a value may start with `aws:` (in any case): AWS reserves it;
    /// - an EC2 instance carries at most 50 tags, and Karpenter adds 6 of its own (`Name`,
    ///   `karpenter.sh/nodepool`, `karpenter.sh/nodeclaim`, `karpenter.k8s.aws/ec2nodeclass`,
    ///   `eks:eks-cluster-name`, `kubernetes.io/cluster/<name>`), so an EC2NodeClass may set at
    ///   most 44 (45 when it sets `Name`, which then replaces Karpenter's). EKS Auto Mode adds 3
    ///   (`eks:eks-cluster-name`, `eks:kubernetes-node-class-name`,
    ///   `eks:kubernetes-node-pool-name`), so a NodeClass may set at most 47;
    /// - a value is a string: `spec.tags` is a map of strings, so the API server rejects an
    ///   unquoted `true`, `yes` or `42`.
    ///
    /// Each problem is one finding, at the key or value at fault. Keys that Karpenter or EKS
    /// reserve are `TAG004`'s.
    ///
    /// A tag value that YAML 1.1 turns into a boolean or a number (`yes`, `0042`) is YAML002's
    /// finding, which says how to quote it; TAG003 is silent there.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags:
    ///     cost-center: shared-services
    ///     billing-team: platform
    ///     workload-type: infrastructure
    ///     aws:owner: platform-team
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: infra
    /// spec:
    ///   role: KarpenterNodeRole-demo
    ///   amiSelectorTerms: [{alias: al2023@v20240807}]
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
    ///   tags:
    ///     cost-center: shared-services
    ///     billing-team: platform
    ///     workload-type: infrastructure
    ///     owner: platform-team
    /// ```
    pub TagSyntaxInvalid { id: "TAG003", name: "tag-syntax-invalid", severity: Error }
}

/// Longest tag key, in Unicode characters.
const MAX_KEY_CHARS: usize = 128;
/// Longest tag value, in Unicode characters.
const MAX_VALUE_CHARS: usize = 256;
/// Tags EC2 allows on one resource.
const EC2_MAX_TAGS: usize = 50;
/// Tags Karpenter adds to an instance besides `spec.tags`.
const KARPENTER_TAGS: usize = 6;
/// Tags EKS Auto Mode adds to an instance besides `spec.tags`.
const AUTO_MODE_TAGS: usize = 3;

/// A character outside the set every AWS service accepts in tags.
static NOT_PORTABLE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[^\p{L}\p{Z}\p{N}_.:/=+\-@]").ok());

const PORTABLE_HELP: &str = "use only letters, digits, spaces and `+ - = . _ : / @`, the characters every AWS service accepts in tags";

impl Rule for TagSyntaxInvalid {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for class in &cx.node_classes {
            let Some(tags) = class.tags else {
                continue;
            };
            for entry in tags.entries() {
                // `sigs.k8s.io/yaml` turns a number or boolean key into its text.
                let Some(key) = entry.key.scalar_text() else {
                    continue;
                };
                check_key(class, &entry.key, &key, out);
                check_value(class, &key, &entry.value, out);
            }
            check_count(class, tags, out);
        }
    }
}

fn check_key<'a>(class: &NodeClass<'a>, node: &Node, key: &str, out: &mut Findings<'a>) {
    if key.is_empty() {
        out.report(class.doc, node, "tag key is empty")
            .help("give the tag a key or remove it; the API server rejects empty tag keys");
        return;
    }
    let chars = key.chars().count();
    if chars > MAX_KEY_CHARS {
        out.report(
            class.doc,
            node,
            format!(
                "tag key `{}` is {chars} characters long; AWS allows at most {MAX_KEY_CHARS}",
                shorten(key)
            ),
        )
        .help("shorten the key; keep long text in the value (up to 256 characters)");
    }
    if let Some(bad) = bad_chars(key) {
        out.report(
            class.doc,
            node,
            format!("tag key `{}` contains {bad}", shorten(key)),
        )
        .help(PORTABLE_HELP);
    }
    if has_aws_prefix(key) {
        out.report(
            class.doc,
            node,
            format!(
                "tag key `{}` starts with `aws:`, a prefix AWS reserves for its own tags",
                shorten(key)
            ),
        )
        .help("rename the key: EC2 refuses user tags whose key starts with `aws:` in any case, so no instance of this class launches");
    }
}

fn check_value<'a>(class: &NodeClass<'a>, key: &str, node: &Node, out: &mut Findings<'a>) {
    let text = match &node.value {
        Value::Str(text) => text,
        // `key:` with nothing after it: an empty value is allowed, and TAG002 reports a billing
        // tag left without one.
        Value::Null => return,
        _ => {
            out.report(
                class.doc,
                node,
                format!(
                    "tag `{}` has {} as its value, not a string",
                    shorten(key),
                    non_string(node)
                ),
            )
            .help(format!(
                "quote the value (`{}: \"...\"`): `spec.tags` is a map of strings, so the API server rejects the object; YAML reads unquoted `yes`, `on`, `true` as booleans and digits as numbers",
                shorten(key)
            ));
            return;
        }
    };
    let chars = text.chars().count();
    if chars > MAX_VALUE_CHARS {
        out.report(
            class.doc,
            node,
            format!(
                "value of tag `{}` is {chars} characters long; AWS allows at most {MAX_VALUE_CHARS}",
                shorten(key)
            ),
        )
        .help("shorten the value");
    }
    if let Some(bad) = bad_chars(text) {
        out.report(
            class.doc,
            node,
            format!(
                "value `{}` of tag `{}` contains {bad}",
                shorten(text),
                shorten(key)
            ),
        )
        .help(PORTABLE_HELP);
    }
    if has_aws_prefix(text) {
        out.report(
            class.doc,
            node,
            format!(
                "value `{}` of tag `{}` starts with `aws:`, a prefix AWS reserves",
                shorten(text),
                shorten(key)
            ),
        )
        .help("change the value: AWS reserves `aws:` (in any case) as a prefix of tag keys and values");
    }
}

fn check_count<'a>(class: &NodeClass<'a>, tags: &Node, out: &mut Findings<'a>) {
    let count = tags.entries().len();
    let has_name = tags.get("Name").is_some();
    let (budget, why) = match class.flavor {
        NodeClassFlavor::Ec2(_) => {
            let budget = EC2_MAX_TAGS - KARPENTER_TAGS + usize::from(has_name);
            let why = if has_name {
                "Karpenter adds 5 tags of its own (your `Name` replaces its sixth)"
            } else {
                "Karpenter adds 6 tags of its own (`Name` among them)"
            };
            (budget, why)
        }
        NodeClassFlavor::AutoMode => (
            EC2_MAX_TAGS - AUTO_MODE_TAGS,
            "EKS Auto Mode adds 3 `eks:` tags of its own",
        ),
    };
    if count <= budget {
        return;
    }
    let node = class.anchor(&["tags"]);
    out.report(
        class.doc,
        node,
        format!(
            "{} `{}` sets {count} tags; at most {budget} fit on an instance",
            class.kind(),
            class.name
        ),
    )
    .help(format!(
        "remove {} tag{}: EC2 allows {EC2_MAX_TAGS} tags per instance and {why}, so launches fail",
        count - budget,
        if count - budget == 1 { "" } else { "s" }
    ));
}

/// The characters of `text` outside the portable set, for a message (`` `!` and `#` ``).
fn bad_chars(text: &str) -> Option<String> {
    let re = NOT_PORTABLE.as_ref()?;
    let mut found: Vec<char> = Vec::new();
    for m in re.find_iter(text) {
        for c in m.as_str().chars() {
            if !found.contains(&c) {
                found.push(c);
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    let shown: Vec<String> = found.iter().take(5).map(|c| show_char(*c)).collect();
    let list = match shown.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    };
    Some(format!("{list}, which AWS tags do not allow"))
}

/// A character for a message: visible ones in backticks, others by name or code point.
fn show_char(c: char) -> String {
    match c {
        '\n' => "a line break".to_string(),
        '\r' => "a carriage return".to_string(),
        '\t' => "a tab".to_string(),
        '`' => "a backtick".to_string(),
        c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

fn has_aws_prefix(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// A non-string scalar for a message: `` the boolean `true` ``.
fn non_string(node: &Node) -> String {
    match &node.value {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => format!(
            "the {} `{}`",
            node.type_name(),
            node.scalar_text().unwrap_or_default()
        ),
        _ => format!("a {}", node.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_characters() {
        assert_eq!(bad_chars("cost-center"), None);
        assert_eq!(bad_chars("Kostenstelle Zürich: 42/a+b=c@d_e.f"), None);
        assert_eq!(bad_chars("東京-チーム"), None);
        assert_eq!(
            bad_chars("team#1!").as_deref(),
            Some("`#` and `!`, which AWS tags do not allow")
        );
        assert_eq!(
            bad_chars("a,b").as_deref(),
            Some("`,`, which AWS tags do not allow")
        );
        assert_eq!(
            bad_chars("line\n").as_deref(),
            Some("a line break, which AWS tags do not allow")
        );
    }

    #[test]
    fn aws_prefix_in_any_case() {
        assert!(has_aws_prefix("aws:createdBy"));
        assert!(has_aws_prefix("AWS:x"));
        assert!(has_aws_prefix("Aws:"));
        assert!(!has_aws_prefix("aws-team"));
        assert!(!has_aws_prefix("aw"));
        assert!(!has_aws_prefix("ä:x"));
    }
}

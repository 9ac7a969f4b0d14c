//! Words for messages: near-miss suggestions ("did you mean") and user values cut to a
//! readable length. The bottom layer: used by the schema checks, the typed reader and rules.

/// The known field name closest to `unknown`: the same name in another case, or one a typo or
/// two away (`httpToken` -> `httpTokens`, a swap of neighbours is one edit), or one that starts
/// with it (`subnetSelector` -> `subnetSelectorTerms`).
pub fn closest_field<'k>(unknown: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let lower = unknown.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for name in known {
        let candidate = name.to_lowercase();
        let score = if candidate == lower {
            0
        } else {
            let distance = strsim::osa_distance(&lower, &candidate);
            let len = lower.chars().count().min(candidate.chars().count());
            let limit = (len / 4).clamp(1, 3);
            if distance <= limit {
                distance
            } else if len >= 5 && (candidate.starts_with(&lower) || lower.starts_with(&candidate)) {
                limit + 1
            } else {
                continue;
            }
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, name));
        }
    }
    best.map(|(_, name)| name)
}

/// The longest name (in bytes) [`closest_name`] compares: a DNS subdomain, the longest
/// Kubernetes object name (`metadata.name`, at most 253 characters).
pub const NAME_MAX: usize = 253;

/// The candidate name nearest to `name`, if it is near enough to be a typo of it: up to a
/// third of the longer name may differ (at least one edit), as rustc suggests names. Names
/// longer than [`NAME_MAX`] get no suggestion and are suggested for none: no Kubernetes
/// object name is that long, and the table of distances grows with the product of lengths.
#[must_use]
pub fn closest_name<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if name.len() > NAME_MAX {
        return None;
    }
    // Each distance is worked out only as far as it could still beat the best so far, so a
    // lookup among thousands of names (every node class of a fleet) costs little per name.
    let name_chars: Vec<char> = name.chars().collect();
    let name_ascii = name.is_ascii();
    let (mut row, mut chars) = (Vec::new(), Vec::new());
    // No suggestion is further than a third of the longest name from `name`: a candidate
    // past that cannot be the answer, and if it were the nearest there would be no answer
    // either, so distances are worked out only up to it.
    let longest_candidate = candidates
        .iter()
        .filter(|c| c.len() <= NAME_MAX)
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let acceptable = (name_chars.len().max(longest_candidate) / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for &candidate in candidates.iter().filter(|c| c.len() <= NAME_MAX) {
        let bound = best.map_or(acceptable, |(d, _)| d);
        // ASCII names (all Kubernetes names) are compared byte by byte: the same distance.
        let within = if name_ascii && candidate.is_ascii() {
            edit_distance_within(name.as_bytes(), candidate.as_bytes(), bound, &mut row)
        } else {
            chars.clear();
            chars.extend(candidate.chars());
            edit_distance_within(&name_chars, &chars, bound, &mut row)
        };
        let Some(d) = within else {
            continue;
        };
        if best.is_none_or(|b| (d, candidate) < b) {
            best = Some((d, candidate));
        }
    }
    let (distance, best) = best?;
    let longest = name_chars.len().max(best.chars().count());
    (distance <= (longest / 3).max(1)).then_some(best)
}

/// The Levenshtein distance of `a` and `b` if it is at most `bound`. Only the band of the
/// table within `bound` of its diagonal is worked out (a cell off it is at least its distance
/// from the diagonal), cells past the bound are kept as `bound + 1` (what is past the bound
/// stays past it), and a row with every cell past the bound ends the work. `row` is scratch
/// space, reused between calls.
fn edit_distance_within<T: PartialEq>(
    a: &[T],
    b: &[T],
    bound: usize,
    row: &mut Vec<usize>,
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    // A start and an end the two share change no distance; names of one fleet share most of
    // themselves (`client-c00005-v2`, `client-c01234`), so the table shrinks to what differs.
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (
        a.get(start..).unwrap_or_default(),
        b.get(start..).unwrap_or_default(),
    );
    let end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (
        a.get(..a.len() - end).unwrap_or_default(),
        b.get(..b.len() - end).unwrap_or_default(),
    );
    let over = bound.saturating_add(1);
    row.clear();
    row.extend((0..=b.len()).map(|j| j.min(over)));
    for (i, ca) in (1usize..).zip(a) {
        let lo = i.saturating_sub(bound);
        let hi = i.saturating_add(bound).min(b.len());
        // Walking right along row `i`: the cell above-left, the cell to the left.
        let (mut diagonal, mut left, mut least, first);
        if lo == 0 {
            diagonal = row.first().copied().unwrap_or(over);
            left = i.min(over);
            if let Some(cell) = row.first_mut() {
                *cell = left;
            }
            least = left;
            first = 1;
        } else {
            diagonal = row.get(lo - 1).copied().unwrap_or(over);
            left = over;
            least = over;
            first = lo;
        }
        for j in first..=hi {
            let above = row.get(j).copied().unwrap_or(over);
            let same = b.get(j - 1) == Some(ca);
            let cell = if same {
                diagonal
            } else {
                diagonal.min(above).min(left).saturating_add(1)
            }
            .min(over);
            diagonal = above;
            if let Some(slot) = row.get_mut(j) {
                *slot = cell;
            }
            left = cell;
            least = least.min(cell);
        }
        if least > bound {
            return None;
        }
    }
    row.last().copied().filter(|&d| d <= bound)
}

/// Levenshtein distance in characters (insertions, deletions, substitutions).
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// `` `a`, `b`, `c`, `d`, `e` and 4 more ``: the distinct names, in order, five of them named and
/// the rest counted, so that a fleet's thousands of pools or classes do not bury a message.
#[must_use]
pub fn name_list(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&str> = names.iter().copied().filter(|n| seen.insert(*n)).collect();
    let shown: Vec<String> = distinct
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect();
    let mut text = shown.join(", ");
    if distinct.len() > SHOWN {
        text.push_str(&format!(" and {} more", distinct.len() - SHOWN));
    }
    text
}

/// A user value cut to a readable length for a message, on one line.
#[must_use]
pub fn shorten(text: &str) -> String {
    const KEEP: usize = 48;
    if text.chars().count() <= KEEP {
        return text.replace(['\n', '\r'], " ");
    }
    let head: String = text.chars().take(KEEP).collect();
    format!("{}...", head.replace(['\n', '\r'], " "))
}

/// `` `a`, `b`, `c` ``: names for a message.
#[must_use]
pub fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_past_any_kubernetes_name_are_not_compared() {
        // A hostile pair of 40 KB names cost 8.5 s of distance table; now nothing.
        let long = "a".repeat(NAME_MAX + 1);
        assert_eq!(closest_name(&long, &[long.as_str()]), None);
        assert_eq!(
            closest_name("platfrm", &[long.as_str(), "platform"]),
            Some("platform")
        );
        let longest = "a".repeat(NAME_MAX);
        let near = format!("{}b", "a".repeat(NAME_MAX - 1));
        assert_eq!(
            closest_name(&near, &[longest.as_str()]),
            Some(longest.as_str())
        );
    }

    #[test]
    fn name_lists_are_short() {
        assert_eq!(name_list(&["a", "b", "a"]), "`a`, `b`");
        assert_eq!(name_list(&["platform", "gpu"]), "`platform`, `gpu`");
        assert_eq!(
            name_list(&["a", "b", "c", "d", "e", "f", "g"]),
            "`a`, `b`, `c`, `d`, `e` and 2 more"
        );
    }

    proptest! {
        /// The bounded distance is Levenshtein's wherever it is within the bound.
        #[test]
        fn bounded_distance_is_levenshtein(a in "[abc\u{e9}-]{0,12}", b in "[abc\u{e9}-]{0,12}", bound in prop_oneof![0usize..14, Just(usize::MAX)]) {
            let (a_chars, b_chars): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let exact = strsim::levenshtein(&a, &b);
            let within = edit_distance_within(&a_chars, &b_chars, bound, &mut Vec::new());
            prop_assert_eq!(within, (exact <= bound).then_some(exact));
        }

        /// The nearest name is the one the full table of distances picks.
        #[test]
        fn closest_name_is_the_nearest_by_full_distance(
            name in "[ab\u{e9}-]{0,8}",
            candidates in proptest::collection::vec("[ab\u{e9}-]{0,8}", 0..12),
        ) {
            let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
            let expected = names
                .iter()
                .map(|c| (strsim::levenshtein(&name, c), *c))
                .min_by_key(|(d, c)| (*d, *c))
                .filter(|(d, c)| *d <= (name.chars().count().max(c.chars().count()) / 3).max(1))
                .map(|(_, c)| c);
            prop_assert_eq!(closest_name(&name, &names), expected);
        }
    }

    // Moved with the functions from `rules/refs/node_class_not_found.rs` (REF001),
    // `schema/hints.rs` (SCH002) and `rules/tag/tag_syntax_invalid.rs` (TAG003).

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

    /// The textbook two-row form, to check the library's against.
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
        assert_eq!(closest_name("aps", &["apps", "infra"]), Some("apps"));
        assert_eq!(closest_name("infra-nodes", &["infra", "apps"]), None);
        assert_eq!(closest_name("infrastructure", &["infra"]), None);
        assert_eq!(
            closest_name("client-acme", &["client-acme-v2", "client-bcme"]),
            Some("client-bcme")
        );
        assert_eq!(closest_name("x", &[]), None);
    }

    #[test]
    fn typos_find_their_field() {
        let known = [
            "httpEndpoint",
            "httpProtocolIPv6",
            "httpPutResponseHopLimit",
            "httpTokens",
        ];
        assert_eq!(
            closest_field("httpToken", known.into_iter()),
            Some("httpTokens")
        );
        assert_eq!(
            closest_field("HttpTokens", known.into_iter()),
            Some("httpTokens")
        );
        assert_eq!(
            closest_field("httpEndpont", known.into_iter()),
            Some("httpEndpoint")
        );
        assert_eq!(closest_field("foo", known.into_iter()), None);
        let known = ["name", "labels", "annotations"];
        assert_eq!(closest_field("lables", known.into_iter()), Some("labels"));
        let known = ["kmsKeyID", "snapshotID", "volumeSize"];
        assert_eq!(
            closest_field("kmsKeyId", known.into_iter()),
            Some("kmsKeyID")
        );
        assert_eq!(
            closest_field("volumSize", known.into_iter()),
            Some("volumeSize")
        );
        let known = ["subnetSelectorTerms", "securityGroupSelectorTerms"];
        assert_eq!(
            closest_field("subnetSelector", known.into_iter()),
            Some("subnetSelectorTerms")
        );
    }

    #[test]
    fn short_names_need_a_close_match() {
        let known = ["id", "name", "tags"];
        assert_eq!(closest_field("ids", known.into_iter()), Some("id"));
        assert_eq!(closest_field("tag", known.into_iter()), Some("tags"));
        assert_eq!(closest_field("xyz", known.into_iter()), None);
    }

    #[test]
    fn edit_distance_of_field_names() {
        let osa = strsim::osa_distance;
        assert_eq!(osa("kitten", "sitting"), 3);
        assert_eq!(osa("", "abc"), 3);
        assert_eq!(osa("abc", "abc"), 0);
        assert_eq!(osa("lables", "labels"), 1, "a swap is one edit");
    }

    #[test]
    fn shortening_counts_characters() {
        assert_eq!(shorten("short"), "short");
        let long = "ü".repeat(60);
        assert_eq!(shorten(&long).chars().count(), 51);
    }
}

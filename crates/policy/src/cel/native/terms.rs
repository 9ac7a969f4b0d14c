//! What the node classes share: selector terms (subnets, security groups, AMIs, capacity
//! reservations), the identity fields and `spec.tags`.

use super::*;

impl<'a> Checker<'a, '_> {
    pub(super) fn identity_empty(&mut self, spec: &'a Node, field: &str) {
        if let Some((value, at)) = prop(spec, field)
            && value.as_str() == Some("")
        {
            self.hit(
                "identity-empty",
                at,
                format!("`{field}` is empty"),
                &format!("set `{field}` to the IAM {} nodes use, or remove it (the API server answers `{field} cannot be empty`)", if field == "role" { "role name" } else { "instance profile name" }),
            );
        }
    }

    pub(super) fn empty_term(&mut self, term: &'a Node, list_name: &str, fields: &str) {
        self.hit(
            "selector-term-empty",
            term,
            format!("an entry of `{list_name}` selects nothing"),
            &format!("give each term at least one of {fields}; an empty term is rejected (the API server answers `expected at least one, got none, ...`)"),
        );
    }

    /// `!self.all(x, has(x.<field>) && (has(x.<other>) || ...))`: rejected when every term (or
    /// none, in an empty list) combines `field` with another field.
    pub(super) fn every_term_mixes(
        &mut self,
        terms: &'a Node,
        at: &'a Node,
        list_name: &str,
        field: &str,
        others: &[&str],
        server_message: &str,
    ) {
        let items = terms.items();
        if terms.as_seq().is_none() {
            return;
        }
        if items.is_empty() {
            // NC-21 rejects an empty list; NC-40/NC-45 say it better for the required ones.
            if list_name == "capacityReservationSelectorTerms" {
                self.hit(
                    "selector-term-field-exclusive",
                    at,
                    format!("`{list_name}` is an empty list"),
                    &format!("remove `{list_name}` or add a term: the CRD's `{server_message}` rule also fails on an empty list"),
                );
            }
            return;
        }
        let all_mix = items
            .iter()
            .all(|t| has(t, field) && others.iter().any(|o| has(t, o)));
        if all_mix {
            self.hit(
                "selector-term-field-exclusive",
                at,
                format!("every `{list_name}` entry combines `{field}` with other fields"),
                &format!("an `{field}` selects exactly one resource: put it in a term of its own (the API server answers `{server_message}`)"),
            );
        }
    }

    pub(super) fn security_groups_and_subnets(
        &mut self,
        spec: &'a Node,
        groups: &str,
        subnets: &str,
    ) {
        if let Some((terms, at)) = prop(spec, groups) {
            self.terms_not_empty(terms, at, groups);
            for term in terms.items() {
                if !["tags", "id", "name"].iter().any(|f| has(term, f)) {
                    self.empty_term(term, groups, "`tags`, `id` or `name`");
                }
                self.selector_tags(term);
            }
            if !terms.items().is_empty() {
                self.every_term_mixes(
                    terms,
                    at,
                    groups,
                    "id",
                    &["tags", "name"],
                    "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term",
                );
                self.every_term_mixes(
                    terms,
                    at,
                    groups,
                    "name",
                    &["tags", "id"],
                    "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term",
                );
            }
        }
        if let Some((terms, at)) = prop(spec, subnets) {
            self.terms_not_empty(terms, at, subnets);
            for term in terms.items() {
                if !["tags", "id"].iter().any(|f| has(term, f)) {
                    self.empty_term(term, subnets, "`tags` or `id`");
                }
                self.selector_tags(term);
            }
            if !terms.items().is_empty() {
                self.every_term_mixes(
                    terms,
                    at,
                    subnets,
                    "id",
                    &["tags"],
                    "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term",
                );
            }
        }
    }

    pub(super) fn terms_not_empty(&mut self, terms: &'a Node, at: &'a Node, list_name: &str) {
        if terms.as_seq().is_some_and(<[Node]>::is_empty) {
            self.hit(
                "selector-terms-empty",
                at,
                format!("`{list_name}` is empty"),
                &format!("add at least one term, e.g. `{list_name}: [{{tags: {{karpenter.sh/discovery: my-cluster}}}}]` (the API server answers `{list_name} cannot be empty`)"),
            );
        }
    }

    /// `tags` of a selector term: no empty key, no empty value.
    pub(super) fn selector_tags(&mut self, term: &'a Node) {
        let Some((tags, _)) = prop(term, "tags") else {
            return;
        };
        for entry in tags.entries() {
            if entry.value.is_null() {
                continue;
            }
            let key = entry.key.scalar_text().unwrap_or_default();
            if key.is_empty() || entry.value.as_str() == Some("") {
                let message = if key.is_empty() {
                    "selector term has a tag with an empty key".to_string()
                } else {
                    format!("selector term tag `{key}` has an empty value")
                };
                self.hit(
                    "selector-tags-empty",
                    &entry.key,
                    message,
                    "to match any value of a tag, write `\"*\"` as its value (the API server answers `empty tag keys or values aren't supported`)",
                );
            }
        }
    }

    pub(super) fn spec_tags(
        &mut self,
        spec: &'a Node,
        report: SpecTags,
        restricted_keys: &[(&str, bool)],
    ) {
        let Some((tags, _)) = prop(spec, "tags") else {
            return;
        };
        for entry in tags.entries() {
            if entry.value.is_null() {
                continue;
            }
            let key = entry.key.scalar_text().unwrap_or_default();
            if report.empty_keys && key.is_empty() {
                self.hit(
                    "tag-key-empty (TAG003)",
                    &entry.key,
                    "`spec.tags` has a tag with an empty key".to_string(),
                    "give the tag a key, or remove it (the API server answers `empty tag keys aren't supported`)",
                );
            }
            if report.restricted_keys
                && let Some((reserved, _)) = restricted_keys.iter().find(|(r, prefix)| {
                    if *prefix {
                        key.starts_with(r)
                    } else {
                        key == *r
                    }
                })
            {
                let matching = if *reserved == "kubernetes.io/cluster" {
                    "kubernetes.io/cluster/"
                } else {
                    reserved
                };
                self.hit(
                    "tag-key-restricted (TAG004)",
                    &entry.key,
                    format!("tag key `{key}` is restricted"),
                    &format!("remove it from `spec.tags` (the API server answers `tag contains a restricted tag matching {matching}`)"),
                );
            }
        }
    }
}

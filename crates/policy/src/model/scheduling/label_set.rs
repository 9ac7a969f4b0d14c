//! [`LabelSet`]: the values a node label may take, as requirements narrow them down.

use std::collections::BTreeSet;

use compact_str::CompactString;

/// Label values, sorted and without repeats, in one allocation (values up to 24 bytes held
/// inline). A `BTreeSet` took a node of eleven slots for each label of each pool, about 300
/// bytes for one value, and SEP006 holds the label sets of every pool of the run at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(Vec<CompactString>);

impl Values {
    #[must_use]
    pub fn contains(&self, value: &str) -> bool {
        self.0.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, CompactString> {
        self.0.iter()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values of `self` that are in `other` (`in_other`) or that are not.
    fn filtered(&self, other: &Values, in_other: bool) -> Values {
        Values(
            self.0
                .iter()
                .filter(|v| other.contains(v) == in_other)
                .cloned()
                .collect(),
        )
    }

    fn union(&self, other: &Values) -> Values {
        self.0.iter().chain(other.iter()).cloned().collect()
    }

    fn retain(&mut self, keep: impl FnMut(&CompactString) -> bool) {
        self.0.retain(keep);
    }
}

impl<T: Into<CompactString>> FromIterator<T> for Values {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let mut values: Vec<CompactString> = values.into_iter().map(Into::into).collect();
        values.sort_unstable();
        values.dedup();
        values.shrink_to_fit();
        Values(values)
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = &'a CompactString;
    type IntoIter = std::slice::Iter<'a, CompactString>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The values a label may take under a set of requirements, and whether it may be absent.
///
/// `In` = present with one of the values; `NotIn` = absent or another value; `Exists` =
/// present; `DoesNotExist` = absent; `Gt`/`Lt`/`Gte`/`Lte` = present, integer in range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSet {
    pub absent_ok: bool,
    /// `true`: every value except `values`; `false`: only `values`.
    pub complement: bool,
    pub values: Values,
    /// Exclusive integer bounds (only on complement sets: a concrete set is filtered instead).
    pub greater_than: Option<i64>,
    pub less_than: Option<i64>,
}

impl LabelSet {
    /// Any value, or none.
    #[must_use]
    pub fn any() -> Self {
        Self {
            absent_ok: true,
            complement: true,
            values: Values::default(),
            greater_than: None,
            less_than: None,
        }
    }

    /// Exactly `value`.
    #[must_use]
    pub fn exactly(value: &str) -> Self {
        Self::from_operator("In", &[value.to_string()])
    }

    /// The set one requirement allows. Unknown operators allow nothing (the API rejects them).
    #[must_use]
    pub fn from_operator(operator: &str, values: &[String]) -> Self {
        let set: Values = values.iter().map(String::as_str).collect();
        // Gt/Lt take exactly one integer; anything else matches no node.
        let int = || match values {
            [one] => one.parse::<i64>().ok(),
            _ => None,
        };
        let mut s = Self {
            absent_ok: false,
            complement: false,
            values: Values::default(),
            greater_than: None,
            less_than: None,
        };
        match operator {
            "In" => s.values = set,
            "NotIn" => {
                s.absent_ok = true;
                s.complement = true;
                s.values = set;
            }
            "Exists" => s.complement = true,
            "DoesNotExist" => s.absent_ok = true,
            "Gt" | "Gte" | "Lt" | "Lte" => {
                s.complement = true;
                match (operator, int()) {
                    ("Gt", Some(n)) => s.greater_than = Some(n),
                    ("Gte", Some(n)) => s.greater_than = Some(n.saturating_sub(1)),
                    ("Lt", Some(n)) => s.less_than = Some(n),
                    ("Lte", Some(n)) => s.less_than = Some(n.saturating_add(1)),
                    _ => s.complement = false,
                }
            }
            _ => {}
        }
        s
    }

    fn in_bounds(&self, value: &str) -> bool {
        if self.greater_than.is_none() && self.less_than.is_none() {
            return true;
        }
        let Ok(n) = value.parse::<i64>() else {
            return false;
        };
        self.greater_than.is_none_or(|g| n > g) && self.less_than.is_none_or(|l| n < l)
    }

    /// Whether a node with label value `value` satisfies the set.
    #[must_use]
    pub fn allows(&self, value: &str) -> bool {
        if self.complement {
            !self.values.contains(value) && self.in_bounds(value)
        } else {
            self.values.contains(value)
        }
    }

    /// The only values the set accepts, when it is a finite list that requires the label.
    #[must_use]
    pub fn required_values(&self) -> Option<&Values> {
        (!self.complement && !self.absent_ok).then_some(&self.values)
    }

    /// The labels both sets allow.
    #[must_use]
    pub fn intersect(&self, other: &LabelSet) -> LabelSet {
        let greater_than = match (self.greater_than, other.greater_than) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let less_than = match (self.less_than, other.less_than) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (complement, values) = match (self.complement, other.complement) {
            (true, true) => (true, self.values.union(&other.values)),
            (false, true) => (false, self.values.filtered(&other.values, false)),
            (true, false) => (false, other.values.filtered(&self.values, false)),
            (false, false) => (false, self.values.filtered(&other.values, true)),
        };
        let mut out = LabelSet {
            absent_ok: self.absent_ok && other.absent_ok,
            complement,
            values,
            greater_than,
            less_than,
        };
        if !out.complement {
            let bounded = out.clone();
            out.values.retain(|v| bounded.in_bounds(v));
            // A concrete list keeps no bounds: its values were filtered by them.
            out.greater_than = None;
            out.less_than = None;
        }
        out
    }

    /// Whether some node satisfies both sets: `self.intersect(other).is_satisfiable()`, without
    /// building the intersection when one side is a plain list (`In`, `DoesNotExist`, a
    /// `nodeSelector` value), which is nearly every pod-against-pool comparison of `SEP006`.
    #[must_use]
    pub fn compatible(&self, other: &LabelSet) -> bool {
        let unbounded = |s: &LabelSet| s.greater_than.is_none() && s.less_than.is_none();
        match (self.complement, other.complement) {
            // The intersection is the common values: absence or a shared value satisfies it.
            (false, false) if unbounded(self) && unbounded(other) => {
                (self.absent_ok && other.absent_ok)
                    || self.values.iter().any(|v| other.values.contains(v))
            }
            // The intersection is this list, less the other's exclusions, within its bounds.
            (false, true) if unbounded(self) => {
                (self.absent_ok && other.absent_ok) || self.values.iter().any(|v| other.allows(v))
            }
            (true, false) if unbounded(other) => other.compatible(self),
            _ => self.intersect(other).is_satisfiable(),
        }
    }

    /// Whether some node (with or without the label) satisfies the set.
    #[must_use]
    pub fn is_satisfiable(&self) -> bool {
        if self.absent_ok {
            return true;
        }
        if !self.complement {
            return !self.values.is_empty();
        }
        if self.greater_than.is_none() && self.less_than.is_none() {
            return true;
        }
        // Integer label values are non-negative: a label value starts with a letter or digit.
        let low = i128::from(self.greater_than.unwrap_or(-1)).max(-1);
        let high = self.less_than.map_or(i128::from(i64::MAX) + 1, i128::from);
        let width = high - low - 1;
        let excluded: BTreeSet<i128> = self
            .values
            .iter()
            .filter_map(|v| v.parse::<i64>().ok())
            .map(i128::from)
            .filter(|&n| n > low && n < high)
            .collect();
        width > excluded.len() as i128
    }

    /// In words, for messages: `` `arm64` ``, ``one of `c`, `m` ``, ``a number > 4``,
    /// ``absent, or any value except `spot` ``.
    #[must_use]
    pub fn describe(&self) -> String {
        let list = |values: &Values| {
            values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let present = if self.complement {
            let mut conditions = Vec::new();
            if let Some(g) = self.greater_than {
                conditions.push(format!("> {g}"));
            }
            if let Some(l) = self.less_than {
                conditions.push(format!("< {l}"));
            }
            let mut text = if conditions.is_empty() {
                "any value".to_string()
            } else {
                format!("a number {}", conditions.join(" and "))
            };
            if !self.values.is_empty() {
                text.push_str(" except ");
                text.push_str(&list(&self.values));
            }
            Some(text)
        } else {
            match self.values.len() {
                0 => None,
                1 => Some(list(&self.values)),
                _ => Some(format!("one of {}", list(&self.values))),
            }
        };
        match (present, self.absent_ok) {
            (Some(text), false) => text,
            (Some(text), true) => format!("absent, or {text}"),
            (None, true) => "absent".to_string(),
            (None, false) => "nothing".to_string(),
        }
    }
}

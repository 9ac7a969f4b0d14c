//! Which pools can give a pod a label it requires: an index over the pools' label sets, so
//! that a search over a fleet's pools (SEP006) visits the few that matter.

use std::collections::BTreeMap;

use super::{LabelSets, Values, is_well_known_label};

/// The pools that may define each value of each label, so that the search for a pool a pod
/// fits visits only pools that can give it a label it requires, not every pool of the set.
///
/// A pod that requires a label that is not well known with `In` values (or a `nodeSelector`
/// value) fits only pools that define that label: one the pool does not define is never on
/// its nodes. Of those, a pool that lists the label's values fits only if it lists one the pod
/// wants; a pool with an open requirement on it (`NotIn`, `Exists`, `Gt`, ...) may fit.
pub struct PoolIndex<'s> {
    /// (label, value) -> the pools whose nodes may carry the label with exactly listed values,
    /// this one among them.
    listed: BTreeMap<(&'s str, &'s str), Vec<usize>>,
    /// label -> the pools with an open requirement on it.
    open: BTreeMap<&'s str, Vec<usize>>,
}

impl<'s> PoolIndex<'s> {
    /// The index of pools given by their label sets, in file order.
    pub fn new(pools: impl Iterator<Item = &'s LabelSets>) -> Self {
        let mut index = Self {
            listed: BTreeMap::new(),
            open: BTreeMap::new(),
        };
        for (i, sets) in pools.enumerate() {
            for (key, set) in sets {
                if set.complement || set.greater_than.is_some() || set.less_than.is_some() {
                    index.open.entry(key).or_default().push(i);
                } else {
                    for value in &set.values {
                        index
                            .listed
                            .entry((key, value.as_str()))
                            .or_default()
                            .push(i);
                    }
                }
            }
        }
        index
    }

    /// The pool lists that may give label `key` one of `values` (with repeats).
    fn lists<'q>(
        &'q self,
        key: &'q str,
        values: &'q Values,
    ) -> impl Iterator<Item = &'q Vec<usize>> {
        values
            .iter()
            .filter_map(move |v| self.listed.get(&(key, v.as_str())))
            .chain(self.open.get(key))
    }

    /// Indexes (ascending) of the only pools whose labels `pod` may fit, when it requires a
    /// label that is not well known with listed values; `None` when every pool may. Of the
    /// labels it requires, the one with the fewest pools decides.
    #[must_use]
    pub fn candidates(&self, pod: &LabelSets) -> Option<Vec<usize>> {
        let (key, values) = indexed(pod)
            .min_by_key(|(key, values)| self.lists(key, values).map(Vec::len).sum::<usize>())?;
        let mut pools: Vec<usize> = self.lists(key, values).flatten().copied().collect();
        pools.sort_unstable();
        pools.dedup();
        Some(pools)
    }

    /// The pools that can give `pod` at least one of its indexed labels, in file order, and
    /// how many indexed labels it requires: every other pool misses each of them, so it has
    /// at least that many problems.
    #[must_use]
    pub fn near(&self, pod: &LabelSets) -> (Vec<usize>, usize) {
        let mut pools = Vec::new();
        let mut required = 0;
        for (key, values) in indexed(pod) {
            required += 1;
            pools.extend(self.lists(key, values).flatten().copied());
        }
        pools.sort_unstable();
        pools.dedup();
        (pools, required)
    }
}

/// The requirements of `pod` the index can answer: labels that are not well known, required
/// with a finite list of values (only a pool that defines such a label can give it).
fn indexed(pod: &LabelSets) -> impl Iterator<Item = (&str, &Values)> {
    pod.iter()
        .filter(|(key, wanted)| {
            !is_well_known_label(key) && wanted.greater_than.is_none() && wanted.less_than.is_none()
        })
        .filter_map(|(key, wanted)| Some((key.as_str(), wanted.required_values()?)))
}

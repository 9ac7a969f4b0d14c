use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A spot NodePool allows too few instance types for reliable spot capacity.
    pub SpotDiversityLow { id: "KARP001", name: "spot-diversity-low", severity: Warning }
}

impl Rule for SpotDiversityLow {}

use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// The IMDS hop limit lets pods reach instance metadata.
    pub HopLimitTooHigh { id: "IMDS002", name: "imds-hop-limit-too-high", severity: Warning }
}

impl Rule for HopLimitTooHigh {}

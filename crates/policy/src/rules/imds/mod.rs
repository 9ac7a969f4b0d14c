//! Instance metadata service (IMDS) settings of node classes.

pub mod hop_limit_too_high;
pub mod imdsv1_allowed;

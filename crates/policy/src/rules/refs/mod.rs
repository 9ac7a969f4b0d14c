//! References from NodePools to node classes.

pub mod node_class_not_found;
pub mod node_class_ref_mismatch;

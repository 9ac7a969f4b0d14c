//! Rules on eksgate's `ClusterRequest`.

pub mod request_invalid;

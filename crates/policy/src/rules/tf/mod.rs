//! Terraform: when an apply needs the Kubernetes API before it exists.

pub mod manifest_planned_before_cluster;

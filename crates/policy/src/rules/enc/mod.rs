//! Encryption of node volumes.

pub mod ebs_unencrypted;
pub mod kms_key_missing;

//! CRD validation rules (`x-kubernetes-validations`), natively for the Karpenter and EKS Auto
//! Mode kinds, through the CEL engine for CRDs given with `--crd`.

pub mod crd_rule_violated;

# The root module of the example: three child modules, applied in stages by eksgate
# (`-target=module.network`, then `-target=module.eks`, then everything).
#
# The module bodies are built on Terraform's built-in `terraform_data` resource so that the
# example runs anywhere, offline, with no provider to download (eksgate's tests apply it). In a
# real repository they are terraform-aws-modules/vpc/aws and terraform-aws-modules/eks/aws; the
# comments in each module say which resources they stand for.

variable "environment" {
  type = string
}

variable "cluster_name" {
  type = string
}

module "network" {
  source      = "./modules/network"
  environment = var.environment
}

module "eks" {
  source       = "./modules/eks"
  cluster_name = var.cluster_name
  subnet_ids   = module.network.private_subnet_ids
}

module "apps" {
  source           = "./modules/apps"
  cluster_endpoint = module.eks.cluster_endpoint
}

output "cluster_name" {
  value = module.eks.cluster_name
}

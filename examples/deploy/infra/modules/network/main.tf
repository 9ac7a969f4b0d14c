# Stands for the VPC, its private subnets (tagged `karpenter.sh/discovery`) and NAT gateways.
variable "environment" {
  type = string
}

resource "terraform_data" "vpc" {
  input = "vpc-${var.environment}"
}

resource "terraform_data" "private_subnets" {
  input = ["${terraform_data.vpc.output}-a", "${terraform_data.vpc.output}-b"]
}

output "private_subnet_ids" {
  value = terraform_data.private_subnets.output
}

# Stands for aws_eks_cluster, its IAM roles, the Karpenter controller role (IRSA or Pod
# Identity: it must exist before the Karpenter pods start), and - the fix for the seeds'
# missing-access-entry failure - the CI role's access entry:
#
#   resource "aws_eks_access_entry" "ci" {
#     cluster_name  = aws_eks_cluster.this.name
#     principal_arn = "arn:aws:iam::123456789012:role/eksgate-deploy"
#   }
#   resource "aws_eks_access_policy_association" "ci" {
#     cluster_name  = aws_eks_cluster.this.name
#     principal_arn = aws_eks_access_entry.ci.principal_arn
#     policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
#     access_scope { type = "cluster" }
#   }
variable "cluster_name" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

resource "terraform_data" "cluster" {
  input = {
    name    = var.cluster_name
    subnets = var.subnet_ids
  }
}

resource "terraform_data" "ci_access_entry" {
  input = "${var.cluster_name}/eksgate-deploy"
}

output "cluster_name" {
  value = terraform_data.cluster.output.name
}

output "cluster_endpoint" {
  value = "https://${terraform_data.cluster.output.name}.eks.example"
}

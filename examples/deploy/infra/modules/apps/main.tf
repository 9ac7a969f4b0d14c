# Stands for what needs the Kubernetes API at plan time (kubernetes_manifest, helm_release):
# it is only planned in the last stage, after the `kubernetes-api` gate, which is what prevents
# "Failed to construct REST client ... no client config".
variable "cluster_endpoint" {
  type = string
}

resource "terraform_data" "platform_release" {
  input = var.cluster_endpoint
}

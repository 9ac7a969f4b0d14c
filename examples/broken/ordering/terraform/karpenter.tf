resource "kubectl_manifest" "nodeclass_apps" {
  yaml_body = <<-YAML
    apiVersion: karpenter.k8s.aws/v1
    kind: EC2NodeClass
    metadata:
      name: apps
    spec:
      role: KarpenterNodeRole-prod
      amiSelectorTerms:
        - alias: al2023@v20240807
      subnetSelectorTerms:
        - tags:
            karpenter.sh/discovery: prod
      securityGroupSelectorTerms:
        - tags:
            karpenter.sh/discovery: prod
      tags:
        cost-center: client-projects
        billing-team: development
        workload-type: applications
        client-id: acme
  YAML
}

resource "kubernetes_manifest" "nodepool_apps" {
  manifest = { # expect: TF001
    apiVersion = "karpenter.sh/v1"
    kind       = "NodePool"
    metadata = {
      name = "apps"
    }
    spec = {
      template = {
        metadata = {
          labels = { "node-type" = "applications" }
        }
        spec = {
          nodeClassRef = {
            group = "karpenter.k8s.aws"
            kind  = "EC2NodeClass"
            name  = "apps"
          }
          requirements = [
            { key = "karpenter.sh/capacity-type", operator = "In", values = ["spot", "on-demand"] },
            { key = "karpenter.k8s.aws/instance-category", operator = "In", values = ["c", "m", "r"] },
          ]
        }
      }
      limits = { cpu = "1000", memory = "4000Gi" }
      disruption = {
        consolidationPolicy = "WhenEmptyOrUnderutilized"
        consolidateAfter    = "1m"
      }
    }
  }
}

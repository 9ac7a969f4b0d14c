environment  = "prod"
cluster_name = "acme-prod"

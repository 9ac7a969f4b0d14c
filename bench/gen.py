#!/usr/bin/env python3
"""Generate a deterministic, realistic platform-repo corpus of exactly N Kubernetes documents.

    bench/gen.py 10000 bench/corpus-10000

The shapes follow examples/platform (compliant) and examples/broken (one defect each): one EKS
platform with a tainted infrastructure pool and many client tenants. Per client tenant:
an EC2NodeClass (or, one tenant in five, an EKS Auto Mode NodeClass), one or two NodePools, a
Namespace, and Deployments / StatefulSets / CronJobs with their Services and ConfigMaps, which
select the client's nodes by nodeSelector or node affinity. Every 25 tenants the platform adds an
infrastructure pool and platform workloads (DaemonSets, StatefulSets, Deployments in the infra
namespaces, tolerating the infra taint). Files hold 8-12 documents (Helm-rendered style, with
`# Source:` comments); one file in twenty is JSON (a `kind: List`).

About one document in eight carries a defect a rule reports (IMDSv1, hop limit, unencrypted
EBS, missing billing tag, spot diversity, no limits, dangling nodeClassRef, a client pod that
tolerates everything, an infra pod with no toleration, a selector no pool offers), and a few carry
a suppression comment with a reason. Same N and seed give byte-identical files.
"""

import json
import os
import random
import shutil
import sys

SEED = 20261121
DEFECT_RATE = 0.12
INFRA_NAMESPACES = ["istio-system", "vault", "signoz", "ingress-nginx", "monitoring"]
REGISTRY = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
WORDS = [
    "storefront", "orders", "payments", "catalog", "search", "checkout", "billing", "ledger",
    "notifier", "reports", "gateway", "inventory", "pricing", "auth", "profile", "media",
    "ingest", "etl", "scheduler", "recommender", "fraud", "shipping", "invoices", "analytics",
]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def defect(self):
        return self.r.random() < DEFECT_RATE

    def pick(self, xs):
        return self.r.choice(xs)

    # ---- capacity -------------------------------------------------------------------------

    def ec2nodeclass(self, name, tags, infra=False):
        d = self.defect()
        kind = self.pick(["imds1", "hop", "ebs", "tag", "tagval"]) if d else None
        tokens = "optional  # legacy AMI bootstrap still uses IMDSv1" if kind == "imds1" else "required"
        hop = 2 if kind == "hop" else 1
        enc = "false" if kind == "ebs" else "true"
        tags = dict(tags)
        if kind == "tag":
            tags.pop("billing-team", None)
        if kind == "tagval":
            tags["cost-center"] = "marketing"
        tag_lines = "\n".join(f"    {k}: {v}" for k, v in tags.items())
        kms = ""
        if infra:
            kms = "\n        kmsKeyID: arn:aws:kms:eu-west-1:111122223333:key/0b7a3c1e-5d2f-4e8a-9c6b-1f2e3d4c5b6a"
        size = self.pick(["50Gi", "80Gi", "100Gi", "120Gi"])
        return f"""apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: {name}
  annotations:
    kubernetes.io/description: "Nodes for {name}"
spec:
  role: KarpenterNodeRole-platform-prod
  amiSelectorTerms:
    - alias: al2023@v20240807
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: platform-prod
        kubernetes.io/role/internal-elb: "1"
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: platform-prod
  metadataOptions:
    httpEndpoint: enabled
    httpProtocolIPv6: disabled
    httpPutResponseHopLimit: {hop}
    httpTokens: {tokens}
  blockDeviceMappings:
    - deviceName: /dev/xvda
      rootVolume: true
      ebs: &gp3
        volumeSize: {size}
        volumeType: gp3
        iops: 3000
        throughput: 125
        encrypted: {enc}{kms}
        deleteOnTermination: true
    - deviceName: /dev/xvdb
      ebs:
        <<: *gp3
        volumeSize: 200Gi
  tags:
{tag_lines}
"""

    def auto_nodeclass(self, name, tags):
        tags = dict(tags)
        if self.defect():
            tags.pop(self.pick(["billing-team", "cost-center"]), None)
        tag_lines = "\n".join(f"    {k}: {v}" for k, v in tags.items())
        return f"""apiVersion: eks.amazonaws.com/v1
kind: NodeClass
metadata:
  name: {name}
spec:
  role: AmazonEKSAutoNodeRole-platform-prod
  subnetSelectorTerms:
    - tags:
        kubernetes.io/role/internal-elb: "1"
        eks-cluster: platform-prod
  securityGroupSelectorTerms:
    - tags:
        eks-cluster: platform-prod
  ephemeralStorage:
    size: {self.pick(["80Gi", "120Gi", "160Gi"])}
    iops: 3000
    throughput: 125
  networkPolicy: DefaultAllow
  snatPolicy: Random
  tags:
{tag_lines}
"""

    def client_nodepool(self, name, client, class_name, auto, spot):
        d = self.defect()
        kind = self.pick(["diversity", "limits", "ref"]) if d else None
        group, ckind = ("eks.amazonaws.com", "NodeClass") if auto else ("karpenter.k8s.aws", "EC2NodeClass")
        prefix = "eks.amazonaws.com" if auto else "karpenter.k8s.aws"
        ref = class_name + "-v2" if kind == "ref" else class_name
        cap = '["spot", "on-demand"]' if spot else '["on-demand"]'
        if kind == "diversity" and spot:
            div = f"""        - key: node.kubernetes.io/instance-type
          operator: In
          values: ["m5.large", "m5.xlarge", "c5.xlarge"]"""
        else:
            div = f"""        - key: {prefix}/instance-category
          operator: In
          values: ["c", "m", "r"]
          minValues: 2
        - key: {prefix}/instance-family
          operator: Exists
          minValues: 5
        - key: node.kubernetes.io/instance-type
          operator: Exists
          minValues: 10"""
        limits = "" if kind == "limits" else f"""  limits:
    cpu: "{self.pick([64, 100, 200, 400])}"
    memory: {self.pick([256, 400, 800, 1600])}Gi
"""
        return f"""apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: {name}
spec:
  weight: {self.pick([10, 20, 50])}
  template:
    metadata:
      labels:
        node-type: applications
        client-id: {client}
    spec:
      nodeClassRef:
        group: {group}
        kind: {ckind}
        name: {ref}
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: {cap}
        - key: kubernetes.io/arch
          operator: In
          values: ["amd64", "arm64"]
{div}
        - key: {prefix}/instance-generation
          operator: Gt
          values: ["4"]
      expireAfter: 336h
{limits}  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 1m
    budgets:
      - nodes: 20%
"""

    def infra_nodepool(self, name, class_name):
        d = self.defect()
        kind = self.pick(["taint", "spot", "budget"]) if d else None
        effect = "PreferNoSchedule" if kind == "taint" else "NoSchedule"
        cap = '["spot", "on-demand"]' if kind == "spot" else '["on-demand"]'
        budgets = "" if kind == "budget" else """    budgets:
      - nodes: "1"
      - nodes: "0"
        schedule: "0 7 * * mon-fri"
        duration: 11h
        reasons: [Underutilized, Empty]
"""
        return f"""apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: {name}
  annotations:
    kubernetes.io/description: "Platform workloads only: tainted, on-demand"
spec:
  weight: 10
  template:
    metadata:
      labels:
        node-type: infrastructure
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws
        kind: EC2NodeClass
        name: {class_name}
      taints:
        - key: workload-type
          value: infrastructure
          effect: {effect}
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: {cap}
        - key: kubernetes.io/arch
          operator: In
          values: ["amd64"]
        - key: karpenter.k8s.aws/instance-category
          operator: In
          values: ["m", "r"]
        - key: karpenter.k8s.aws/instance-generation
          operator: Gt
          values: ["5"]
      expireAfter: 720h
      terminationGracePeriod: 48h
  limits:
    cpu: "256"
    memory: 1024Gi
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 10m
{budgets}"""

    # ---- workloads ------------------------------------------------------------------------

    def client_scheduling(self, client, indent):
        """nodeSelector or node affinity for a client pod; sometimes a defect."""
        p = " " * indent
        d = self.defect()
        kind = self.pick(["exists", "infra", "gpu", "suppressed"]) if d else None
        if kind == "gpu":
            return f"{p}nodeSelector:\n{p}  node-type: gpu\n{p}  client-id: {client}\n"
        if kind == "infra":
            return (f"{p}nodeSelector:\n{p}  node-type: infrastructure\n"
                    f"{p}tolerations:\n{p}  - key: workload-type\n{p}    operator: Exists\n")
        tol = ""
        if kind == "exists":
            tol = f"{p}tolerations:\n{p}  - operator: Exists\n"
        if kind == "suppressed":
            tol = (f"{p}tolerations:\n{p}  # eksgate:ignore SEP005 drains node-local caches on every node (PLAT-1234)\n"
                   f"{p}  - operator: Exists\n")
        if self.r.random() < 0.6:
            return f"{p}nodeSelector:\n{p}  node-type: applications\n{p}  client-id: {client}\n" + tol
        return (f"""{p}affinity:
{p}  nodeAffinity:
{p}    requiredDuringSchedulingIgnoredDuringExecution:
{p}      nodeSelectorTerms:
{p}        - matchExpressions:
{p}            - {{key: node-type, operator: In, values: [applications]}}
{p}            - {{key: client-id, operator: In, values: [{client}]}}
{p}    preferredDuringSchedulingIgnoredDuringExecution:
{p}      - weight: 50
{p}        preference:
{p}          matchExpressions:
{p}            - {{key: karpenter.sh/capacity-type, operator: In, values: [spot]}}
""" + tol)

    def infra_scheduling(self, indent):
        p = " " * indent
        if self.defect():
            return f"{p}nodeSelector:\n{p}  node-type: infrastructure\n"  # no toleration: SEP004
        return (f"{p}nodeSelector:\n{p}  node-type: infrastructure\n{p}  kubernetes.io/os: linux\n"
                f"{p}tolerations:\n{p}  - key: workload-type\n{p}    operator: Equal\n"
                f"{p}    value: infrastructure\n{p}    effect: NoSchedule\n")

    def container(self, name, image, indent):
        p = " " * indent
        cpu = self.pick(["100m", "250m", "500m", "1"])
        mem = self.pick(["128Mi", "256Mi", "512Mi", "1Gi"])
        port = self.pick([8080, 8443, 9090, 3000])
        return f"""{p}- name: {name}
{p}  image: {image}
{p}  imagePullPolicy: IfNotPresent
{p}  args: ["--port={port}", "--log-format=json"]
{p}  env:
{p}    - name: POD_NAMESPACE
{p}      valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}
{p}    - name: OTEL_EXPORTER_OTLP_ENDPOINT
{p}      value: "http://signoz-otel-collector.signoz.svc:4317"
{p}  ports:
{p}    - {{containerPort: {port}, name: http}}
{p}  readinessProbe:
{p}    httpGet: {{path: /healthz, port: http}}
{p}    periodSeconds: 10
{p}  resources:
{p}    requests: {{cpu: {cpu}, memory: {mem}}}
{p}    limits: {{memory: {mem}}}
{p}  securityContext:
{p}    allowPrivilegeEscalation: false
{p}    runAsNonRoot: true
{p}    capabilities: {{drop: [ALL]}}
"""

    def deployment(self, name, ns, sched, image, kind="Deployment"):
        extra = "  serviceName: " + name + "\n" if kind == "StatefulSet" else ""
        replicas = "" if kind == "DaemonSet" else f"  replicas: {self.pick([1, 2, 3, 4, 6])}\n"
        return f"""apiVersion: apps/v1
kind: {kind}
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: {ns}
spec:
{replicas}{extra}  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: {name}
      terminationGracePeriodSeconds: 30
{sched}      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {name}
      containers:
{self.container(name.split('-')[0], image, 8)}"""

    def cronjob(self, name, ns, sched, image):
        return f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: {ns}
spec:
  schedule: "{self.r.randrange(60)} {self.r.randrange(24)} * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
{sched}          containers:
{self.container(name.split('-')[0], image, 12)}"""

    def service(self, name, ns):
        return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: ClusterIP
  ports:
    - {{name: http, port: 80, targetPort: http, protocol: TCP}}
  selector:
    app.kubernetes.io/name: {name}
"""

    def configmap(self, name, ns):
        return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
data:
  LOG_LEVEL: {self.pick(["info", "debug", "warn"])}
  FEATURE_FLAGS: "checkout-v2,async-ledger"
  app.yaml: |
    server:
      port: 8080
      shutdownTimeout: 20s
    upstreams:
      - name: {name}-db
        url: postgres://{name}-db.{ns}.svc:5432/{name}
"""

    def namespace(self, ns):
        return f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    istio-injection: enabled
"""

    # ---- tenants --------------------------------------------------------------------------

    def client_docs(self, i):
        client = f"c{i:05d}"
        ns = f"client-{client}"
        auto = self.r.random() < 0.2
        tags = {"cost-center": "client-projects", "billing-team": "development",
                "workload-type": "applications", "client-id": client}
        cap = [self.auto_nodeclass(ns, tags) if auto else self.ec2nodeclass(ns, tags)]
        cap.append(self.client_nodepool(ns, client, ns, auto, spot=True))
        if self.r.random() < 0.5:
            cap.append(self.client_nodepool(ns + "-on-demand", client, ns, auto, spot=False))
        apps = [self.namespace(ns)]
        for _ in range(self.r.randrange(6, 14)):
            app = f"{self.pick(WORDS)}-{self.r.randrange(1000):03d}"
            image = f"{REGISTRY}/{client}/{app}:{self.r.randrange(1, 9)}.{self.r.randrange(30)}.{self.r.randrange(10)}"
            roll = self.r.random()
            if roll < 0.7:
                apps.append(self.deployment(app, ns, self.client_scheduling(client, 6), image))
                apps.append(self.service(app, ns))
                if self.r.random() < 0.5:
                    apps.append(self.configmap(app, ns))
            elif roll < 0.85:
                apps.append(self.deployment(app, ns, self.client_scheduling(client, 6), image, "StatefulSet"))
                apps.append(self.service(app, ns))
            else:
                apps.append(self.cronjob(app, ns, self.client_scheduling(client, 10), image))
        return [("karpenter", f"{ns}.yaml", cap), ("workloads/" + ns, "apps", apps)]

    def infra_docs(self, k):
        name = "infrastructure" if k == 0 else f"infra-{k:03d}"
        tags = {"cost-center": "shared-services", "billing-team": "platform",
                "workload-type": "infrastructure"}
        cap = [self.ec2nodeclass(name, tags, infra=True), self.infra_nodepool(name, name)]
        apps = []
        for ns in INFRA_NAMESPACES:
            for _ in range(self.r.randrange(1, 4)):
                app = f"{ns.split('-')[0]}-{self.pick(['agent', 'server', 'collector', 'exporter', 'proxy'])}-{self.r.randrange(1000):03d}"
                image = f"quay.io/platform/{app}:v1.{self.r.randrange(20)}.0"
                kind = self.pick(["Deployment", "DaemonSet", "StatefulSet"])
                apps.append(self.deployment(app, ns, self.infra_scheduling(6), image, kind))
                apps.append(self.service(app, ns))
                if self.r.random() < 0.4:
                    apps.append(self.configmap(app, ns))
        return [("karpenter", f"{name}.yaml", cap), ("platform/" + name, "platform", apps)]


def write_yaml(path, docs):
    with open(path, "w") as f:
        for n, doc in enumerate(docs):
            if n:
                f.write("---\n")
            kind = doc.split("kind: ", 1)[1].split("\n", 1)[0].lower()
            f.write(f"# Source: platform/templates/{kind}.yaml\n")
            f.write(doc)


def write_json(path, docs, yaml):
    items = [d for doc in docs for d in yaml.safe_load_all(doc)]
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f, indent=2)
        f.write("\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py DOCUMENTS OUT_DIR")
    total, out = int(sys.argv[1]), sys.argv[2]
    import yaml  # for the JSON files; PyYAML comes with the peers in bench/.venv
    g = Gen(SEED)
    if os.path.isdir(out):
        shutil.rmtree(out)
    files = []  # (dir, name, docs)
    pools = []  # node classes and pools, several tenants to a file
    count = client = infra = 0

    def add(d, fname, docs):
        nonlocal count
        docs = docs[: total - count]
        if docs:
            files.append((d, fname, docs))
            count += len(docs)

    while count < total:
        units = g.infra_docs(infra) if client % 25 == 0 else []
        infra += client % 25 == 0
        units += g.client_docs(client)
        client += 1
        for d, name, docs in units:
            if d == "karpenter":
                pools += docs
                # Flush at ~10 documents, or early near the end so no tenant's pools are cut off.
                if len(pools) >= 9 or count + len(pools) + 40 >= total:
                    add(d, f"pools-{len(files):05d}.yaml", pools)
                    pools = []
                continue
            j = 0
            while docs:  # a tenant's workloads in files of 8-12 documents
                n = g.r.randrange(8, 13)
                add(d, f"{name}-{j:02d}.yaml", docs[:n])
                docs = docs[n:]
                j += 1
    for n, (d, fname, docs) in enumerate(files):
        os.makedirs(os.path.join(out, d), exist_ok=True)
        path = os.path.join(out, d, fname)
        # One workload file in twenty is JSON, as `kubectl get -o json` prints a List.
        if n % 20 == 19 and d != "karpenter":
            write_json(path[:-5] + ".json", docs, yaml)
        else:
            write_yaml(path, docs)
    print(f"{out}: {count} documents in {len(files)} files")


if __name__ == "__main__":
    main()

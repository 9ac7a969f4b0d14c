#!/usr/bin/env python3
"""Generates eksgate's built-in schemas from the upstream CRDs.

    python3 crates/policy/schemas/generate.py [--crds DIR]

DIR defaults to `shared/crds` beside the project checkout. Each output file holds the
structural schema (`openAPIV3Schema`) of one served version of one kind, trimmed to what
validation needs: descriptions and `x-kubernetes-validations` are dropped (the CEL rules of the
built-in kinds are implemented natively, see CEL001), and so is `status` (not user input).

The EKS Auto Mode NodeClass has no published CRD. Its only machine-readable schema is a 2025-02
JSON Schema conversion (datree); `eks.amazonaws.com_v1_NodeClass.additions.json` lists, with
sources, the fields AWS added since, and the generator overlays them.

`tests/schema_drift.rs` applies the same trimming to the upstream files and fails when the
built-in schemas disagree with them, so a new Karpenter release is: point UPSTREAM below at it,
run this script, run the tests.
"""

import argparse
import copy
import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

# (output file, upstream file relative to the CRD directory, group, version, kind)
UPSTREAM = [
    ("karpenter.sh_v1_NodePool.json", "karpenter/v1.14.1/karpenter.sh_nodepools.yaml",
     "karpenter.sh", "v1", "NodePool"),
    ("karpenter.k8s.aws_v1_EC2NodeClass.json", "karpenter/v1.14.1/karpenter.k8s.aws_ec2nodeclasses.yaml",
     "karpenter.k8s.aws", "v1", "EC2NodeClass"),
    ("eks.amazonaws.com_v1_NodeClass.json", "eks-auto-mode/nodeclass_v1.json",
     "eks.amazonaws.com", "v1", "NodeClass"),
]

# Schema keywords kept; everything else (description, x-kubernetes-validations, example, ...)
# is dropped. Keep this list equal to KEPT in tests/schema_drift.rs.
KEPT = {
    "type", "format", "enum", "pattern", "default", "nullable",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "required", "properties", "additionalProperties", "items",
    "allOf", "anyOf", "oneOf", "not",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
}


def trim(schema, json_schema_conversion):
    """The validation-relevant part of a structural schema."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key not in KEPT:
            continue
        if key == "properties":
            out[key] = {k: trim(v, json_schema_conversion) for k, v in value.items()}
        elif key in ("items", "not"):
            out[key] = trim(value, json_schema_conversion)
        elif key == "additionalProperties":
            if value is False and json_schema_conversion:
                # kubeconform-style conversions close every object; a CRD prunes instead.
                continue
            out[key] = trim(value, json_schema_conversion)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [trim(v, json_schema_conversion) for v in value]
        else:
            out[key] = copy.deepcopy(value)
    return out


def root_schema(upstream_path, version):
    if upstream_path.endswith(".json"):
        with open(upstream_path) as f:
            return json.load(f), True
    with open(upstream_path) as f:
        crd = yaml.safe_load(f)
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            return v["schema"]["openAPIV3Schema"], False
    sys.exit(f"{upstream_path}: no version {version}")


def apply_additions(schema, additions):
    for field in additions.get("notRequired", []):
        node = at_path(schema, field["path"])
        node["required"] = [r for r in node.get("required", []) if r != field["name"]]
        if not node["required"]:
            del node["required"]
    for field in additions.get("properties", []):
        node = at_path(schema, field["path"])
        props = node.setdefault("properties", {})
        if field["name"] in props:
            sys.exit(f"addition {field['path']}.{field['name']} is upstream now: remove it from the additions")
        props[field["name"]] = field["schema"]


def at_path(schema, dotted):
    node = schema
    for part in dotted.split("."):
        node = node["properties"][part]
    return node


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--crds", default=os.path.normpath(os.path.join(HERE, "../../../../shared/crds")))
    args = parser.parse_args()
    for out_name, rel, group, version, kind in UPSTREAM:
        raw, converted = root_schema(os.path.join(args.crds, rel), version)
        schema = trim(raw, converted)
        schema.get("properties", {}).pop("status", None)
        additions_file = os.path.join(HERE, out_name.replace(".json", ".additions.json"))
        if os.path.exists(additions_file):
            with open(additions_file) as f:
                apply_additions(schema, json.load(f))
        doc = {
            "group": group,
            "version": version,
            "kind": kind,
            "upstream": rel,
            "generatedBy": "crates/policy/schemas/generate.py",
            "openAPIV3Schema": schema,
        }
        with open(os.path.join(HERE, out_name), "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {out_name} from {rel}")


if __name__ == "__main__":
    main()

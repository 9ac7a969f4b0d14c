#!/usr/bin/env python3
"""Differential test: eksgate's YAML decoder against kubectl's (sigs.k8s.io/yaml over go-yaml v2).

Every case of the corpus (tests/yaml-differential/: the yaml-test-suite cases, MIT, and the
generated cases below) is written as files, each file goes to both decoders, and the verdicts
must agree:
- kubectl: `kubectl label --local -f DIR x=y -o json`, offline (a kubeconfig whose server is
  127.0.0.1:1; `--local` never contacts it). This is the same resource builder and decoder as
  `kubectl apply` (YAMLOrJSONDecoder -> sigs.k8s.io/yaml -> go-yaml v2). `error parsing FILE` is
  a rejection; an object on stdout, or `Object 'Kind' is missing in '{JSON}'` for a mapping
  without `kind`, gives the decoded value; other documents give their JSON type.
- eksgate: `cargo run -p eksgate-policy --example decode`: the documents `source::load` reads,
  as JSON, and its parse notes (a `syntax` or `not-json` note is a rejection).

Each case is tried twice: `raw` (the text is the whole file) and `wrapped` (indented under
`spec:` of an object with `kind`, so kubectl prints every decoded value). A disagreement fails
the test unless tests/yaml-differential/expected-disagreements.json records it with a verdict
and a reason; a recorded disagreement that no longer happens fails it too (stale record),
unless it is marked `nondeterministic` (kubectl's own answer changes from run to run).

Usage: python3 tests/yaml_differential.py [--decode BIN] [--kubectl BIN] [--write-actual FILE]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(ROOT, "yaml-differential")
LABEL = "eksgate-differential"

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: unreachable
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: unreachable
  context: {cluster: unreachable, user: nobody}
current-context: unreachable
users:
- name: nobody
  user: {token: not-a-secret}
"""

NP = """apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: {name}
spec:
  template:
    spec:
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
      requirements:
{req}"""


def generated():
    """The generated corpus: (id, text, whole_file). Bodies (whole_file False) are values that
    go under `spec:`; whole files are written as they are."""
    cases = []

    def body(cid, text):
        cases.append((cid, text, False))

    def whole(cid, text):
        cases.append((cid, text, True))

    scalars = [
        # YAML 1.1 booleans and their look-alikes
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off",
        "Off", "OFF", "true", "True", "TRUE", "tRue", "false", "FALSE", "yEs",
        # integers: octal, hex, binary, underscores, signs, out of range
        "0755", "0o755", "0O755", "-0755", "08", "0089", "09.5", "0x1F", "0X1f", "-0x1",
        "0x_1F", "0b101", "-0b101", "0B11", "1_000", "1__0", "_1", "+12", "-0", "00",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        # floats
        ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1e-3", "1.5e-3", "2.0", "1.", "0.",
        "6.8523015e+5", "685.230_15e+03", "1e400", "-1e400", "1e21", "1e20", ".e3", "1.2.3",
        "1e", "e3", ".inf", "-.Inf", "+.INF", ".NaN", ".nan", "inf", "NaN",
        # YAML 1.1 sexagesimal numbers (go-yaml v2 does not read them) and timestamps
        "1:20", "190:20:30", "1:20.5", "-1:20", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        # nulls and odd plain scalars
        "~", "null", "Null", "NULL", "nUll", "", "<<", "=", "-", "+", ".", "?", "a:b",
        "a#b", "20Gi", "100m", "0.5Gi", "1Ki", "ami-0123", "${VAR}", "<<NAME>>",
    ]
    for i, s in enumerate(scalars):
        body(f"scalar-{i:03}", f"plain: {s}\nsingle: '{s}'\ndouble: \"{s}\"\nitem: [{s}]\n" if s else "plain:\n")
        body(f"key-{i:03}", f"{s}: value\n" if s and s not in ("?", "-", "<<") else f"'{s}': value\n")
    tagged = [
        "!!str 3", "!!int \"3\"", "!!int 0x10", "!!float 1", "!!float \"1.5\"", "!!bool yes",
        "!!bool \"true\"", "!!null ''", "!!null null", "!!int abc", "!!float x", "!!bool 3",
        "!!binary aGVsbG8=", "!!binary |\n    aGVs\n    bG8=", "!!binary notbase64!",
        "!custom x", "! 3", "!<tag:yaml.org,2002:str> 3", "!!timestamp 2001-12-14",
        "!!map {a: 1}", "!!seq [a]", "!!str [a]", "!!set {a, b}", "!!omap [a: 1]",
    ]
    for i, t in enumerate(tagged):
        body(f"tag-{i:03}", f"value: {t}\n")
    # merge keys
    body("merge-basic", "base: &b {p: 1, q: 2}\nchild:\n  <<: *b\n  q: 3\n")
    body("merge-before", "base: &b {p: 1, q: 2}\nchild:\n  q: 3\n  <<: *b\n")
    body("merge-list", "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n")
    body("merge-list-inline", "c:\n  <<: [{x: 1}, {x: 2, y: 2}]\n")
    body("merge-scalar", "c:\n  <<: 3\n")
    body("merge-list-of-scalar", "c:\n  <<: [3]\n")
    body("merge-quoted", "c:\n  '<<': {a: 1}\n")
    body("merge-nested", "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n")
    body("merge-twice", "a: &a {x: 1}\nb: &b {x: 2}\nc:\n  <<: *a\n  <<: *b\n")
    body("merge-null", "c:\n  <<: ~\n")
    body("merge-tagged", "c:\n  !!merge <<: {a: 1}\n")
    # duplicate keys
    body("dup-block", "a: 1\na: 2\n")
    body("dup-flow", "m: {a: 1, a: 2}\n")
    body("dup-nested", "m:\n  a: {x: 1}\n  a: {y: 2}\n")
    body("dup-quoted", "a: 1\n'a': 2\n\"a\": 3\n")
    body("dup-bool-string", "m:\n  true: 1\n  'true': 2\n")
    body("dup-int-forms", "m:\n  10: a\n  0xA: b\n")
    # tabs
    body("tab-indent", "a:\n\tb: 1\n")
    body("tab-after-dash", "conditions:\n  -\tDrifted\n")
    body("tab-after-dash-2", "-\ta\n")
    body("tab-after-colon", "a:\tb\n")
    body("tab-in-flow", "a: [x,\ty]\nb: {c:\t1}\n")
    body("tab-before-comment", "a: b\t# c\n")
    body("tab-in-value", "a: b\tc\n")
    body("tab-trailing", "a: b\t\n")
    body("tab-in-block-scalar", "a: |\n  x\ty\n  \tz\n")
    body("tab-before-key", "\ta: 1\n")
    body("tab-after-question", "?\ta\n: b\n")
    # flow collections spanning lines (the requirement)
    whole("flow-close-at-key-indent", NP.format(name="flow", req=(
        "        - key: karpenter.k8s.aws/instance-family\n"
        "          operator: In\n"
        "          values: [\n"
        "            \"c5d\", \"m5d\"\n"
        "          ]\n")))
    whole("flow-close-at-column-0", NP.format(name="flow0", req=(
        "        - key: karpenter.k8s.aws/instance-family\n"
        "          operator: In\n"
        "          values: [\n"
        "  \"c5d\", \"m5d\"\n"
        "]\n")))
    whole("tab-after-dash-nodepool", NP.format(name="tab", req=(
        "        - key: kubernetes.io/arch\n"
        "          operator: In\n"
        "          values:\n"
        "          -\tamd64\n")))
    body("flow-map-multiline", "a: {\n  x: 1,\n  y: 2\n}\n")
    body("flow-trailing-comma", "a: [1, 2,]\nb: {x: 1,}\n")
    body("flow-empty-entry", "a: [1,,2]\n")
    body("flow-implicit-map", "a: [x: 1, y: 2]\n")
    body("flow-nested", "a: [[1, [2]], {b: [3]}]\n")
    body("flow-plain-colon", "a: [http://x, a:b]\n")
    body("flow-question", "a: {? x, y: 1}\n")
    body("flow-unterminated", "a: [1, 2\nb: 3\n")
    body("flow-tag-comma", "a: [!x, y]\n")
    # block scalars
    body("block-literal", "a: |\n  x\n  y\n")
    body("block-strip", "a: |-\n  x\n\n")
    body("block-keep", "a: |+\n  x\n\n\nb: 1\n")
    body("block-folded", "a: >\n  x\n  y\n\n  z\n    more\n  w\n")
    body("block-folded-strip", "a: >-\n  x\n  y\n")
    body("block-indicator", "a: |2\n   x\n  y\n")
    body("block-indicator-keep", "a: |1+\n  x\n")
    body("block-comment", "a: | # comment\n  x\n")
    body("block-leading-blank", "a: |\n\n\n  x\n")
    body("block-less-indented", "a: |\n    x\n  y\n")
    body("block-empty", "a: |\nb: 1\n")
    body("block-in-seq", "- |\n  x\n- >-\n  y\n")
    # anchors and aliases
    body("alias-scalar", "a: &x 1\nb: *x\n")
    body("alias-map", "a: &m {x: 1}\nb: *m\n")
    body("alias-key", "a: &k key\n*k : value\n")
    body("alias-unknown", "a: *nope\n")
    body("anchor-redefined", "a: &x 1\nb: &x 2\nc: *x\n")
    body("anchor-on-empty", "a: &x\nb: *x\n")
    # keys
    body("key-double-escapes", "\"a\\tb\": 1\n\"\\u263A\": 2\n\"\\x41\": 3\n")
    body("key-single-quote", "'it''s': 1\n")
    body("key-null", "~: x\n")
    body("key-empty-explicit", "? \n: x\n")
    body("key-seq", "? [a, b]\n: c\n")
    body("key-map", "? {a: 1}\n: x\n")
    body("key-explicit", "? a\n: b\n? c\n")
    body("key-floats", "m:\n  1.5: a\n  0.1: b\n  1e3: c\n  2.0: d\n  1.0000001: e\n  1e21: f\n  .inf: g\n  -.inf: h\n")
    body("key-nan", "m:\n  .nan: x\n")
    body("key-bool-int", "m:\n  true: a\n  on: b\n  1: c\n  0x10: d\n  0755: e\n")
    body("key-big-int", "m:\n  18446744073709551615: a\n  -9223372036854775808: b\n")
    body("key-long-implicit", "k" * 1100 + ": v\n")
    body("key-long-1024", "k" * 1020 + ": v\n")
    body("key-long-quoted", "\"" + "q" * 1100 + "\": v\n")
    body("key-long-explicit", "? " + "e" * 1100 + "\n: v\n")
    body("key-multiline-plain", "a\n b: 1\n")
    # comments in odd places
    body("comment-between", "a: # c\n  1\n")
    body("comment-in-flow", "a: [1, # c\n  2]\n")
    body("comment-no-space", "a: b#c\nd: e #f\n")
    body("comment-after-quoted", "a: \"b\"# c\n")
    body("comment-only-value", "a:\n  # c\nb: 2\n")
    # quoted scalars
    body("double-escapes", "a: \"\\/ \\N \\_ \\L \\P \\e \\0 \\a \\b \\v \\x7f\"\n")
    body("double-bad-escape", "a: \"\\q\"\n")
    body("double-surrogate", "a: \"\\uD800\"\n")
    body("double-multiline", "a: \"x\n  y\n\n  z\"\n")
    body("single-multiline", "a: 'x\n  y'\n")
    body("double-line-escape", "a: \"x\\\n  y\"\n")
    # plain scalars and structure errors
    body("plain-multiline", "a: x\n  y\n   z\n")
    body("plain-colon-space", "a: b: c\n")
    body("seq-after-key", "a: - b\n")
    body("seq-nested", "- - a\n  - b\n- - c\n")
    body("seq-compact-map", "- a: 1\n  b: 2\n- c: 3\n")
    body("seq-same-indent", "a:\n- 1\n- 2\nb: 3\n")
    body("seq-wrong-indent", "a:\n  - 1\n - 2\n")
    body("map-wrong-indent", "a:\n    b: 1\n  c: 2\n")
    body("unicode-value", "a: π-ünïcode ☃\nb: \"\\U0001F600\"\n")
    body("nel-in-value", "a: x\u0085y\n")
    body("bom-in-middle", "a: x\ufeffy\n")
    body("ls-in-value", "a: x\u2028y\n")
    body("control-char", "a: x\u0007y\n")
    body("deep", "a: " + "[" * 99 + "]" * 99 + "\n")
    body("too-deep", "a: " + "[" * 120 + "]" * 120 + "\n")
    # streams: whole files
    obj = "apiVersion: eksgate.test/v1\nkind: Case\nmetadata:\n  name: {}\nspec:\n  a: {}\n"
    whole("stream-two", obj.format("s1", 1) + "---\n" + obj.format("s2", "on"))
    whole("stream-leading-marker", "---\n" + obj.format("lm", 1))
    whole("stream-empty-docs", "---\n---\n" + obj.format("ed", 1) + "---\n---\n")
    whole("stream-marker-comment", obj.format("mc1", 1) + "--- # next\n" + obj.format("mc2", 2))
    whole("stream-marker-content", obj.format("mk1", 1) + "--- " + "{apiVersion: v1}\n")
    whole("stream-document-end", obj.format("de1", 1) + "...\n" + obj.format("de2", 2))
    whole("stream-document-end-then-marker", obj.format("dm1", 1) + "...\n---\n" + obj.format("dm2", 2))
    whole("stream-directive", "%YAML 1.1\n---\n" + obj.format("dy", "yes"))
    whole("stream-directive-12", "%YAML 1.2\n---\n" + obj.format("dz", "yes"))
    whole("stream-tag-directive", "%TAG !e! tag:example.com,2000:\n---\n" + obj.format("dt", "!e!x 1"))
    whole("stream-error-second", obj.format("es1", 1) + "---\n" + obj.format("es2", "[1"))
    whole("stream-nan-second", obj.format("en1", 1) + "---\n" + obj.format("en2", ".nan") + "---\n" + obj.format("en3", 3))
    whole("stream-comment-only", "# nothing\n---\n# still nothing\n")
    whole("stream-null-doc", "null\n---\n" + obj.format("nd", 1))
    whole("stream-scalar-doc", "hello\n---\n" + obj.format("sd", 1))
    whole("stream-marker-indented", obj.format("mi", 1) + " ---\n")
    whole("stream-marker-long", obj.format("ml1", 1) + "----\n" + obj.format("ml2", 2))
    whole("bom", "\ufeff" + obj.format("bom", "yes"))
    whole("bom-second-doc", obj.format("b1", 1) + "---\n\ufeff" + obj.format("b2", 2))
    whole("crlf", obj.format("crlf", "|\n    x\n    y").replace("\n", "\r\n"))
    whole("cr-only", obj.format("cr", 1).replace("\n", "\r"))
    whole("crlf-marker", (obj.format("cm1", 1) + "---\n" + obj.format("cm2", 2)).replace("\n", "\r\n"))
    whole("no-final-newline", obj.format("nf", "|\n    x").rstrip("\n"))
    whole("json-object", '{"apiVersion": "eksgate.test/v1", "kind": "Case", "metadata": {"name": "j"}, "spec": {"a": 1e3, "b": 0.5, "c": 10000000000000000000000}}\n')
    whole("json-stream", '{"apiVersion": "v1", "kind": "Case", "metadata": {"name": "j1"}}\n{"apiVersion": "v1", "kind": "Case", "metadata": {"name": "j2"}}\n')
    whole("json-trailing-comma", '{"apiVersion": "v1", "kind": "Case", "metadata": {"name": "jt"},}\n')
    whole("json-duplicate", '{"apiVersion": "v1", "kind": "Case", "metadata": {"name": "jd"}, "spec": {"a": 1, "a": 2}}\n')
    whole("json-yaml-flow", "{apiVersion: v1, kind: Case, metadata: {name: jf}}\n")
    whole("json-leading-space", '  \n {"apiVersion": "v1", "kind": "Case", "metadata": {"name": "jl"}}\n')
    whole("json-then-yaml", '{"apiVersion": "v1", "kind": "Case", "metadata": {"name": "jy"}}\n---\nb: 1\n')
    return cases


def wrap(name, text):
    lines = []
    for line in text.splitlines(keepends=True):
        lines.append(line if line.strip("\r\n") == "" else "    " + line)
    inner = "".join(lines)
    if inner and not inner.endswith(("\n", "\r")):
        inner += "\n"
    return f"apiVersion: eksgate.test/v1\nkind: Case\nmetadata:\n  name: {name}\nspec:\n  value:\n{inner}"


def corpus():
    """(case id, file name, text, mode) for every file of the test."""
    files = []
    with open(os.path.join(DATA, "yaml-test-suite.jsonl"), encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            cid = "yts-" + case["id"].replace("/", "-")
            files.append((cid + "/raw", case["yaml"]))
            files.append((cid + "/wrapped", wrap("c-" + cid.lower(), case["yaml"])))
    for cid, text, is_whole in generated():
        cid = "gen-" + cid
        if is_whole:
            files.append((cid + "/file", text))
        else:
            files.append((cid + "/wrapped", wrap("c-" + cid.lower(), text)))
            files.append((cid + "/raw", text))
    return files


def type_of(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def normalize(value):
    """Numbers as Kubernetes' unstructured JSON holds them (above int64: a float); objects
    without the label kubectl added, and without what that label's adding created."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return float(value)
    return value


def strip_label(obj):
    obj = json.loads(json.dumps(obj))
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        labels = meta.get("labels")
        if isinstance(labels, dict):
            labels.pop(LABEL, None)
            if not labels:
                del meta["labels"]
        if not meta:
            del obj["metadata"]
    return obj


def doc_result(value):
    value = normalize(value)
    if isinstance(value, dict):
        return ["object", strip_label(value)]
    return ["type", type_of(value)]


def canon(results):
    return sorted(json.dumps(r, sort_keys=True) for r in results)


def run_kubectl(kubectl, env, paths):
    proc = subprocess.run(
        [kubectl, "label", "--local", "-o", "json"] + [a for p in paths for a in ("-f", p)] + [f"{LABEL}=x"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    objects = []
    dec = json.JSONDecoder()
    out, i = proc.stdout, 0
    while True:
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        obj, i = dec.raw_decode(out, i)
        if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            objects.extend(obj["items"])
        else:
            objects.append(obj)
    errors = {}
    last = None
    for line in proc.stderr.split("\n"):
        if not line:
            continue
        line = line.removeprefix("error: ")
        for path in paths:
            for prefix, kind in ((f"error parsing {path}: ", "parse"), (f'unable to decode "{path}": ', "decode")):
                if line.startswith(prefix):
                    last = [kind, line[len(prefix):]]
                    errors.setdefault(path, []).append(last)
                    break
            else:
                continue
            break
        else:
            if last is None:
                raise SystemExit(f"unrecognised kubectl output: {line!r}")
            # A message that spans lines (a Go error quoting text with a line break).
            last[1] += "\n" + line
    return objects, errors


def kubectl_verdicts(kubectl, env, paths):
    """Per file: {"rejected": bool, "docs": canonical results, "message": first error}."""
    verdicts = {p: {"rejected": False, "docs": [], "message": None} for p in paths}
    pending = []

    def take_errors(errors):
        for path, errs in errors.items():
            v = verdicts[path]
            for kind, message in errs:
                if kind == "parse":
                    v["rejected"] = True
                    v["message"] = message
                    continue
                marker = "Object 'Kind' is missing in '"
                if marker in message and message.endswith("'"):
                    text = message[message.index(marker) + len(marker):-1]
                    v["docs"].append(doc_result(json.loads(text)))
                elif "cannot unmarshal " in message:
                    what = message.split("cannot unmarshal ", 1)[1].split(" ", 1)[0]
                    v["docs"].append(["type", what])
                else:
                    v["docs"].append(["decode-error", message])

    # Wrapped files name their object; raw files are run in batches, and a batch that prints
    # objects (documents with `kind`) is run again one file at a time to place them.
    batch = 64
    for start in range(0, len(paths), batch):
        chunk = paths[start:start + batch]
        objects, errors = run_kubectl(kubectl, env, chunk)
        take_errors(errors)
        by_name = {}
        loose = []
        for obj in objects:
            name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
            by_name.setdefault(name, []).append(obj)
        for p in chunk:
            want = FILE_NAMES.get(p)
            if want and want in by_name:
                verdicts[p]["docs"].extend(doc_result(o) for o in by_name.pop(want))
        for objs in by_name.values():
            loose.extend(objs)
        if loose:
            pending.extend(p for p in chunk if p not in WRAPPED)
    for p in pending:
        verdicts[p] = {"rejected": False, "docs": [], "message": None}
        objects, errors = run_kubectl(kubectl, env, [p])
        take_errors(errors)
        verdicts[p]["docs"].extend(doc_result(o) for o in objects)
    for v in verdicts.values():
        v["docs"] = canon(v["docs"])
    return verdicts


FILE_NAMES = {}
WRAPPED = set()


def eksgate_verdicts(decode, paths):
    verdicts = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start:start + 500]
        proc = subprocess.run([decode] + chunk, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"decode failed: {proc.stderr}")
        for line in proc.stdout.split("\n"):
            if not line:
                continue
            row = json.loads(line)
            notes = row.get("notes", [])
            stops = [n for n in notes if n["kind"] in ("syntax", "not-json")]
            limit = min((n["document"] for n in stops), default=None)
            docs = [d["value"] for d in row.get("documents", []) if limit is None or d["index"] < limit]
            verdicts[row["file"]] = {
                "rejected": bool(stops) or "fault" in row,
                "docs": canon(doc_result(d) for d in docs),
                "message": stops[0]["message"] if stops else row.get("fault"),
            }
    return verdicts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--decode", required=True, help="the eksgate-policy `decode` example binary")
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--write-actual", help="write every disagreement found to this file")
    args = ap.parse_args()

    with open(os.path.join(DATA, "expected-disagreements.json"), encoding="utf-8") as f:
        expected = json.load(f)["disagreements"]

    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = os.path.join(tmp, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(KUBECONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env.update(KUBECONFIG=kubeconfig, HOME=tmp)
        files = corpus()
        paths, case_of = [], {}
        for i, (cid, text) in enumerate(files):
            path = os.path.join(tmp, f"{i:05}.yaml")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            paths.append(path)
            case_of[path] = cid
            if cid.endswith("/wrapped"):
                WRAPPED.add(path)
                FILE_NAMES[path] = "c-" + cid.rsplit("/", 1)[0].lower()
        theirs = kubectl_verdicts(args.kubectl, env, paths)
        ours = eksgate_verdicts(args.decode, paths)

    found = {}
    agree = 0
    for path in paths:
        k, e = theirs[path], ours[path]
        if k["rejected"] == e["rejected"] and k["docs"] == e["docs"]:
            agree += 1
            continue
        found[case_of[path]] = {
            "kubectl": "rejects: " + (k["message"] or "") if k["rejected"] else "accepts",
            "eksgate": "rejects: " + (e["message"] or "") if e["rejected"] else "accepts",
            "values_differ": k["docs"] != e["docs"],
            "kubectl_docs": k["docs"],
            "eksgate_docs": e["docs"],
        }
    suite = sum(1 for c, _ in files if c.startswith("yts-")) // 2
    gen = len({c.rsplit("/", 1)[0] for c, _ in files if c.startswith("gen-")})
    print(f"yaml differential: {suite} yaml-test-suite cases and {gen} generated cases, "
          f"{len(files)} files; kubectl and eksgate agree on {agree}, "
          f"{len(found)} disagreements ({sum(1 for c in found if c in expected)} recorded)")
    if args.write_actual:
        with open(args.write_actual, "w", encoding="utf-8") as f:
            json.dump(found, f, indent=2, ensure_ascii=False, sort_keys=True)
    new = sorted(c for c in found if c not in expected)
    # A nondeterministic record (Go's map order decides kubectl's answer) may agree on a run.
    stale = sorted(c for c in expected if c not in found and not expected[c].get("nondeterministic"))
    for c in new:
        print(f"NEW DISAGREEMENT {c}: {json.dumps(found[c], ensure_ascii=False)}")
    for c in stale:
        print(f"STALE RECORD {c}: kubectl and eksgate now agree; remove it from expected-disagreements.json")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())

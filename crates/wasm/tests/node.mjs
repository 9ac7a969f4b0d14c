// Runs a CEL rule through the WebAssembly build under node: the built-in CEL001 checks and a
// custom CEL rule of a policy. Built by scripts/test.sh:
//   cargo build -p eksgate-wasm --target wasm32-unknown-unknown --release
//   wasm-bindgen --target nodejs --out-dir target/wasm-pkg target/wasm32-unknown-unknown/release/eksgate_wasm.wasm
// Run: node --test crates/wasm/tests/node.mjs  (EKSGATE_WASM_PKG overrides the package path)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.EKSGATE_WASM_PKG ?? path.join(here, "../../../target/wasm-pkg");
const eksgate = createRequire(import.meta.url)(path.join(pkg, "eksgate_wasm.js"));

const POOL = `apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: apps
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
      requirements:
        - key: karpenter.sh/capacity-types
          operator: In
          values: [spot]
`;

const POLICY = `apiVersion: eksgate.dev/v1alpha1
kind: Policy
metadata: {name: custom}
spec:
  rules:
    - id: ACME001
      match: {kinds: [NodePool]}
      expression: >-
        object.spec.template.spec.requirements.exists(r,
          r.key == 'karpenter.k8s.aws/instance-generation')
      message: NodePools must pin the instance generation
`;

test("a built-in CRD rule (CEL001) runs in the WASM build", () => {
  const report = JSON.parse(eksgate.check(POOL));
  assert.equal(report.version, 1);
  const cel = report.diagnostics.filter((d) => d.rule === "CEL001");
  assert.equal(cel.length, 1, JSON.stringify(report.diagnostics));
  assert.equal(cel[0].line, 10);
  assert.equal(cel[0].path, "/spec/template/spec/requirements/0/key");
  assert.match(cel[0].message, /karpenter\.sh/);
});

test("a custom CEL rule of the policy runs in the WASM build", () => {
  const report = JSON.parse(eksgate.check(POOL, POLICY));
  const custom = report.diagnostics.filter((d) => d.rule === "ACME001");
  assert.equal(custom.length, 1, JSON.stringify(report.diagnostics));
  assert.equal(custom[0].message, "NodePools must pin the instance generation");
  assert.equal(custom[0].severity, "error");
});

test("bad CEL in the policy is an error with its position", () => {
  const bad = POLICY.replace("r.key ==", "r.key == )");
  const out = JSON.parse(eksgate.check(POOL, bad));
  assert.equal(out.error.file, "policy.yaml");
  assert.equal(out.error.line, 10);
  assert.match(out.error.message, /invalid CEL expression/);
});

test("rules() lists the registry", () => {
  const rules = JSON.parse(eksgate.rules());
  assert.ok(rules.some((r) => r.id === "CEL001"));
  assert.ok(eksgate.version().length > 0);
});

// The engine's deepest CEL tree (cel/program.rs MAX_DEPTH, 128 levels) evaluates within the
// module's stack, and deeper ones of every shape are refused with a message, not a trap.
test("CEL nested to the limit evaluates; deeper is a policy error, not a trap", () => {
  const policy = (expression) => POLICY.replace(
    /expression: >-\n.*\n.*\n/,
    `expression: ${JSON.stringify(expression)}\n`,
  );
  const deepest = Array(127).fill("1").join(" + ") + " < 0";
  const report = JSON.parse(eksgate.check(POOL, policy(deepest)));
  assert.equal(report.error, undefined, JSON.stringify(report.error));
  assert.equal(report.diagnostics.filter((d) => d.rule === "ACME001").length, 1);
  for (const deeper of [
    Array(129).fill("1").join(" + ") + " < 0",
    "object" + ".f()".repeat(20000) + " == 1",
    "[".repeat(5000) + "1" + "]".repeat(5000) + " == []",
    "-".repeat(50000) + "1 > 0",
  ]) {
    const out = JSON.parse(eksgate.check(POOL, policy(deeper)));
    assert.match(out.error.message, /nests deeper than 128 levels/);
  }
  // Long chains of `||` are built balanced: 20,000 terms are shallow.
  const wide = JSON.parse(eksgate.check(POOL, policy(Array(20000).fill("false").join(" || "))));
  assert.equal(wide.diagnostics.filter((d) => d.rule === "ACME001").length, 1);
});

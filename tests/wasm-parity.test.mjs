// Parity: every rule fixture and every example through the native CLI
// (`eksgate check --format json`) and through the WASM build under node (`check(files)`),
// with byte-identical JSON reports. Both get the same files, in the same order, under the same
// names (paths relative to the repository root, as the CLI prints them), and the same policy.
// The WASM side gets each file's raw bytes, as the CLI reads them. A case is one file directly
// in a fixture's fail/ or pass/ folder, or one case folder (with its policy.yaml, if any), or
// one folder of examples/.
// Run by scripts/test.sh: EKSGATE_BIN=path/to/eksgate EKSGATE_WASM_PKG=target/wasm-pkg node --test
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = path.resolve(root, process.env.EKSGATE_WASM_PKG ?? "target/wasm-pkg");
const bin = process.env.EKSGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "debug/eksgate");
const eksgate = createRequire(import.meta.url)(path.join(pkg, "node/eksgate_wasm.js"));
const EXT = /\.(ya?ml|json|tf)$/;

/** Files of a folder the way the CLI walks it: sorted, manifests only, no policy.yaml. */
function walk(dir) {
  const out = [];
  for (const name of readdirSync(path.join(root, dir)).sort()) {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...walk(rel));
    else if (EXT.test(name) && name !== "policy.yaml") out.push(rel);
  }
  return out;
}

function cases() {
  const list = [];
  const fixtures = "crates/policy/tests/fixtures";
  for (const rule of readdirSync(path.join(root, fixtures)).sort()) {
    for (const verdict of ["fail", "pass"]) {
      const dir = path.posix.join(fixtures, rule, verdict);
      if (!existsSync(path.join(root, dir))) continue;
      for (const name of readdirSync(path.join(root, dir)).sort()) {
        const rel = path.posix.join(dir, name);
        if (statSync(path.join(root, rel)).isDirectory()) {
          const policy = path.posix.join(rel, "policy.yaml");
          list.push({ name: rel, files: walk(rel), policy: existsSync(path.join(root, policy)) ? policy : null });
        } else if (EXT.test(name)) {
          list.push({ name: rel, files: [rel], policy: null });
        }
      }
    }
  }
  for (const name of readdirSync(path.join(root, "examples")).sort()) {
    const rel = path.posix.join("examples", name);
    if (statSync(path.join(root, rel)).isDirectory()) list.push({ name: rel, files: walk(rel), policy: null });
  }
  return list.filter((c) => c.files.length > 0);
}

function cli(c) {
  const args = ["check", "--format", "json", ...(c.policy ? ["--policy", c.policy] : []), ...c.files];
  try {
    return execFileSync(bin, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (e.status === 1) return e.stdout; // findings at or above --fail-on: still the report
    throw new Error(`eksgate ${args.join(" ")} exited ${e.status}: ${e.stderr}`);
  }
}

const all = cases();

test("there are cases: fixtures and examples", () => {
  assert.ok(all.length > 100, `only ${all.length} cases`);
  assert.ok(all.some((c) => c.name.startsWith("examples/")));
});

for (const c of all) {
  test(`parity: ${c.name}`, () => {
    const files = c.files.map((name) => ({ name, bytes: new Uint8Array(readFileSync(path.join(root, name))) }));
    const policy = c.policy ? readFileSync(path.join(root, c.policy), "utf8") : undefined;
    const wasm = eksgate.check(files, policy);
    assert.equal(wasm, cli(c));
  });
}

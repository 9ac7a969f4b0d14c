// The page in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core), served
// by `python3 -m http.server` from web/ as a user would. Built first by scripts/build-wasm.sh
// and `node web/build.mjs`; run by scripts/test.sh (EKSGATE_BIN = the CLI for the render
// comparison). Screenshots go to tests/artifacts/ (and docs/web.png with EKSGATE_SCREENSHOT=1).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { unzipSync, strFromU8 } from "fflate";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = process.env.EKSGATE_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "debug/eksgate");
const artifacts = path.join(root, "tests/artifacts");
mkdirSync(artifacts, { recursive: true });

let server;
let browser;
let page;
let base;
const consoleErrors = [];

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  server = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1"], {
    cwd: path.join(root, "web"),
    stdio: "ignore",
  });
  base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  await page.waitForSelector("[role=tab]", { timeout: 15000 });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

const errorOf = (id) => page.locator(`#${id}-error`);

async function typeInto(selector, text) {
  await page.fill(selector, text);
}

async function setEditor(text) {
  await page.evaluate((t) => {
    const v = window.eksgateEditor;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: t } });
  }, text);
}

test("every field has a visible label with its name", async () => {
  for (const name of ["Client name", "Environment", "Region", "Kubernetes version", "Mode", "Cost centre", "Team", "Client id", "KMS key ARN", "IMDS hop limit"]) {
    const label = page.locator("label", { hasText: new RegExp(`^${name}$`) }).first();
    assert.ok(await label.isVisible(), name);
    const control = page.getByLabel(name, { exact: true }).first();
    assert.ok(await control.isVisible(), `${name} names a control`);
  }
});

test("an invalid client name shows its error under the field and clears when fixed", async () => {
  await typeInto("#f-client", "Acme_Corp");
  await page.waitForFunction(() => document.querySelector("#f-client-error")?.textContent.length > 0);
  assert.equal(await page.getAttribute("#f-client", "aria-invalid"), "true");
  assert.match(await page.getAttribute("#f-client", "aria-describedby"), /f-client-error/);
  assert.match(await errorOf("f-client").textContent(), /Acme_Corp|DNS/i);
  await page.screenshot({ path: path.join(artifacts, "invalid-client-name.png") });
  await typeInto("#f-client", "acme");
  await page.waitForFunction(() => document.querySelector("#f-client-error")?.textContent === "");
  assert.equal(await page.getAttribute("#f-client", "aria-invalid"), null);
});

test("a Spot-only infrastructure pool is refused with the policy's message", async () => {
  const box = (v) => `#infra-capacityTypes input[value="${v}"]`;
  await page.uncheck(box("on-demand"));
  await page.check(box("spot"));
  await page.waitForFunction(() => document.querySelector("#infra-capacityTypes-error")?.textContent.length > 0);
  const message = await errorOf("infra-capacityTypes").textContent();
  // The policy's own message (SEP003's, carried back to the request's field), and the render
  // refused: no file tabs while the request has the error.
  assert.match(message, /spot/i);
  assert.match(message, /the policy allows only `on-demand`/);
  assert.match(message, /\(SEP003\)/);
  await page.waitForFunction(() => /fix them to render/.test(document.querySelector("#render-message")?.textContent ?? ""));
  assert.equal(await page.locator("[role=tab]").count(), 0);
  await page.screenshot({ path: path.join(artifacts, "spot-infra-refused.png") });
  await page.check(box("on-demand"));
  await page.uncheck(box("spot"));
  await page.waitForFunction(() => document.querySelector("#infra-capacityTypes-error")?.textContent === "");
});

test("a valid request renders the infra taint and billing tags, and downloads match eksgate render byte for byte", async () => {
  await page.waitForFunction(() => document.querySelectorAll("[role=tab]").length > 3);
  const href = await page.getAttribute("#open-pr", "href");
  const url = new URL(href);
  assert.equal(url.origin + url.pathname, "https://github.com/eksgate/fleet/new/main");
  assert.equal(url.searchParams.get("filename"), "clusters/acme.yaml");
  const request = url.searchParams.get("value");
  assert.match(request, /kind: ClusterRequest/);

  const dir = mkdtempSync(path.join(os.tmpdir(), "eksgate-web-"));
  writeFileSync(path.join(dir, "acme.yaml"), request);
  execFileSync(bin, ["render", path.join(dir, "acme.yaml"), "-o", path.join(dir, "out")], { stdio: "pipe" });
  const expected = {};
  const walk = (d, prefix = "") => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${n}/`);
      else expected[`${prefix}${n}`] = readFileSync(p, "utf8");
    }
  };
  walk(path.join(dir, "out"));

  const tabs = await page.locator("[role=tab]").allTextContents();
  assert.deepEqual([...tabs].sort(), Object.keys(expected).sort());
  const all = (await page.locator("[role=tabpanel] pre").allTextContents()).join("\n");
  assert.match(all, /workload-type/);
  assert.match(all, /NoSchedule/);
  assert.match(all, /cost-center/);
  assert.match(all, /client-id/);

  for (let i = 0; i < tabs.length; i++) {
    await page.click(`#file-tab-${i}`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(`#file-panel-${i} a.download`)]);
    const got = readFileSync(await download.path(), "utf8");
    assert.equal(got, expected[tabs[i]], tabs[i]);
  }
  const [zip] = await Promise.all([page.waitForEvent("download"), page.click("#download-zip")]);
  const entries = unzipSync(new Uint8Array(readFileSync(await zip.path())));
  assert.deepEqual(Object.keys(entries).sort(), Object.keys(expected).sort());
  for (const [name, bytes] of Object.entries(entries)) assert.equal(strFromU8(bytes), expected[name], name);
  assert.match(await page.textContent("#spend-total"), /\$[\d,]+/);
  await page.screenshot({ path: path.join(artifacts, "rendered.png"), fullPage: true });
});

const NODECLASS = `apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: apps
spec:
  metadataOptions:
    httpTokens: optional
`;

test("pasting an EC2NodeClass with httpTokens: optional marks that line with IMDS001", async () => {
  await page.click(".cm-content");
  await page.keyboard.insertText(NODECLASS);
  const item = page.locator("#findings li", { hasText: "IMDS001" }).first();
  await item.waitFor({ timeout: 10000 });
  assert.match(await item.textContent(), /^editor\.yaml:7:\d+ error IMDS001/);
  // The squiggle sits on line 7, on the value.
  const marked = await page.locator(".cm-line").nth(6).locator(".cm-lintRange-error").allTextContents();
  assert.ok(marked.join("").includes("optional"), JSON.stringify(marked));
  await page.locator(".cm-lintRange-error", { hasText: "optional" }).hover();
  await page.waitForSelector(".cm-tooltip-lint");
  assert.match(await page.textContent(".cm-tooltip-lint"), /IMDS001/);
  await page.screenshot({ path: path.join(artifacts, "check-imds001.png"), fullPage: true });
  if (process.env.EKSGATE_SCREENSHOT) await page.screenshot({ path: path.join(root, "docs/web.png"), fullPage: true });
  // The list jumps to the line.
  await item.locator("button").click();
  const line = await page.evaluate(() => {
    const v = window.eksgateEditor;
    return v.state.doc.lineAt(v.state.selection.main.head).number;
  });
  assert.equal(line, 7);
});

test("a custom policy changes the verdict", async () => {
  const policy = readFileSync(path.join(root, "policies/default.yaml"), "utf8") + "  overrides:\n    IMDS001: {severity: warning}\n";
  await page.selectOption("#policy-choice", "custom");
  await page.fill("#policy-text", policy);
  await page.waitForFunction(() => /your policy/.test(document.querySelector("#policy-message").textContent));
  const item = page.locator("#findings li", { hasText: "IMDS001" }).first();
  await page.waitForFunction(() => /warning IMDS001/.test(document.querySelector("#findings").textContent));
  assert.match(await item.textContent(), /warning IMDS001/);
  await page.selectOption("#policy-choice", "default");
  await page.waitForFunction(() => /error IMDS001/.test(document.querySelector("#findings").textContent));
});

async function responsive() {
  const start = Date.now();
  await page.evaluate(() => 1);
  await typeInto("#f-team", "development");
  assert.ok(Date.now() - start < 1000, "the page answers");
}

test("a broken policy gives a clear message and the previous policy stays", async () => {
  await page.selectOption("#policy-choice", "custom");
  await page.fill("#policy-text", "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  overrides:\n    IMDS009: {severity: warning}\n");
  await page.waitForFunction(() => /cannot be used/.test(document.querySelector("#policy-message").textContent));
  assert.match(await page.textContent("#policy-message"), /policy\.yaml:5:\d+/);
  await responsive();
  await page.selectOption("#policy-choice", "default");
});

test("an alias bomb is a finding, not a hang", async () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  await setEditor(bomb.join("\n") + "\n");
  await page.waitForFunction(() => /YAML\d{3}/.test(document.querySelector("#findings").textContent), null, { timeout: 10000 });
  assert.match(await page.textContent("#findings"), /alias/i);
  await responsive();
});

test("a 5 MB paste gives a clear message and the page stays responsive", async () => {
  const big = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "  k: " + "v".repeat(5 * 1024 * 1024) + "\n";
  await setEditor(big);
  await page.waitForFunction(() => /MB/.test(document.querySelector("#check-message").textContent), null, { timeout: 10000 });
  assert.match(await page.textContent("#check-message"), /5\.0 MB.*eksgate check/);
  await responsive();
  await setEditor(NODECLASS);
  await page.waitForFunction(() => /IMDS001/.test(document.querySelector("#findings").textContent));
});

test("an upload that is not UTF-8 gives a clear message", async () => {
  await page.setInputFiles("#check-files", [
    { name: "bad.yaml", mimeType: "text/yaml", buffer: Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) },
    { name: "good.yaml", mimeType: "text/yaml", buffer: Buffer.from(NODECLASS) },
  ]);
  await page.waitForFunction(() => /not UTF-8/.test(document.querySelector("#check-message").textContent), null, { timeout: 10000 });
  assert.match(await page.textContent("#check-message"), /bad\.yaml is not UTF-8 text \(invalid byte at offset 3\)/);
  await page.waitForFunction(() => /bad\.yaml:1:\d+ error YAML001/.test(document.querySelector("#findings").textContent));
  await page.screenshot({ path: path.join(artifacts, "hostile-input.png"), fullPage: true });
  await responsive();
});

test("the page logged no console errors", () => {
  assert.deepEqual(consoleErrors, []);
});

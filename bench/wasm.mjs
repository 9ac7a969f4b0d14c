// The WASM build's size (raw, gzip -9, brotli) and, measured in Chromium on the page, the
// engine time of one form change (the quick check as you type, validateFields; then the policy's
// verdict, render, after the pause) and of checking a 500-line manifest. Engine
// time = the call into WASM inside the worker (web/src/worker.js), median of the runs.
// Targets (issue 10): <= 700 KB gzip; form change < 1 ms median; 500-line manifest < 5 ms.
// Run: bash scripts/build-wasm.sh && node web/build.mjs && node bench/wasm.mjs [--json out.json]
import { readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import zlib from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wasm = readFileSync(path.join(root, "web/pkg/eksgate_wasm_bg.wasm"));
const size = {
  raw: wasm.length,
  gzip9: zlib.gzipSync(wasm, { level: 9 }).length,
  brotli: zlib.brotliCompressSync(wasm, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
};

function manifest(lines) {
  const docs = [];
  let n = 0;
  for (let i = 0; n < lines; i++) {
    const doc = `apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: class-${i}
spec:
  role: KarpenterNodeRole
  amiSelectorTerms:
    - alias: al2023@latest
  subnetSelectorTerms:
    - tags: {karpenter.sh/discovery: acme}
  securityGroupSelectorTerms:
    - tags: {karpenter.sh/discovery: acme}
  metadataOptions:
    httpTokens: required
    httpPutResponseHopLimit: 1
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs: {volumeSize: 50Gi, volumeType: gp3, encrypted: true}
  tags:
    cost-center: client-projects
    billing-team: development
---
`;
    docs.push(doc);
    n += doc.split("\n").length - 1;
  }
  return docs.join("").split("\n").slice(0, lines).join("\n") + "\n";
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const port = 8700 + Math.floor(Math.random() * 200);
const server = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1"], { cwd: path.join(root, "web"), stdio: "ignore" });
await new Promise((r) => setTimeout(r, 800));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  await page.waitForFunction(() => window.eksgateTimings.validate.length > 0 && window.eksgateTimings.render.length > 0, null, { timeout: 30000 });
  const RUNS = 30;
  for (let i = 0; i < RUNS; i++) {
    // Each change: the quick check (validateFields) as you type, then the verdict (render)
    // after the pause; wait for both so that every change gets its verdict.
    const before = await page.evaluate(() => [window.eksgateTimings.validate.length, window.eksgateTimings.render.length]);
    await page.fill("#f-team", `team-${i % 2 ? "a" : "b"}`);
    await page.waitForFunction(([v, r]) => window.eksgateTimings.validate.length > v && window.eksgateTimings.render.length > r, before);
  }
  const validate = (await page.evaluate(() => window.eksgateTimings.validate)).slice(-RUNS);
  const verdict = (await page.evaluate(() => window.eksgateTimings.render)).slice(-RUNS);
  // A change that renders: a valid request whose CPU limit alternates (new files every time).
  await page.fill("#f-team", "development");
  await page.waitForFunction(() => document.querySelectorAll("[role=tab]").length > 3, null, { timeout: 30000 });
  const cpu = page.locator("#infra-cpu");
  const renders = [];
  for (let i = 0; i < RUNS && (await cpu.count()) > 0; i++) {
    const before = await page.evaluate(() => window.eksgateTimings.render.length);
    await cpu.fill(String(60 + (i % 2)));
    await page.waitForFunction((b) => window.eksgateTimings.render.length > b, before);
    renders.push(await page.evaluate(() => window.eksgateTimings.render.at(-1)));
  }
  const text = manifest(500);
  for (let i = 0; i < RUNS; i++) {
    const before = await page.evaluate(() => window.eksgateTimings.check.length);
    await page.evaluate((t) => {
      const v = window.eksgateEditor;
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: t } });
    }, text + `# run ${i}\n`);
    await page.waitForFunction((b) => window.eksgateTimings.check.length > b, before);
  }
  const check = (await page.evaluate(() => window.eksgateTimings.check)).slice(-RUNS);
  const result = {
    size,
    // The quick check of a change (validateFields: the request's reader, no render).
    formChangeMs: { median: median(validate), max: Math.max(...validate), runs: validate.length },
    // The policy's verdict on a change that leaves an error (render stops before the files).
    verdictMs: { median: median(verdict), max: Math.max(...verdict), runs: verdict.length },
    // The verdict and the files of a change to a valid request (render).
    renderMs: renders.length ? { median: median(renders), max: Math.max(...renders), runs: renders.length } : null,
    manifest500Ms: { median: median(check), max: Math.max(...check), runs: check.length, lines: text.split("\n").length - 1 },
    chromium: browser.version(),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = process.argv.indexOf("--json");
  if (out > 0) writeFileSync(process.argv[out + 1], JSON.stringify(result, null, 2) + "\n");
} finally {
  await browser.close();
  server.kill();
}

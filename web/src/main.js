// The page: the request form (validated as you type), the rendered files, the spend ceiling,
// the pull-request link, the manifest checker and the policy picker. The engine runs in a
// worker (engine.js); everything here only moves text and draws results.
import { Engine } from "./engine.js";
import { CLIENT_DEFAULTS, INFRA_DEFAULTS, poolFields, readRequest } from "./request.js";
import { createChecker } from "./checker.js";
import { showFiles } from "./files.js";

const $ = (id) => document.getElementById(id);
const engine = new Engine(new URL("./worker.js", import.meta.url));
/** The policy in force: null = the default one; only a policy the engine accepted. */
let policy = null;
let features = { validateRequest: false, render: false };
// Measured engine times, read by bench/ and the tests.
window.eksgateTimings = { validate: [], render: [], check: [] };

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Text of a report's error (a policy the engine could not use). */
function policyError(error) {
  return `${error.file}:${error.line}:${error.column}: ${error.message}`;
}

// ---- the request form -------------------------------------------------------------------

const form = $("request-form");
$("infra-pool").innerHTML = poolFields("infra", "/spec/infraPool", "infra", INFRA_DEFAULTS);
let pools = 0;
function addPool() {
  const index = pools++;
  const div = document.createElement("div");
  div.className = "pool";
  div.dataset.clientPool = "";
  const n = document.querySelectorAll("[data-client-pool]").length;
  div.innerHTML = `<h3>Client pool ${n + 1}</h3>${poolFields(`pool${index}`, `/spec/clientPools/${n}`, "client", {
    ...CLIENT_DEFAULTS,
    name: n === 0 ? "web" : `pool-${n + 1}`,
  })}${n > 0 ? '<button type="button" class="remove-pool">Remove this pool</button>' : ""}`;
  $("client-pools").append(div);
  div.querySelector(".remove-pool")?.addEventListener("click", () => {
    div.remove();
    renumberPools();
    formChanged();
  });
}
function renumberPools() {
  document.querySelectorAll("[data-client-pool]").forEach((pool, n) => {
    pool.querySelector("h3").textContent = `Client pool ${n + 1}`;
    pool.querySelectorAll("[data-pointer]").forEach((el) => {
      el.dataset.pointer = el.dataset.pointer.replace(/^\/spec\/clientPools\/\d+/, `/spec/clientPools/${n}`);
    });
  });
}
addPool();
$("add-pool").addEventListener("click", () => {
  addPool();
  formChanged();
});

// Every field gets an error slot under it, tied to the control by aria-describedby.
function prepareField(field) {
  const control = field.matches("fieldset") ? field : field.querySelector("input, select, textarea");
  if (!control || field.querySelector(".error")) return;
  const id = `${control.id || field.id}-error`;
  const error = document.createElement("p");
  error.className = "error";
  error.id = id;
  field.append(error);
  const hint = field.querySelector(".hint");
  const targets = field.matches("fieldset") ? [...field.querySelectorAll("input")] : [control];
  for (const t of targets) t.setAttribute("aria-describedby", [hint?.id, id].filter(Boolean).join(" "));
}

/** The field that answers for a finding's JSON pointer: the longest prefix that has one. */
function fieldFor(pointer) {
  let best = null;
  for (const el of form.querySelectorAll("[data-pointer]")) {
    const p = el.dataset.pointer;
    if ((pointer === p || pointer.startsWith(`${p}/`)) && (!best || p.length > best.dataset.pointer.length)) best = el;
  }
  return best?.closest("[data-field]") ?? null;
}

function showFieldFindings(findings) {
  form.querySelectorAll("[data-field]").forEach(prepareField);
  const byField = new Map();
  const general = [];
  for (const f of findings) {
    const field = fieldFor(f.pointer ?? "");
    if (field) byField.set(field, [...(byField.get(field) ?? []), f]);
    else general.push(f);
  }
  for (const field of form.querySelectorAll("[data-field]")) {
    const list = byField.get(field) ?? [];
    const error = field.querySelector(":scope > .error");
    error.textContent = list.map((f) => `${f.message}${f.rule ? ` (${f.rule})` : ""}`).join(" · ");
    error.classList.toggle("warning", list.length > 0 && list.every((f) => f.severity !== "error"));
    const invalid = list.some((f) => f.severity === "error");
    const controls = field.matches("fieldset") ? field.querySelectorAll("input") : [field.querySelector("input, select")];
    for (const c of controls) {
      if (invalid) c.setAttribute("aria-invalid", "true");
      else c.removeAttribute("aria-invalid");
    }
  }
  const message = $("request-message");
  message.textContent = general.map((f) => `${f.pointer || "request"}: ${f.message}${f.rule ? ` (${f.rule})` : ""}`).join("\n");
  message.className = general.length ? "message error" : "message";
}

// Two checks per change. As you type (60 ms after the last key): `validateFields`, the
// request reader's findings (REQ001: schema, DNS labels, ARNs, limits), with no render, so it
// stays well under a millisecond. After a pause (250 ms): `render`, the policy's full verdict
// (the rendered set checked, its findings carried back to the fields, as `validateRequest`
// gives them) and, when the request has no error, the files. Until the next verdict the
// policy's findings of the last one stay under their fields. `eksgateTimings.validate` holds
// the quick checks' engine times, `eksgateTimings.render` the verdicts'.
let formRun = 0;
let quickRun = 0;
/** The last verdict's findings that the quick check does not give (the policy's). */
let policyFindings = [];
const READER_RULES = new Set(["REQ001", "YAML001"]);

function withErrors(value) {
  const findings = [...(value.findings ?? [])];
  for (const e of value.errors ?? []) {
    findings.push({ pointer: e.pointer, severity: "error", message: `${e.source} ${e.line}:${e.column}: ${e.message}` });
  }
  return findings;
}

async function quickCheck() {
  if (!features.validateFields) return;
  const run = ++quickRun;
  const { text, client } = readRequest(form);
  updatePullRequest(text, client);
  try {
    const { value, ms } = await engine.call("validateFields", { text, policy });
    window.eksgateTimings.validate.push(ms);
    if (run !== quickRun) return;
    showFieldFindings([...withErrors(value), ...policyFindings]);
  } catch {
    // The verdict that follows reports what went wrong.
  }
}

async function validateForm() {
  const run = ++formRun;
  const { text, client } = readRequest(form);
  updatePullRequest(text, client);
  if (!features.validateRequest) {
    showFiles($("files"), [{ name: `clusters/${client || "request"}.yaml`, content: text }]);
    $("render-message").textContent = `This engine build (eksgate-wasm ${features.version ?? "?"}) cannot validate or render requests yet; the request file is shown as typed.`;
    return;
  }
  try {
    // One engine call: `render` judges the request as `validateRequest` does (the same
    // findings and errors) and, when it has no error, renders it too.
    const op = features.render ? "render" : "validateRequest";
    const { value, ms } = await engine.call(op, { text, policy });
    if (op === "render") window.eksgateTimings.render.push(ms);
    else window.eksgateTimings.validate.push(ms);
    if (run !== formRun) return;
    const findings = withErrors(value);
    policyFindings = (value.findings ?? []).filter((f) => !READER_RULES.has(f.rule));
    showFieldFindings(findings);
    const errors = findings.filter((f) => f.severity === "error").length;
    if (errors > 0 || !features.render) {
      $("render-message").textContent = errors > 0 ? `The request has ${errors} error${errors === 1 ? "" : "s"}; fix them to render the cluster.` : "";
      if (errors > 0) clearOutput();
      return;
    }
    showRender(value, text, client);
  } catch (e) {
    if (run === formRun) $("render-message").textContent = `The engine could not check the request: ${e.message}`;
  }
}
const fieldsChanged = debounce(quickCheck, 60);
const verdictDue = debounce(validateForm, 250);
const formChanged = () => {
  fieldsChanged();
  verdictDue();
};
form.addEventListener("input", formChanged);
form.addEventListener("change", formChanged);

function clearOutput() {
  showFiles($("files"), []);
  $("spend").replaceChildren();
  $("download-zip").disabled = true;
}

function showRender(value, text, client) {
  if (value.error) {
    $("render-message").textContent = `The request could not be rendered: ${value.error.message ?? JSON.stringify(value.error)}`;
    clearOutput();
    return;
  }
  const report = value.report ?? {};
  const errors = report.summary?.errors ?? 0;
  $("render-message").textContent = errors
    ? `The rendered files have ${errors} finding${errors === 1 ? "" : "s"} under this policy (a bug: please report it).`
    : `Rendered ${value.files.length} files; they pass eksgate check under this policy.`;
  showFiles($("files"), value.files, { zipName: `${client || "cluster"}.zip` });
  showSpend(value.spend);
}

function money(n) {
  return typeof n === "number" ? `$${n.toLocaleString("en-US", { maximumFractionDigits: 0 })}` : String(n ?? "?");
}

function showSpend(spend) {
  const root = $("spend");
  root.replaceChildren();
  if (!spend) return;
  const h = document.createElement("h3");
  h.textContent = "Spend ceiling (worst case per month, not a forecast)";
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th scope=col>Pool</th><th scope=col>Capacity</th><th scope=col>CPU limit</th><th scope=col>Ceiling / month</th></tr></thead>";
  const body = table.createTBody();
  for (const pool of spend.pools ?? []) {
    const row = body.insertRow();
    const cells = [
      pool.name ?? pool.pool,
      pool.capacityType ?? (pool.capacityTypes ?? []).join(", "),
      pool.cpuLimit ?? "",
      money(pool.monthlyCeilingUsd),
    ];
    for (const c of cells) row.insertCell().textContent = String(c ?? "");
  }
  const foot = table.createTFoot().insertRow();
  foot.insertCell().textContent = "Total";
  foot.insertCell();
  foot.insertCell();
  foot.insertCell().textContent = money(spend.totalMonthlyCeilingUsd);
  foot.id = "spend-total";
  const source = document.createElement("p");
  source.className = "hint";
  source.textContent = `A pool's limits bound what it can spend: each CPU limit priced at the most a vCPU of its capacity type costs. Prices: ${spend.priceSource ?? "?"} (${spend.priceDate ?? "?"}).`;
  root.append(h, table, source);
}

function updatePullRequest(text, client) {
  const link = $("open-pr");
  const repo = $("pr-repo").value.trim();
  const branch = $("pr-branch").value.trim() || "main";
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo) || !client) {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    return;
  }
  const query = new URLSearchParams({ filename: `clusters/${client}.yaml`, value: text });
  link.href = `https://github.com/${repo}/new/${encodeURIComponent(branch)}?${query}`;
  link.setAttribute("aria-disabled", "false");
}
$("pr-repo").addEventListener("input", formChanged);
$("pr-branch").addEventListener("input", formChanged);

// ---- the policy picker ------------------------------------------------------------------

async function choosePolicy(text) {
  const message = $("policy-message");
  if (text === null) {
    policy = null;
    message.textContent = "Using eksgate's default policy.";
    message.className = "message";
  } else {
    try {
      const { value } = await engine.call("check", { files: [], policy: text });
      if (value.error) {
        message.textContent = `This policy cannot be used, so the ${policy === null ? "default policy" : "previous policy"} stays in force: ${policyError(value.error)}`;
        message.className = "message error";
        return;
      }
      policy = text;
      message.textContent = "Using your policy.";
      message.className = "message";
    } catch (e) {
      message.textContent = `The policy could not be read: ${e.message}`;
      message.className = "message error";
      return;
    }
  }
  validateForm();
  checker.recheck();
}

$("policy-choice").addEventListener("change", () => {
  const custom = $("policy-choice").value === "custom";
  $("policy-custom").hidden = !custom;
  choosePolicy(custom ? $("policy-text").value : null);
});
$("policy-text").addEventListener(
  "input",
  debounce(() => choosePolicy($("policy-text").value), 250),
);

/** A file's text, or a message saying why it is not UTF-8 text. */
export async function readText(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), bytes };
  } catch {
    let offset = 0;
    // The first byte where decoding fails: decode growing prefixes until one fails.
    for (let step = 1 << 20; step > 0; step >>= 1) {
      while (offset + step <= bytes.length) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, offset + step), { stream: true });
          offset += step;
        } catch {
          break;
        }
      }
    }
    return { error: `${file.name} is not UTF-8 text (invalid byte at offset ${offset})`, bytes };
  }
}

$("policy-file").addEventListener("change", async () => {
  const file = $("policy-file").files[0];
  if (!file) return;
  const read = await readText(file);
  $("policy-choice").value = "custom";
  $("policy-custom").hidden = false;
  if (read.error) {
    $("policy-message").textContent = `This policy cannot be used: ${read.error}.`;
    $("policy-message").className = "message error";
    return;
  }
  $("policy-text").value = read.text;
  choosePolicy(read.text);
});

// ---- the manifest checker ---------------------------------------------------------------

const checker = createChecker({
  parent: $("editor"),
  list: $("findings"),
  summary: $("check-summary"),
  message: $("check-message"),
  check: async (files) => {
    const { value, ms } = await engine.call("check", { files, policy });
    window.eksgateTimings.check.push(ms);
    return value;
  },
  readText,
});
window.eksgateEditor = checker.view;
$("check-files").addEventListener("change", () => checker.openFiles([...$("check-files").files]));

// ---- start ------------------------------------------------------------------------------

engine
  .call("features")
  .then(({ value }) => {
    features = value;
    $("engine-status").textContent = `Policy engine eksgate ${value.version} (WebAssembly) ready.`;
    document.body.dataset.ready = "true";
    quickCheck();
    validateForm();
  })
  .catch((e) => {
    $("engine-status").textContent = `The policy engine could not start: ${e.message}`;
  });

// The engine's thread: the WASM module runs here, so a long check never blocks typing.
// Messages in: {id, op, args}; out: {id, ok, value | error, ms}. `ms` is engine time only
// (the call into WASM), which bench/ reports.
import init, * as eksgate from "../pkg/eksgate_wasm.js";

const ready = init({ module_or_path: new URL("../pkg/eksgate_wasm_bg.wasm", import.meta.url) });

// What this build offers; validateRequest and render came later than check, validateFields later still.
function features() {
  return {
    version: eksgate.version(),
    check: typeof eksgate.check === "function",
    validateRequest: typeof eksgate.validateRequest === "function",
    validateFields: typeof eksgate.validateFields === "function",
    render: typeof eksgate.render === "function",
  };
}

const ops = {
  features: () => features(),
  rules: () => eksgate.rules(),
  check: ({ files, policy }) => eksgate.check(files, policy ?? undefined),
  validateRequest: ({ text, policy }) => eksgate.validateRequest(text, policy ?? undefined),
  validateFields: ({ text, policy }) => eksgate.validateFields(text, policy ?? undefined),
  render: ({ text, policy }) => eksgate.render(text, policy ?? undefined),
};

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    await ready;
    const run = ops[op];
    if (!run) throw new Error(`unknown operation ${op}`);
    const start = performance.now();
    let value = run(args ?? {});
    const ms = performance.now() - start;
    if (typeof value === "string" && op !== "features") value = JSON.parse(value);
    self.postMessage({ id, ok: true, value, ms });
  } catch (e) {
    // A trap (the module's panic = abort) leaves the instance unusable: say so, and the page
    // starts a fresh worker.
    const fatal = e instanceof WebAssembly.RuntimeError;
    self.postMessage({ id, ok: false, error: String(e?.message ?? e), fatal });
  }
};

// Bundles the page's scripts with esbuild from the npm packages in node_modules: no CDN, the
// page works offline from `python3 -m http.server` in web/. The WASM module itself is copied
// to web/pkg by scripts/build-wasm.sh.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
if (!existsSync(path.join(here, "pkg/eksgate_wasm.js"))) {
  console.error("web/pkg is missing: run scripts/build-wasm.sh first");
  process.exit(1);
}
const common = { bundle: true, format: "esm", minify: true, target: "es2022", logLevel: "warning", legalComments: "linked" };
await build({ ...common, entryPoints: [path.join(here, "src/main.js")], outfile: path.join(here, "dist/app.js") });
// The worker loads the WASM glue from ../pkg at run time (it fetches the .wasm beside it).
await build({
  ...common,
  entryPoints: [path.join(here, "src/worker.js")],
  outfile: path.join(here, "dist/worker.js"),
  external: ["../pkg/eksgate_wasm.js"],
});

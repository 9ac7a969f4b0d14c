// What the WASM module is made of, by section (code, data = embedded schemas, policy, rule
// docs and tables, ...): node bench/wasm-sections.mjs [web/pkg/eksgate_wasm_bg.wasm]
import { readFileSync } from "node:fs";
import zlib from "node:zlib";
const bytes = readFileSync(process.argv[2] ?? "web/pkg/eksgate_wasm_bg.wasm");
const NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];
let i = 8;
const leb = () => {
  let result = 0, shift = 0, b;
  do { b = bytes[i++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return result;
};
const rows = [];
while (i < bytes.length) {
  const id = bytes[i++];
  const size = leb();
  const body = bytes.subarray(i, i + size);
  rows.push({ section: NAMES[id] ?? id, bytes: size, gzip9: zlib.gzipSync(body, { level: 9 }).length });
  i += size;
}
console.table(rows);

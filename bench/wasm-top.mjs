// What the WASM module's code is made of, by crate: the cargo build's own module (before
// wasm-bindgen and wasm-opt strip its `name` section) read function by function, each body's
// size credited to the crate its demangled name starts with. A twiggy-like `top`, with no tool to
// install. Sizes are of the unoptimized bodies (wasm-opt -Oz shrinks them all, roughly evenly).
// Run: node bench/wasm-top.mjs [$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/eksgate_wasm.wasm] [N]
import { readFileSync } from "node:fs";
import path from "node:path";
const target = process.env.CARGO_TARGET_DIR ?? "target";
const file = process.argv[2] ?? path.join(target, "wasm32-unknown-unknown/wasm-release/eksgate_wasm.wasm");
const top = Number(process.argv[3] ?? 25);
const bytes = readFileSync(file);
let i = 8;
const leb = () => {
  let result = 0, shift = 0, b;
  do { b = bytes[i++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return result;
};
const str = () => { const n = leb(); const s = bytes.toString("utf8", i, i + n); i += n; return s; };
let imported = 0;
const bodies = [];
const names = new Map();
let dataBytes = 0;
while (i < bytes.length) {
  const id = bytes[i++];
  const size = leb();
  const end = i + size;
  if (id === 2) {
    for (let n = leb(); n > 0; n--) {
      str(); str();
      const kind = bytes[i++];
      if (kind === 0) { leb(); imported++; }
      else if (kind === 1) { i++; const f = bytes[i++]; leb(); if (f & 1) leb(); }
      else if (kind === 2) { const f = bytes[i++]; leb(); if (f & 1) leb(); }
      else if (kind === 3) { i += 2; }
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) { const len = leb(); bodies.push(len); i += len; }
  } else if (id === 11) {
    dataBytes = size;
  } else if (id === 0 && str() === "name") {
    while (i < end) {
      const sub = bytes[i++];
      const len = leb();
      const subEnd = i + len;
      if (sub === 1) for (let n = leb(); n > 0; n--) { const idx = leb(); names.set(idx, str()); }
      i = subEnd;
    }
  }
  i = end;
}
if (names.size === 0) { console.error(`${file}: no name section (give the cargo build's module, not wasm-bindgen's)`); process.exit(1); }
const crateOf = (name) => {
  // Legacy mangling: _ZN<len><first path segment>...; a trait impl's first segment is
  // `_$LT$<type's path>..`; v0 mangling (_R...) names the crate after `C<disambiguator>_<len>`.
  let m = name.match(/^_ZN(\d+)/);
  if (m) {
    let seg = name.slice(m[0].length, m[0].length + Number(m[1])).replace(/^_?\$LT\$/, "").replace(/^\$RF\$(mut\$u20\$)?/, "");
    if (seg.startsWith("dyn$u20$")) seg = seg.slice(8);
    return seg.split(/\.\.|\$/)[0] || seg;
  }
  m = name.match(/^_R.*?C[a-zA-Z0-9]*_(\d+)([a-zA-Z_][a-zA-Z0-9_]*)/);
  if (m) return m[2].slice(0, Number(m[1]));
  return name.split(/::|\s/)[0].slice(0, 40);
};
const byCrate = new Map();
const fns = [];
let total = 0;
bodies.forEach((len, k) => {
  const name = names.get(imported + k) ?? `func[${imported + k}]`;
  const c = crateOf(name);
  byCrate.set(c, (byCrate.get(c) ?? 0) + len);
  fns.push([len, name]);
  total += len;
});
const pct = (n) => `${((100 * n) / total).toFixed(1)}%`;
console.log(`${file}: code ${total} B in ${bodies.length} functions, data ${dataBytes} B`);
console.table([...byCrate].sort((a, b) => b[1] - a[1]).slice(0, top).map(([crate, b]) => ({ crate: crate.slice(0, 60), bytes: b, share: pct(b) })));
console.table(fns.sort((a, b) => b[0] - a[0]).slice(0, top).map(([b, name]) => ({ bytes: b, share: pct(b), function: name.slice(0, 110) })));

#!/usr/bin/env bash
# Builds the npm package `eksgate-wasm` into target/wasm-pkg (or $1):
#   web/      wasm-bindgen --target web      (ES module; `await init()` first)
#   bundler/  wasm-bindgen --target bundler  (webpack, Vite with a WASM plugin, esbuild)
#   node/     wasm-bindgen --target nodejs   (CommonJS, `require`)
# each with the TypeScript types wasm-bindgen generates from crates/wasm (its functions and the
# interfaces of its typescript_custom_section), and the package.json and README of crates/wasm/npm. Each module is shrunk
# by `wasm-opt -Oz` from the npm `binaryen` package (Debian's binaryen 108 emits modules that
# fail to load). Installs wasm-bindgen-cli at the version Cargo.lock pins, idempotently.
# The module is compiled by a pinned nightly (with its rust-src, installed idempotently) that
# rebuilds the standard library for size (`-Zbuild-std`, `optimize_for_size`) with panics as a
# bare trap (`-Cpanic=immediate-abort`: the release profile already aborts, this drops the
# formatting of panic messages nobody sees): 836 KB gzip down to 744 KB at the change that added
# it. The same source as the CLI; the parity tests hold the two to the same bytes.
# EKSGATE_WASM_STABLE=1 builds with the stable toolchain and its prebuilt std instead.
# Also copies the web module into web/pkg for the page (scripts/build-web.sh bundles the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/wasm-pkg}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
NIGHTLY=nightly-2026-05-19
if [ -z "${EKSGATE_WASM_STABLE:-}" ] && ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
fi
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # Not --locked: the CLI's own lock file pins a crate the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
[ -x node_modules/.bin/wasm-opt ] && [ -x node_modules/.bin/esbuild ] || npm ci --no-audit --no-fund

if [ -n "${EKSGATE_WASM_STABLE:-}" ]; then
  cargo build -p eksgate-wasm --target wasm32-unknown-unknown --profile wasm-release --locked
else
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" cargo "+$NIGHTLY" build -p eksgate-wasm \
    --target wasm32-unknown-unknown --profile wasm-release --locked \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
fi
RAW="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/eksgate_wasm.wasm"

rm -rf "$OUT"
mkdir -p "$OUT"
OPT_IN="$OUT/.unoptimized.wasm"
for target in web bundler nodejs; do
  dir=$target; [ "$target" = nodejs ] && dir=node
  wasm-bindgen --target "$target" --out-dir "$OUT/$dir" "$RAW"
  # The targets' modules are usually the same bytes (only the JS glue differs): optimize once.
  if [ -f "$OPT_IN" ] && cmp -s "$OPT_IN" "$OUT/$dir/eksgate_wasm_bg.wasm"; then
    cp "$OUT/web/eksgate_wasm_bg.wasm" "$OUT/$dir/eksgate_wasm_bg.wasm"
    continue
  fi
  cp "$OUT/$dir/eksgate_wasm_bg.wasm" "$OPT_IN"
  # The features rustc enables by default for wasm32-unknown-unknown, which the module uses.
  # --converge: -Oz again until the module stops shrinking (about 4 KB gzip more).
  node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    "$OUT/$dir/eksgate_wasm_bg.wasm" -o "$OUT/$dir/eksgate_wasm_bg.wasm"
done
rm -f "$OPT_IN"
cp crates/wasm/npm/package.json crates/wasm/npm/README.md "$OUT/"
cp LICENSE "$OUT/" 2>/dev/null || true
mkdir -p web/pkg
cp "$OUT/web/eksgate_wasm.js" "$OUT/web/eksgate_wasm_bg.wasm" web/pkg/
ls -l "$OUT"/*/eksgate_wasm_bg.wasm

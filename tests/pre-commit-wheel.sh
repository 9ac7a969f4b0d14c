#!/usr/bin/env bash
# End to end, with the real tools: build the eksgate binary wheel with maturin, install it into a
# fresh venv and run it, then run the real `pre-commit` with the `eksgate` hook (language:
# python) against a throw-away git repository. pre-commit installs the hook the way a user's
# machine would from PyPI; here a local wheel directory stands in for PyPI (PIP_FIND_LINKS,
# PIP_NO_INDEX), so the test proves the hook installs a prebuilt wheel and compiles nothing.
# Prints the wheel size and the hook's first-run and warm-run times.
#
# Needs maturin, pre-commit and git (scripts/test.sh installs the first two). The hook repository
# is this checkout at HEAD: commit before running it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

for tool in maturin pre-commit git python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH (scripts/test.sh installs it)"
done

# The hook's package pins the wheel; both must carry the workspace version.
version="$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' "$root/Cargo.toml")"
grep -q "\"eksgate==$version\"" "$root/pyproject.toml" \
  || fail "pyproject.toml must depend on eksgate==$version (the workspace version)"

echo "==> maturin build (release, without the deploy feature)"
wheels="$work/wheels"
maturin build --release --locked -m "$root/crates/cli/Cargo.toml" --out "$wheels"
wheel="$(ls "$wheels"/eksgate-"$version"-*.whl)"
echo "wheel: $(basename "$wheel"): $(( $(stat -c %s "$wheel") / 1024 )) KiB"

echo "==> the wheel in a fresh venv"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
"$work/venv/bin/eksgate" --version | grep -q "^eksgate $version " || fail "eksgate --version from the wheel"
set +e
"$work/venv/bin/eksgate" check "$root/examples/broken/imds.yaml" > "$work/check.txt" 2>&1
code=$?
set -e
[ "$code" = 1 ] || { cat "$work/check.txt"; fail "the wheel's eksgate should find IMDS001 (exit 1, got $code)"; }
grep -q "error\[IMDS001\]" "$work/check.txt" || fail "the wheel's eksgate printed no IMDS001"
"$work/venv/bin/eksgate" deploy --help >/dev/null 2>&1 && fail "the wheel must be built without deploy"

# What pip needs besides the wheel to build the hook's tiny package (setuptools), downloaded once
# into a cache beside the build so later runs need no network.
cache="${CARGO_TARGET_DIR:-$root/target}/pre-commit-wheel-test"
mkdir -p "$cache"
if ! ls "$cache"/setuptools-*.whl >/dev/null 2>&1; then
  python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: --dest "$cache" 'setuptools>=61'
fi
cp "$cache"/setuptools-*.whl "$wheels/"

echo "==> pre-commit with the eksgate hook (language: python) in a throw-away repository"
head="$(git -C "$root" rev-parse HEAD)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "note: the checkout has uncommitted changes; pre-commit uses HEAD ($head)"
fi
repo="$work/repo"
mkdir "$repo"
export PRE_COMMIT_HOME="$work/pre-commit-home" PIP_FIND_LINKS="$wheels" PIP_NO_INDEX=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export GIT_AUTHOR_NAME="eksgate test" GIT_AUTHOR_EMAIL="test@example.invalid"
export GIT_COMMITTER_NAME="eksgate test" GIT_COMMITTER_EMAIL="test@example.invalid"
unset EKSGATE_POLICY GITHUB_ACTIONS
cd "$repo"
git init -q -b main
cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $root
    rev: $head
    hooks:
      - id: eksgate
EOF
# An infrastructure NodePool without the infrastructure taint: SEP001.
cat > pool.yaml <<'EOF'
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: infra
spec:
  template:
    metadata:
      labels: {node-type: infrastructure}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
      requirements: []
  limits: {cpu: "64"}
  disruption:
    consolidateAfter: 5m
    budgets: [{nodes: "1"}]
EOF
pre-commit install >/dev/null
git add .

start="$(now)"
set +e
git commit -q -m "add infra pool" > "$work/first.txt" 2>&1
code=$?
set -e
first="$(seconds "$start" "$(now)")"
[ "$code" != 0 ] || { cat "$work/first.txt"; fail "the commit with a bad NodePool should be blocked"; }
grep -q "SEP001" "$work/first.txt" || { cat "$work/first.txt"; fail "the hook should show SEP001"; }
grep -q "pool.yaml:" "$work/first.txt" || { cat "$work/first.txt"; fail "the finding should name its file"; }
grep -qi "cargo\|Compiling" "$work/first.txt" && { cat "$work/first.txt"; fail "the wheel hook must not compile"; }

start="$(now)"
set +e
pre-commit run --files pool.yaml > "$work/warm.txt" 2>&1
code=$?
set -e
warm="$(seconds "$start" "$(now)")"
[ "$code" != 0 ] && grep -q "SEP001" "$work/warm.txt" || { cat "$work/warm.txt"; fail "the warm run should fail with SEP001"; }

sed -i 's/^      requirements: \[\]$/      requirements: []\n      taints: [{key: workload-type, value: infrastructure, effect: NoSchedule}]/' pool.yaml
git add pool.yaml
git commit -q -m "add infra pool" > "$work/fixed.txt" 2>&1 || { cat "$work/fixed.txt"; fail "a compliant pool should commit"; }

hook_env="$(du -sm "$PRE_COMMIT_HOME" | cut -f1)"
echo "pre-commit hook (wheel): first run ${first}s (installs the hook), warm run ${warm}s, cache ${hook_env} MB"
echo "ok: the wheel installs and runs; pre-commit blocks a bad NodePool and passes a good one"

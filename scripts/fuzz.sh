#!/usr/bin/env bash
# Fuzz eksgate's parsers, renderers and migrate with cargo-fuzz (libFuzzer, nightly, ASan).
#
#   bash scripts/fuzz.sh            # every target for 300 s (the long run)
#   bash scripts/fuzz.sh 15         # every target for 15 s (what scripts/test.sh runs)
#   bash scripts/fuzz.sh 600 check_yaml migrate
#
# Installs what it needs (idempotently): the nightly toolchain (minimal profile) and cargo-fuzz.
# Seeds each target's corpus with the repository's examples and fixtures (copied into
# fuzz/corpus/<target>/, git-ignored, so the corpus grows across local runs). A crash, a
# timeout (10 s per input), a leak or more than 2 GiB of memory fails the run and leaves the
# input in fuzz/artifacts/<target>/: add it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(check_yaml check_terraform_plan check_terraform_source render_hostile_text migrate cel_rule re2)
fi

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# seed TARGET PATTERN...: every file under examples/ and the fixtures whose name matches one of
# the patterns (grouped, so -type and -print0 apply to all of them).
seed() {
  local dir=fuzz/corpus/$1
  mkdir -p "$dir"
  shift
  local names=()
  for pattern in "$@"; do
    [ ${#names[@]} -eq 0 ] || names+=(-o)
    names+=(-name "$pattern")
  done
  local n=0
  while IFS= read -r -d '' f; do
    cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-16)"
    n=$((n + 1))
  done < <(find examples crates/policy/tests/fixtures -type f -size -64k \( "${names[@]}" \) -print0 2>/dev/null)
  echo "  $n seeds for $(basename "$dir")"
}
echo "==> seeding corpora"
for t in "${targets[@]}"; do
  case $t in
    check_yaml|check_terraform_plan|migrate|render_hostile_text)
      seed "$t" '*.yaml' '*.yml' '*.json' ;;
    check_terraform_source)
      seed "$t" '*.tf' ;;
    cel_rule)
      # Each one-line CEL rule of the upstream CRDs beside the checkout (../shared/crds), the
      # examples and the fixtures, one per seed.
      mkdir -p fuzz/corpus/cel_rule
      { grep -rhoE "(rule|expression|messageExpression): .+" ../shared/crds examples crates/policy/tests/fixtures 2>/dev/null || true; } |
        sed -E 's/^[a-zA-Z]+: //' | while IFS= read -r e; do
          printf '%s' "$e" > "fuzz/corpus/cel_rule/seed-$(printf '%s' "$e" | sha1sum | cut -c1-16)"
        done
      echo "  $(ls fuzz/corpus/cel_rule | wc -l) seeds for cel_rule" ;;
    re2)
      # Each `pattern` of the upstream CRDs beside the checkout and of the examples and
      # fixtures, one per seed.
      mkdir -p fuzz/corpus/re2
      { grep -rhoE "\"?pattern\"?: *['\"][^'\"]+['\"]" ../shared/crds examples crates/policy/tests/fixtures 2>/dev/null || true; } |
        sed -E "s/^\"?pattern\"?: *['\"]//; s/['\"]\$//" | while IFS= read -r e; do
          printf '%s' "$e" > "fuzz/corpus/re2/seed-$(printf '%s' "$e" | sha1sum | cut -c1-16)"
        done
      echo "  $(ls fuzz/corpus/re2 | wc -l) seeds for re2" ;;
  esac
done

for t in "${targets[@]}"; do
  echo "==> cargo fuzz run $t for ${seconds}s"
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 2>&1 | grep -E '^(#|==|INFO: |stat::number_of_executed_units|stat::peak_rss|SUMMARY|Done)' | tail -6)
done

#!/usr/bin/env bash
# The action's `mode: check` step. Every input arrives in the environment (action.yml maps
# `inputs.*` to EKSGATE_* variables); none is ever part of this script's text, so a value such as
# `$(id)` or a backtick stays a value. Paths and CRDs are one per line.
set -euo pipefail

say() { printf 'eksgate: %s\n' "$*" >&2; }
out="${GITHUB_OUTPUT:-/dev/null}"
tmp="${RUNNER_TEMP:-$(mktemp -d)}/eksgate-check-${GITHUB_RUN_ID:-0}-$$"
mkdir -p "$tmp"
report_json="$tmp/report.json"
summary_md="$tmp/summary.md"

wd="${EKSGATE_WORKING_DIRECTORY:-.}"
[ -n "$wd" ] || wd=.
cd -- "$wd"

args=(check --format "${EKSGATE_FORMAT:-github}" --fail-on "${EKSGATE_FAIL_ON:-error}")
args+=(--report "json=$report_json" --report "markdown=$summary_md")
if [ "${EKSGATE_FORMAT:-github}" = github ]; then
  args+=(--max-annotations "${EKSGATE_MAX_ANNOTATIONS:-10}")
fi
[ -z "${EKSGATE_POLICY_FILE:-}" ] || args+=(--policy "$EKSGATE_POLICY_FILE")
sarif=""
if [ -n "${EKSGATE_SARIF_FILE:-}" ]; then
  sarif="$EKSGATE_SARIF_FILE"
  mkdir -p -- "$(dirname -- "$sarif")"
  args+=(--report "sarif=$sarif")
fi
while IFS= read -r crd; do
  [ -z "$crd" ] || args+=(--crd "$crd")
done <<< "${EKSGATE_CRDS:-}"

if [ "${EKSGATE_ONLY_CHANGED:-false}" = true ]; then
  base=""
  if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
    # The base commit of a pull request (or the commit before a push).
    base="$(eksgate github event --pointer /pull_request/base/sha)"
    [ -n "$base" ] || base="$(eksgate github event --pointer /before)"
    [[ "$base" =~ ^[0-9a-f]{40}$ ]] || base=""
  fi
  if [ -n "$base" ] && (git cat-file -e "$base^{commit}" 2>/dev/null || git fetch --quiet --depth=1 origin "$base" 2>/dev/null); then
    # Paths relative to the working directory, as the check names them.
    git diff --name-only --diff-filter=ACMR --relative "$base" HEAD -- . > "$tmp/changed.txt" || true
    say "only-changed: findings in the $(wc -l < "$tmp/changed.txt" | tr -d ' ') changed files (every file is still read for the cross-document rules)"
    args+=(--only-files "$tmp/changed.txt")
  else
    say "only-changed: no base commit in the event or the clone (use actions/checkout with fetch-depth: 0): checking every file"
  fi
fi

while IFS= read -r path; do
  [ -z "$path" ] || args+=("$path")
done <<< "${EKSGATE_PATHS:-.}"

status=0
eksgate "${args[@]}" || status=$?

# The job summary: GitHub keeps at most 1 MiB per step; cut with a note well before that.
if [ "${EKSGATE_SUMMARY:-true}" = true ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$summary_md" ]; then
  limit=1000000
  if [ "$(wc -c < "$summary_md")" -gt "$limit" ]; then
    head -c "$((limit - 4096))" "$summary_md" | sed '$d' >> "$GITHUB_STEP_SUMMARY"
    printf '\n\n</details>\n\n> [!WARNING]\n> The report is cut here: GitHub keeps a job summary under 1 MiB. Every finding is in the `report-json` output file and the SARIF report.\n' >> "$GITHUB_STEP_SUMMARY"
  else
    cat "$summary_md" >> "$GITHUB_STEP_SUMMARY"
  fi
fi

count() { sed -n "s/^    \"$1\": \([0-9]*\).*/\1/p" "$report_json" 2>/dev/null | tail -n1; }
if [ -s "$report_json" ]; then
  {
    echo "errors=$(count errors)"
    echo "warnings=$(count warnings)"
    echo "report-json=$report_json"
    [ -z "$sarif" ] || echo "sarif-file=$(cd -- "$(dirname -- "$sarif")" && pwd)/$(basename -- "$sarif")"
  } >> "$out"
fi

if [ "${EKSGATE_COMMENT_ON_PR:-true}" = true ] && [ -s "$report_json" ]; then
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target)
      prefix="$(git rev-parse --show-prefix 2>/dev/null || true)"
      target="$(printf '%s ' "$wd" ${EKSGATE_PATHS:+"$EKSGATE_PATHS"})"
      GITHUB_TOKEN="${EKSGATE_GITHUB_TOKEN:-}" eksgate github comment \
        --report "$report_json" --target "$target" --path-prefix "$prefix" || say "the pull request comment step failed (the check result stands)"
      ;;
  esac
fi

exit "$status"

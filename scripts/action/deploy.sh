#!/usr/bin/env bash
# The action's `mode: deploy` step. Inputs arrive in the environment only (see check.sh).
# With `environment` set (and not a dry run), the run is recorded as a GitHub Deployment:
# `in_progress` first, then `success`, `failure` or `inactive` (cancelled), with this run's log
# URL and the cluster endpoint as the environment URL. Recording is best effort: a token without
# `deployments: write` gives a warning, never a failed deploy.
set -euo pipefail

say() { printf 'eksgate: %s\n' "$*" >&2; }
out="${GITHUB_OUTPUT:-/dev/null}"
wd="${EKSGATE_WORKING_DIRECTORY:-.}"
[ -n "$wd" ] || wd=.
cd -- "$wd"

if [ "${EKSGATE_DRY_RUN:-false}" != true ] && [ -n "${EKSGATE_ROLE:-}" ] && [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ]; then
  printf '::error title=eksgate deploy::%s\n' "this job has no OIDC token, so role-to-assume cannot be assumed: add \`permissions: id-token: write\` (and \`contents: read\`) to the job. Pull requests from forks never get one."
  echo "result=failure" >> "$out"
  exit 1
fi

args=(deploy --plan "${EKSGATE_PLAN:-deploy.yaml}")
[ -z "${EKSGATE_TIMEOUT:-}" ] || args+=(--timeout "$EKSGATE_TIMEOUT")
[ "${EKSGATE_DRY_RUN:-false}" != true ] || args+=(--dry-run)
[ -z "${EKSGATE_REGION:-}" ] || export AWS_REGION="$EKSGATE_REGION"
[ -z "${EKSGATE_ROLE:-}" ] || export EKSGATE_ROLE_ARN="$EKSGATE_ROLE"
[ -z "${EKSGATE_AUDIENCE_INPUT:-}" ] || export EKSGATE_AUDIENCE="$EKSGATE_AUDIENCE_INPUT"
[ -z "${EKSGATE_SESSION_NAME_INPUT:-}" ] || export EKSGATE_ROLE_SESSION_NAME="$EKSGATE_SESSION_NAME_INPUT"
[ -z "${EKSGATE_DURATION_INPUT:-}" ] || export EKSGATE_ROLE_DURATION_SECONDS="$EKSGATE_DURATION_INPUT"

deployment=""
if [ -n "${EKSGATE_ENVIRONMENT:-}" ] && [ "${EKSGATE_DRY_RUN:-false}" != true ]; then
  started="$(GITHUB_TOKEN="${EKSGATE_GITHUB_TOKEN:-}" GITHUB_OUTPUT=/dev/null eksgate github deployment start \
    --environment "$EKSGATE_ENVIRONMENT" --description "eksgate deploy ${EKSGATE_PLAN:-deploy.yaml}" || true)"
  # The id is the last line; anything before it (a warning) goes to the log.
  printf '%s\n' "$started" | grep -v '^[0-9]*$' || true
  deployment="$(printf '%s\n' "$started" | tail -n1)"
  if [[ "$deployment" =~ ^[0-9]+$ ]]; then
    echo "deployment-id=$deployment" >> "$out"
  else
    deployment=""
  fi
fi

status=0
eksgate "${args[@]}" || status=$?

if [ -n "$deployment" ]; then
  case "$status" in
    0) result=success ;;
    130 | 143) result=cancelled ;;
    *) result=failure ;;
  esac
  # The endpoint the deploy wrote to its step outputs (heredoc records: name<<DELIM, value, DELIM).
  endpoint="$(awk '/^cluster-endpoint<</ { getline; value = $0 } END { print value }' "$out" 2>/dev/null || true)"
  finish=(github deployment finish --id "$deployment" --result "$result")
  [[ "$endpoint" =~ ^https?://[^[:space:]]+$ ]] && finish+=(--environment-url "$endpoint")
  GITHUB_TOKEN="${EKSGATE_GITHUB_TOKEN:-}" eksgate "${finish[@]}" || say "the deployment status was not recorded (the deploy result stands)"
fi
exit "$status"

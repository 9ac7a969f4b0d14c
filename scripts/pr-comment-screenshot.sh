#!/usr/bin/env bash
# docs/pr-comment.png, the README's picture of the pull request comment: runs the action's
# comment test (tests/action_runner.py, which writes the comment it posted to
# $CARGO_TARGET_DIR/pr-comment.md), then renders that Markdown and captures it with Chromium
# (scripts/pr-comment-screenshot.mjs). Needs the debug eksgate build, npm ci and /usr/bin/chromium
# (scripts/test.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
# The comment's severity icons are emoji: without a colour emoji font Chromium draws boxes.
if ! fc-list 2>/dev/null | grep -qi 'color emoji'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null
fi
cargo build -p eksgate --locked
EKSGATE_BIN="$target/debug/eksgate" python3 tests/action_runner.py test_check_comment_lifecycle
node scripts/pr-comment-screenshot.mjs "$target/pr-comment.md" "${1:-docs/pr-comment.png}"

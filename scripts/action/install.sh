#!/usr/bin/env bash
# The action's install step: puts `eksgate` on PATH in seconds.
#
#  1. A release binary, when the action runs at a release tag (`uses: eksgate/eksgate@v0.1.0` or
#     a major tag such as `@v0`: the version is the one in the action's own Cargo.toml) or when
#     the `version` input names a release. Downloaded for the runner's OS and architecture,
#     checked against the release's SHA256SUMS, and kept in the runner's tool cache.
#  2. Otherwise (a branch, a commit, a fork, a local `uses: ./`): `cargo install --locked` from the
#     action's own checkout with the pinned toolchain; the action caches ~/.cargo and the build
#     directory between runs (actions/cache in action.yml).
#
# Inputs come from the environment only (never interpolated into this script):
#   EKSGATE_VERSION   the `version` input: a release version (`0.1.0` or `v0.1.0`), empty for the
#                     action's own
#   EKSGATE_MODE      check | deploy (a check-only build leaves the AWS SDK out)
#   ACTION_PATH, ACTION_REF, ACTION_REPOSITORY   github.action_path / action_ref / action_repository
#   EKSGATE_RELEASE_BASE_URL   where releases are downloaded from (default
#                     $GITHUB_SERVER_URL/<action repository>/releases/download)
#   EKSGATE_INSTALL_PHASE  resolve (decide and print the outputs) | install
set -euo pipefail

toolchain=1.95
phase="${EKSGATE_INSTALL_PHASE:-install}"
out="${GITHUB_OUTPUT:-/dev/null}"
say() { printf 'eksgate install: %s\n' "$*" >&2; }
fail() { printf '::error title=eksgate install::%s\n' "$*"; exit 1; }

target() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$arch" in X64 | x86_64 | amd64) arch=x86_64 ;; ARM64 | aarch64 | arm64) arch=aarch64 ;; *) arch=unsupported ;; esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    macOS | Darwin) echo "$arch-apple-darwin" ;;
    Windows | MINGW* | MSYS*) [ "$arch" = x86_64 ] && echo "x86_64-pc-windows-msvc" || echo unsupported ;;
    *) echo unsupported ;;
  esac
}

own_version() {
  sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ACTION_PATH/Cargo.toml" | head -n1
}

# What to install: a release (method=download, version) or a build (method=build).
resolve() {
  local requested="${EKSGATE_VERSION:-}" ref="${ACTION_REF:-}"
  requested="${requested#v}"
  if [ -n "$requested" ]; then
    if ! [[ "$requested" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
      fail "the \`version\` input must be a release version such as 0.1.0 (a branch or commit: pin the action itself, \`uses: eksgate/eksgate@<ref>\`)"
    fi
    method=download version="$requested"
  elif [[ "$ref" =~ ^v[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?$ ]]; then
    local own; own="$(own_version)"
    [ -n "$own" ] || fail "cannot read the version from the action's Cargo.toml"
    method=download version="$own"
  else
    method=build version=-
  fi
}

resolve
tgt="$(target)"
features=""
[ "${EKSGATE_MODE:-check}" = check ] && features="--no-default-features --features github"

if [ "$phase" = resolve ]; then
  lock_hash="$( (sha256sum "$ACTION_PATH/Cargo.lock" 2>/dev/null || shasum -a 256 "$ACTION_PATH/Cargo.lock") | cut -c1-16)"
  {
    echo "method=$method"
    echo "version=$version"
    echo "target=$tgt"
    echo "cache-key=eksgate-build-$toolchain-$tgt-${EKSGATE_MODE:-check}-$lock_hash"
  } >> "$out"
  exit 0
fi

if command -v eksgate >/dev/null 2>&1 && [ -z "${EKSGATE_VERSION:-}" ] && [ "${EKSGATE_FORCE_INSTALL:-}" != true ]; then
  say "already on PATH: $(command -v eksgate) ($(eksgate --version))"
  exit 0
fi

bin_dir_out() { echo "$1" >> "${GITHUB_PATH:-/dev/null}"; export PATH="$1:$PATH"; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

download() {
  [ "$tgt" != unsupported ] || return 3
  local exe=eksgate archive="eksgate-$tgt.tar.gz"
  case "$tgt" in *windows*) exe=eksgate.exe archive="eksgate-$tgt.zip" ;; esac
  local cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/eksgate/$version/$tgt"
  if [ -x "$cache/$exe" ] && [ -f "$cache/.verified" ]; then
    say "eksgate $version from the tool cache ($cache)"
    bin_dir_out "$cache"
    return 0
  fi
  local base="${EKSGATE_RELEASE_BASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/${ACTION_REPOSITORY:-eksgate/eksgate}/releases/download}"
  local proto='=https'
  case "$base" in http://127.0.0.1:* | http://localhost:*) proto='=http,https' ;; esac
  local tmp; tmp="$(mktemp -d)"
  local url="$base/v$version"
  say "downloading $url/$archive"
  if ! curl --fail --silent --show-error --location --proto "$proto" --retry 3 --retry-delay 1 \
    --connect-timeout 10 --max-time 120 -o "$tmp/$archive" "$url/$archive"; then
    rm -rf "$tmp"; return 4
  fi
  curl --fail --silent --show-error --location --proto "$proto" --retry 3 --retry-delay 1 \
    --connect-timeout 10 --max-time 60 -o "$tmp/SHA256SUMS" "$url/SHA256SUMS" || { rm -rf "$tmp"; return 4; }
  local want got
  want="$(awk -v f="$archive" '$2 == f || $2 == "*"f { print $1 }' "$tmp/SHA256SUMS" | head -n1)"
  got="$(sha256_of "$tmp/$archive")"
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    rm -rf "$tmp"
    fail "checksum mismatch for $archive: SHA256SUMS says ${want:-nothing}, the download is $got; refusing to run it"
  fi
  mkdir -p "$tmp/x"
  case "$archive" in
    *.zip) (cd "$tmp/x" && (unzip -q "../$archive" || 7z x -y "../$archive" >/dev/null)) ;;
    *) tar -xzf "$tmp/$archive" -C "$tmp/x" ;;
  esac
  [ -f "$tmp/x/eksgate-$tgt/$exe" ] || { rm -rf "$tmp"; fail "$archive has no eksgate-$tgt/$exe"; }
  mkdir -p "$cache"
  mv -f "$tmp/x/eksgate-$tgt/$exe" "$cache/$exe"
  chmod +x "$cache/$exe"
  echo "$got" > "$cache/.verified"
  rm -rf "$tmp"
  bin_dir_out "$cache"
  say "eksgate $version ($tgt), sha256 $got verified"
}

build() {
  local root="${RUNNER_TEMP:-/tmp}/eksgate-build"
  say "building eksgate from the action's checkout ($ACTION_PATH) with Rust $toolchain"
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal >/dev/null 2>&1 || true
    cargo="cargo +$toolchain"
  else
    cargo=cargo
  fi
  # shellcheck disable=SC2086 # $features and $cargo are lists of words this script chose
  CARGO_TARGET_DIR="${EKSGATE_CARGO_TARGET_DIR:-$root/target}" \
    $cargo install --locked --path "$ACTION_PATH/crates/cli" --root "$root" $features
  bin_dir_out "$root/bin"
}

if [ "$method" = download ]; then
  status=0
  download || status=$?
  if [ "$status" -ne 0 ]; then
    if [ -n "${EKSGATE_VERSION:-}" ]; then
      fail "no release v$version for $tgt at ${EKSGATE_RELEASE_BASE_URL:-the releases of the action repository}: check the \`version\` input"
    fi
    say "no release binary for v$version ($tgt): building from the action's checkout instead"
    build
  fi
else
  build
fi
eksgate --version >&2

#!/usr/bin/env bash
# Runs the Playwright suite against a freshly built server on a fresh SQLite database.
# Usage: end2end/run.sh [playwright args…]   (from anywhere; builds with cargo-leptos first)
#   E2E_PROFILE=release (default): the optimized build, split into lazily loaded chunks and
#     precompressed, as in production; the functional specs and the first-load budget (perf/).
#   E2E_PROFILE=debug: a quicker debug build, functional specs only.
#   SKIP_PERF=1: leave out the first-load budget.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"
profile="${E2E_PROFILE:-release}"

case "$profile" in
  release)
    echo "==> building the optimized, split site and server (cargo leptos build --release --split)"
    cargo leptos build --release --split
    echo "==> precompressing the site's files (switchboard precompress)"
    "$CARGO_TARGET_DIR/release/switchboard" precompress >/dev/null
    ;;
  debug)
    echo "==> building the site and server (cargo leptos build --split)"
    cargo leptos build --split
    SKIP_PERF=1
    ;;
  *) echo "E2E_PROFILE must be release or debug"; exit 2 ;;
esac
bin="$CARGO_TARGET_DIR/$profile/switchboard"
echo "==> building the fake provider the outbound specs call (cargo build --example fake_provider)"
cargo build -p server --example fake_provider

work="$(mktemp -d)"
port="${E2E_PORT:-3210}"
log="$work/server.log"
cleanup() {
  if [[ -n "${server_pid:-}" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ "${KEEP_E2E_DIR:-}" == "" ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

echo "==> starting the server on 127.0.0.1:$port with a fresh database in $work"
DATABASE_URL="sqlite://$work/e2e.db" \
LEPTOS_SITE_ADDR="127.0.0.1:$port" \
LEPTOS_SITE_ROOT="$root/target/site" \
SWITCHBOARD_PUBLIC_URL="http://127.0.0.1:$port" \
SWITCHBOARD_DRAIN_SECS=0 \
RUST_LOG="${RUST_LOG:-info}" \
  "$bin" serve >"$log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "server exited:"; cat "$log"; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready:"; cat "$log"; exit 1; }

cd "$root/end2end"
if [[ ! -d node_modules/@playwright/test ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
status=0
# global-setup.ts makes the system administrator with the CLI, and the tests seed data with it,
# on the same database (the server's key file is next to it); a test that needs a fresh
# installation starts a server of its own with the same binary and site
BASE_URL="http://127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" \
FAKE_PROVIDER_BIN="$CARGO_TARGET_DIR/debug/examples/fake_provider" \
SWITCHBOARD_BIN="$bin" E2E_DATABASE_URL="sqlite://$work/e2e.db" \
  npx playwright test ${SKIP_PERF:+--project=functional} "$@" || status=$?
if [[ $status -ne 0 ]]; then
  echo "==> server log (last 80 lines)"; tail -80 "$log"
fi
exit $status

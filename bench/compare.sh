#!/usr/bin/env bash
# Before and after: the throughput part of bench/run.sh (ceiling, guest page, signed-in profile page
# with the SQLite store and with the Redis store) for an older build of the app and for the current
# release build, in alternating rounds (ROUNDS, default 2) on the same machine; writes bench/COMPARE.md (raw results in
# bench/out/compare/). Use it to show what a change costs, e.g. the session-lifetime work of issue 11
# (idle timeout from the last request, absolute lifetime, the login-attempt cookie, the user index).
#
# Usage: bench/compare.sh BEFORE_BIN BEFORE_COMMIT
#   BEFORE_BIN     the release binary of the older build, e.g. built in a worktree:
#                    git worktree add /tmp/before COMMIT && cd /tmp/before &&
#                    CARGO_TARGET_DIR=/var/cache/lfa-before cargo leptos build --release
#   BEFORE_COMMIT  its commit, for the report
# The current build is $CARGO_TARGET_DIR/release/leptos-fusionauth (bench/run.sh build). Both
# binaries are copied first, so a rebuild cannot change them mid-run. Settings as bench/run.sh
# (WRK_DURATION, WRK_RUNS, WRK_CONNECTIONS, BENCH_PIN). Needs wrk, redis-server and the ceiling
# server (bench/run.sh build). Run it on a quiet machine: no build, no test suite alongside.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC2034,SC2119
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

[[ $# -eq 2 ]] || die "usage: bench/compare.sh BEFORE_BIN BEFORE_COMMIT"
BEFORE_BIN="$1"
BEFORE_COMMIT="$2"
ROUNDS="${ROUNDS:-2}"
[[ -x "$BEFORE_BIN" ]] || die "$BEFORE_BIN is not an executable"
[[ -x "$APP_BIN" ]] || die "$APP_BIN is missing: run bench/run.sh build first"
command -v redis-server >/dev/null || die "redis-server is missing: apt-get install -y redis-server"

mkdir -p "$BENCH_WORK/bin"
cp "$BEFORE_BIN" "$BENCH_WORK/bin/before"
cp "$APP_BIN" "$BENCH_WORK/bin/after"
AFTER_COMMIT=$(bench_commit)

RAW="$OUT_DIR/compare"
rm -rf "$RAW"
mkdir -p "$RAW/before" "$RAW/after"

# measure NAME COMMIT ROUND: bench/run.sh throughput with that binary; its wrk outputs join those
# of the earlier rounds in $RAW/NAME/wrk (renumbered), the rest of its results replace theirs.
measure() {
  local name="$1" commit="$2" round="$3" file base
  say "round $round/$ROUNDS, $name ($commit): bench/run.sh throughput"
  APP_BIN="$BENCH_WORK/bin/$name" OUT_DIR="$RAW/$name-round" BENCH_COMMIT="$commit" BENCH_NO_REPORT=1 \
    "$BENCH_DIR/run.sh" throughput
  mkdir -p "$RAW/$name/wrk"
  for file in "$RAW/$name-round/wrk/"*.txt; do
    base=$(basename "$file" .txt)
    mv "$file" "$RAW/$name/wrk/${base%-*}-$round${base##*-}.txt"
  done
  rm -rf "$RAW/$name-round/wrk"
  cp -r "$RAW/$name-round/." "$RAW/$name/"
  rm -rf "$RAW/$name-round"
}

# Alternating rounds: a slow phase of the machine (other tenants of the VM) hits both builds alike.
for ((round = 1; round <= ROUNDS; round++)); do
  measure before "$BEFORE_COMMIT" "$round"
  measure after "$AFTER_COMMIT" "$round"
done
node "$BENCH_DIR/report.mjs" compare "$RAW/before" "$RAW/after" "$BENCH_DIR/COMPARE.md" \
  "bench/compare.sh $BEFORE_BIN $BEFORE_COMMIT"

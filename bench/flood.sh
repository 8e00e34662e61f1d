#!/usr/bin/env bash
# shellcheck disable=SC2119  # start_app takes optional NAME=VALUE overrides, not the script arguments
# Anonymous login flood (issue 11): REQUESTS (100 000) × POST /api/login from visitors who keep
# no cookie, CONCURRENCY (32) in flight, once with a fresh SQLite session store and once with a
# fresh redis-server. Before the flood, right after it, optionally after the pending attempts
# have expired, and after one real login (the control: exactly 1 session record), it reads the
# store's session records and bytes and the app's RSS; writes bench/FLOOD.md (raw results in
# bench/out/flood/) and exits 3 when any answer was wrong or the control did not find 1 record.
#
# Usage: bench/flood.sh [--wait-expiry]
#   --wait-expiry  also measure once the attempts started by the flood have expired (waits the
#                  attempt lifetime, 10 min, plus 30 s, per store). Without it the run takes a
#                  few minutes: a login start stores nothing, so nothing is left to expire.
#
# Everything runs on loopback, on free ports (not .env.example's 5001/9011/9012): the stand-in
# provider (end2end/provider), a copy of the release binary (taken at the start, so a rebuild
# cannot change it mid-run) and redis-server (Debian's package) in a temporary directory; all
# are stopped and the directory removed on exit. Needs the release build (bench/run.sh build),
# sqlite3, redis-server and redis-cli. BENCH_PIN=0: no CPU pinning (see lib.sh).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC2034,SC2119
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

WAIT_EXPIRY=0
for arg in "$@"; do
  case "$arg" in
    --wait-expiry) WAIT_EXPIRY=1 ;;
    *) die "usage: bench/flood.sh [--wait-expiry]" ;;
  esac
done
INVOCATION="bench/flood.sh${*:+ $*}"
for var in REQUESTS CONCURRENCY BENCH_PIN; do
  if [[ -n "${!var:-}" ]]; then INVOCATION="$var=${!var} $INVOCATION"; fi
done
REQUESTS="${REQUESTS:-100000}"
CONCURRENCY="${CONCURRENCY:-32}"

for tool in sqlite3 redis-server redis-cli; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y sqlite3 redis-server"
done

# The attempt lifetime, as the app has it.
ATTEMPTS_SOURCE="$REPO_ROOT/crates/leptos-fusionauth/src/server/login_attempts.rs"
ATTEMPT_LIFETIME_SECS=$(sed -n 's/^pub(crate) const PENDING_LOGIN_MAX_AGE_SECS: i64 = \([0-9 *]*\);$/\1/p' \
  "$ATTEMPTS_SOURCE")
[[ -n "$ATTEMPT_LIFETIME_SECS" ]] || die "PENDING_LOGIN_MAX_AGE_SECS not found in $ATTEMPTS_SOURCE"
ATTEMPT_LIFETIME_SECS=$((ATTEMPT_LIFETIME_SECS))

# A private copy of the release binary.
[[ -x "$APP_BIN" ]] || die "$APP_BIN is missing: run bench/run.sh build first"
BUILT_BIN="$APP_BIN"
BUILT_AT=$(date -u -r "$BUILT_BIN" '+%Y-%m-%d %H:%M UTC')
mkdir -p "$BENCH_WORK/bin"
cp "$BUILT_BIN" "$BENCH_WORK/bin/leptos-fusionauth"
APP_BIN="$BENCH_WORK/bin/leptos-fusionauth"

RUN_DIR="$BENCH_WORK/flood"
mkdir -p "$RUN_DIR"
: >"$RUN_DIR/snapshots.tsv"
STATUS=0

file_bytes() { stat -c %s "$1" 2>/dev/null || echo 0; }
sqlite_count() { sqlite3 -readonly "$APP_DB" "select count(*) from $1"; }

# snapshot STORE PHASE: the store's session records, its other rows or keys, its bytes and the
# app's RSS and peak RSS, as one line of snapshots.tsv; sets RECORDS.
snapshot() {
  local store="$1" phase="$2" others bytes rss
  if [[ "$store" == sqlite ]]; then
    RECORDS=$(sqlite_count tower_sessions)
    others=$(sqlite_count session_owners)
    bytes=$(($(file_bytes "$APP_DB") + $(file_bytes "$APP_DB-wal")))
  else
    local keys
    keys=$(redis_cli dbsize)
    others=$(redis_cli --scan --pattern 'leptos-fusionauth:*' | wc -l)
    RECORDS=$((keys - others))
    bytes=$(redis_cli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
  fi
  rss=$(rss_kb "$APP_PID")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "$phase" "$RECORDS" "$others" "$bytes" "$rss" \
    "$(hwm_kb "$APP_PID")" >>"$RUN_DIR/snapshots.tsv"
  say "$store, $phase: $RECORDS session records, $others other rows/keys, store $bytes B, app RSS $rss kB"
}

# sample_rss PID FILE: every 0.5 s, milliseconds since the start and VmRSS (kB) of PID, until
# PID exits or the sampler is stopped.
sample_rss() {
  local pid="$1" file="$2" t0
  t0=$(date +%s%N)
  while kill -0 "$pid" 2>/dev/null; do
    printf '%s\t%s\n' "$((($(date +%s%N) - t0) / 1000000))" "$(rss_kb "$pid")" >>"$file"
    sleep 0.5
  done
}

FLOOD_CMD=(node "$BENCH_DIR/login-client.mjs" flood "$REQUESTS" "$CONCURRENCY")

# measure STORE: one store from start to stop.
measure() {
  local store="$1" rc=0 sampler client
  if [[ "$store" == sqlite ]]; then
    start_app
  else
    start_redis
    start_app SESSION_DATABASE_URL="redis://127.0.0.1:$REDIS_PORT"
  fi
  sleep 2
  snapshot "$store" before

  say "$store: $REQUESTS anonymous POST /api/login, $CONCURRENCY in flight"
  sample_rss "$APP_PID" "$RUN_DIR/$store-rss.tsv" &
  sampler=$!
  BENCH_PIDS+=("$sampler")
  # In the background, so that a signal to this script alone stops it too (see bench_cleanup).
  APP_URL="$APP_URL" APP_CONNECT="$APP_LOOPBACK" ISSUER="$ISSUER" \
    "${CLIENT_PIN[@]}" "${FLOOD_CMD[@]}" "$RUN_DIR/$store-flood.json" &
  client=$!
  BENCH_PIDS+=("$client")
  wait "$client" || rc=$?
  forget_pid "$client"
  stop_pid "$sampler"
  forget_pid "$sampler"
  [[ -s "$RUN_DIR/$store-flood.json" ]] || die "the flood client failed (exit $rc)"
  if ((rc != 0)); then
    warn "$store: some answers were wrong (see $store-flood.json)"
    STATUS=3
  fi
  sleep 2
  snapshot "$store" after-flood

  if ((WAIT_EXPIRY)); then
    say "$store: waiting $((ATTEMPT_LIFETIME_SECS + 30)) s for the attempts to expire"
    sleep $((ATTEMPT_LIFETIME_SECS + 30))
    snapshot "$store" after-expiry
  fi

  say "$store: control, one real login over HTTP"
  local cookie
  cookie=$(login_cookie) || die "the control login over HTTP failed"
  assert_profile "$cookie"
  snapshot "$store" control
  if [[ "$RECORDS" != 1 ]]; then
    warn "$store: the control login left $RECORDS session records, expected 1"
    STATUS=3
  fi

  stop_app
  [[ -z "$REDIS_PID" ]] || stop_server REDIS_PID
}

use_free_ports
PIN_SERVERS=1
start_provider
measure sqlite
measure redis
stop_provider

write_json "$RUN_DIR/meta.json" \
  '{ date: new Date().toISOString(), commit: a[0], invocation: a[1], requests: +a[2],
     concurrency: +a[3], command: a[4], attemptLifetimeSecs: +a[5], waitedForExpiry: a[6] === "1",
     binary: { path: a[7], built: a[8], sha256: a[9] }, pinning: a[10],
     versions: { redis: a[11], sqlite: a[12] } }' \
  "$(bench_commit)" "$INVOCATION" "$REQUESTS" "$CONCURRENCY" \
  "${CLIENT_PIN[*]} ${FLOOD_CMD[*]//$BENCH_DIR/bench}" "$ATTEMPT_LIFETIME_SECS" "$WAIT_EXPIRY" \
  "$BUILT_BIN" "$BUILT_AT" "$(sha256sum "$APP_BIN" | cut -c1-12)" \
  "$(pin_note)" "$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')" \
  "$(sqlite3 --version | cut -d' ' -f1)"

rm -rf "$OUT_DIR/flood"
mv "$RUN_DIR" "$OUT_DIR/flood"
node "$BENCH_DIR/report.mjs" flood "$OUT_DIR/flood" "$BENCH_DIR/FLOOD.md" || {
  rc=$?
  ((rc == 3)) || die "bench/report.mjs failed"
  STATUS=3
}
say "wrote bench/FLOOD.md"
exit "$STATUS"

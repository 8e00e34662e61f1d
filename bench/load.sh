#!/usr/bin/env bash
# shellcheck disable=SC2119  # start_app takes optional NAME=VALUE overrides, not the script arguments
# Bounded load on loopback: CONNECTIONS (200) concurrent connections for DURATION (60) seconds on
# the signed-in profile page, rotating over LOAD_SESSIONS (50) real sessions (HTTP logins against
# the stand-in provider, default SQLite store). Every response is checked (2xx and the profile
# page); writes bench/LOAD.md and exits 3 when there was any error (goal: 0).
# Needs the release build (bench/run.sh build). BENCH_PIN=0: no CPU pinning (see lib.sh).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC2034,SC2119
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

INVOCATION="bench/load.sh"
for var in DURATION CONNECTIONS LOAD_SESSIONS BENCH_PIN BENCH_PROVISIONAL; do
  if [[ -n "${!var:-}" ]]; then INVOCATION="$var=${!var} $INVOCATION"; fi
done
DURATION="${DURATION:-60}"
CONNECTIONS="${CONNECTIONS:-200}"
LOAD_SESSIONS="${LOAD_SESSIONS:-50}"

command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk"

PIN_SERVERS=1
start_provider
start_app
say "$LOAD_SESSIONS logins over HTTP"
cookies="$BENCH_WORK/cookies.txt"
: >"$cookies"
for ((i = 1; i <= LOAD_SESSIONS; i++)); do
  cookie=$(login_cookie) || die "login over HTTP failed"
  echo "$SESSION_COOKIE=$cookie" >>"$cookies"
done
assert_profile "$cookie"
stop_provider # the profile page needs no provider (no token refresh within the token's hour)

wrk_out="$OUT_DIR/load-wrk.txt"
marker="You are logged in as"
rss_before=$(rss_kb "$APP_PID")
say "wrk: $CONNECTIONS connections for $DURATION s on the profile page"
wrk_args=(-t"$CLIENT_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 2s --latency -s "$BENCH_DIR/wrk-check.lua")
"${CLIENT_PIN[@]}" wrk "${wrk_args[@]}" "$APP_LOOPBACK/" -- "$cookies" "$marker" | tee "$wrk_out"
rss_after=$(rss_kb "$APP_PID")
assert_profile "$cookie"

pin_note=$(pin_note)
commit=$(bench_commit)
node -e '
  const [file, command, invocation, commit, provisional, setup, before, after] = process.argv.slice(1);
  require("fs").writeFileSync(file, JSON.stringify({
    command, invocation, commit, setup, provisional: provisional === "1", date: new Date().toISOString(),
    rssBeforeKb: +before, rssAfterKb: +after,
  }, null, 2) + "\n");
' "$OUT_DIR/load.meta.json" \
  "${CLIENT_PIN[*]} wrk ${wrk_args[*]//$BENCH_DIR/bench} $APP_LOOPBACK/ -- COOKIES '$marker'" \
  "$INVOCATION" "$commit" "${BENCH_PROVISIONAL:-0}" \
  "release binary, SQLite session store, RUST_LOG=warn, $LOAD_SESSIONS sessions in rotation, $pin_note" \
  "$rss_before" "$rss_after"
stop_app

rc=0
node "$BENCH_DIR/report.mjs" load "$wrk_out" "$OUT_DIR/load.meta.json" "$BENCH_DIR/LOAD.md" || rc=$?
say "wrote bench/LOAD.md"
exit "$rc"

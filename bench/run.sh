#!/usr/bin/env bash
# shellcheck disable=SC2119  # start_app takes optional NAME=VALUE overrides, not the script arguments
# Benchmarks and budgets: builds the release app and the ceiling server, measures, and writes
# bench/RESULTS.md and bench/throughput.png. Everything runs on loopback; every server it starts
# is stopped when it ends.
#
# Usage: bench/run.sh [PART...]        (no part: all of them, in this order)
#   build       toolchain (scripts/setup-toolchain.sh --browser), cargo leptos build --release,
#               the ceiling server (bench/ceiling)
#   bundle      wasm + JS in target/site/pkg, raw and gzip -9 (bench/check-bundle-size.sh)
#   throughput  wrk on the guest page, the signed-in profile page (SQLite store, and Redis and
#               PostgreSQL when installed; their servers on the client's CPU) and the ceiling
#   login       HTTP-level logins against the stand-in provider, with the app's Server-Timing
#   tti         time to interactive of the guest page in Chromium, fresh context per load
#   memory      server RSS idle, then with SESSIONS signed-in sessions in the SQLite store
#   devloop     `cargo leptos build` (dev) after touching src/pages/home.rs, warm
#   report      RESULTS.md + throughput.png from the raw results in bench/out/ (every part
#               ends with it, so a part run alone updates its rows and keeps the others)
#
# Settings (environment): WRK_DURATION (10 s), WRK_RUNS (3), WRK_CONNECTIONS (16),
# BENCH_PIN (1: server on the last CPU, wrk on the others; 0: no pinning), LOGINS (50),
# TTI_LOADS (20), SESSIONS (10000), DEVLOOP_RUNS (3), BENCH_PROVISIONAL (1: mark the figures
# provisional), CARGO_TARGET_DIR (/var/cache/leptos-fusionauth/target, as .ci/run).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC2034,SC2119
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

# The command as given, with the settings that were overridden.
INVOCATION="bench/run.sh $*"
for var in WRK_DURATION WRK_RUNS WRK_CONNECTIONS BENCH_PIN LOGINS TTI_LOADS SESSIONS DEVLOOP_RUNS BENCH_PROVISIONAL; do
  if [[ -n "${!var:-}" ]]; then INVOCATION="$var=${!var} $INVOCATION"; fi
done

WRK_DURATION="${WRK_DURATION:-10}"
WRK_RUNS="${WRK_RUNS:-3}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-16}"
LOGINS="${LOGINS:-50}"
TTI_LOADS="${TTI_LOADS:-20}"
SESSIONS="${SESSIONS:-10000}"
DEVLOOP_RUNS="${DEVLOOP_RUNS:-3}"

ALL_PARTS=(build bundle throughput login tti memory devloop)

# write_meta PART COMMAND: when, at which commit, with which command a part was measured.
write_meta() {
  local part="$1" command="$2" commit
  commit=$(bench_commit)
  node -e '
    const [file, part, command, invocation, commit, provisional] = process.argv.slice(1);
    require("fs").writeFileSync(file, JSON.stringify({
      part, command, invocation, commit, provisional: provisional === "1",
      date: new Date().toISOString(),
    }, null, 2) + "\n");
  ' "$OUT_DIR/$part.meta.json" "$part" "$command" "$INVOCATION" "$commit" "${BENCH_PROVISIONAL:-0}"
}

# ---------------------------------------------------------------------------------------------

part_build() {
  say "toolchain (idempotent)"
  "$REPO_ROOT/scripts/setup-toolchain.sh" --browser
  command -v wrk >/dev/null || apt_install wrk
  say "cargo leptos build --release"
  cargo leptos build --release --project leptos-fusionauth-demo
  say "ceiling server (bench/ceiling)"
  # Start from the app's lock file: same axum, hyper and tokio versions as the app.
  [[ -f "$BENCH_DIR/ceiling/Cargo.lock" ]] || cp "$REPO_ROOT/Cargo.lock" "$BENCH_DIR/ceiling/Cargo.lock"
  cargo build --release --manifest-path "$BENCH_DIR/ceiling/Cargo.toml"
}

apt_install() {
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  say "installing $* (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

part_bundle() {
  say "bundle size"
  local rc=0
  "$BENCH_DIR/check-bundle-size.sh" --json "$OUT_DIR/bundle.json" || rc=$?
  ((rc <= 1)) || die "bundle measurement failed"
  write_meta bundle "bench/check-bundle-size.sh (gzip -9 of target/site/pkg/*.wasm, *.js)"
}

wrk_cmd() {
  # wrk_cmd DURATION URL [wrk options...]
  local duration="$1" url="$2"
  shift 2
  "${CLIENT_PIN[@]}" wrk -t"$CLIENT_THREADS" -c"$WRK_CONNECTIONS" -d"${duration}s" --timeout 2s --latency "$@" "$url"
}

part_throughput() {
  command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk (or bench/run.sh build)"
  PIN_SERVERS=1
  start_provider
  start_app
  curl -fsS "$APP_LOOPBACK/" >"$OUT_DIR/guest.html"
  grep -q 'Hello Guest' "$OUT_DIR/guest.html" || die "GET / is not the guest page"
  local cookie
  cookie=$(login_cookie) || die "login over HTTP failed"
  assert_profile "$cookie"
  curl -fsS -H "Cookie: $SESSION_COOKIE=$cookie" "$APP_LOOPBACK/" >"$OUT_DIR/profile.html"
  start_store_app redis
  start_store_app postgres
  # The profile page needs no provider (no token refresh within the token's hour).
  stop_provider

  local have_ceiling=1
  if [[ -x "$CEILING_BIN" ]]; then
    start_ceiling "$OUT_DIR/guest.html"
  else
    warn "$CEILING_BIN is missing (bench/run.sh build): no ceiling, no ratios"
    have_ceiling=0
  fi

  # Written to a scratch directory, moved into bench/out at the end: an interrupted run leaves
  # the previous results whole.
  local wrk_dir="$BENCH_WORK/wrk"
  mkdir -p "$wrk_dir"
  local targets=(guest profile) target url i
  ((have_ceiling)) && targets=(ceiling "${targets[@]}")
  declare -A urls=([ceiling]="$CEILING_URL/" [guest]="$APP_LOOPBACK/" [profile]="$APP_LOOPBACK/")
  declare -A cookies=([profile]="$cookie")
  local kind
  for kind in redis postgres; do
    [[ -n "${STORE_APP_URL[$kind]:-}" ]] || continue
    targets+=("profile-$kind")
    urls[profile-$kind]="${STORE_APP_URL[$kind]}/"
    cookies[profile-$kind]="${STORE_APP_COOKIE[$kind]}"
  done
  wrk_for() {
    local target="$1" duration="$2"
    if [[ -n "${cookies[$target]:-}" ]]; then
      wrk_cmd "$duration" "${urls[$target]}" -H "Cookie: $SESSION_COOKIE=${cookies[$target]}"
    else
      wrk_cmd "$duration" "${urls[$target]}"
    fi
  }
  for target in "${targets[@]}"; do
    say "warm-up: $target (2 s)"
    wrk_for "$target" 2 >/dev/null
  done
  # Interleaved runs: a slow phase of the machine hits every target alike.
  for ((i = 1; i <= WRK_RUNS; i++)); do
    for target in "${targets[@]}"; do
      say "wrk $target, run $i/$WRK_RUNS (${WRK_DURATION} s)"
      wrk_for "$target" "$WRK_DURATION" | tee "$wrk_dir/$target-$i.txt" | grep -E 'Requests/sec|^ +(50|99)%' >&2
    done
  done
  assert_profile "$cookie" # the sessions survived the runs
  for kind in "${!STORE_APP_URL[@]}"; do
    assert_profile "${STORE_APP_COOKIE[$kind]}" "${STORE_APP_URL[$kind]}"
  done
  rm -rf "$OUT_DIR/wrk"
  mv "$wrk_dir" "$OUT_DIR/wrk"

  local pin_note
  pin_note=$(pin_note)
  write_json "$OUT_DIR/throughput.json" \
    '{ duration: +a[0], runs: +a[1], threads: +a[2], connections: +a[3], pinning: a[4],
       bytes: { guest: +a[5], profile: +a[6], ceiling: a[7] === "1" ? +a[5] : null,
                "profile-redis": a[8] === "" ? null : +a[8],
                "profile-postgres": a[9] === "" ? null : +a[9] } }' \
    "$WRK_DURATION" "$WRK_RUNS" "$CLIENT_THREADS" "$WRK_CONNECTIONS" "$pin_note" \
    "$(stat -c %s "$OUT_DIR/guest.html")" "$(stat -c %s "$OUT_DIR/profile.html")" "$have_ceiling" \
    "$([[ -n "${STORE_APP_URL[redis]:-}" ]] && stat -c %s "$OUT_DIR/profile-redis.html")" \
    "$([[ -n "${STORE_APP_URL[postgres]:-}" ]] && stat -c %s "$OUT_DIR/profile-postgres.html")"
  write_meta throughput "${CLIENT_PIN[*]} wrk -t$CLIENT_THREADS -c$WRK_CONNECTIONS -d${WRK_DURATION}s --timeout 2s --latency [-H 'Cookie: $SESSION_COOKIE=…'] URL (after a 2 s warm-up; $WRK_RUNS interleaved runs; $pin_note)"
  stop_ceiling
  stop_app
  stop_store_apps
  PIN_SERVERS=0
}

# start_store_app KIND (redis or postgres): a second instance of the app (same binary and
# APP_URL, another port) whose sessions live in a fresh redis-server or in PostgreSQL (both on the
# client's CPU), signed in once; sets STORE_APP_URL[KIND] and STORE_APP_COOKIE[KIND]. The stand-in
# knows one redirect URI (APP_URL), so the login client connects to this instance's port for
# APP_URL (login_cookie's APP_CONNECT). Without the server: a warning, no figure for it.
declare -A STORE_APP_URL=() STORE_APP_COOKIE=() STORE_APP_PID=()
start_store_app() {
  local kind="$1" store_url
  case "$kind" in
    redis)
      command -v redis-server >/dev/null || {
        warn "redis-server is missing (apt-get install -y redis-server): no profile figure with the Redis store"
        return 0
      }
      start_redis
      store_url="redis://127.0.0.1:$REDIS_PORT"
      ;;
    postgres)
      command -v pg_ctlcluster >/dev/null || {
        warn "PostgreSQL is missing (apt-get install -y postgresql): no profile figure with the PostgreSQL store"
        return 0
      }
      start_postgres
      store_url="$POSTGRES_URL"
      ;;
  esac
  local sqlite_pid="$APP_PID" sqlite_port="$APP_PORT" sqlite_loopback="$APP_LOOPBACK"
  APP_PORT=$(free_ports 1)
  APP_LOOPBACK="http://127.0.0.1:$APP_PORT"
  start_app SESSION_DATABASE_URL="$store_url"
  STORE_APP_PID[$kind]="$APP_PID"
  STORE_APP_URL[$kind]="$APP_LOOPBACK"
  STORE_APP_COOKIE[$kind]=$(login_cookie) || die "login over HTTP ($kind instance) failed"
  APP_PID="$sqlite_pid" APP_PORT="$sqlite_port" APP_LOOPBACK="$sqlite_loopback"
  assert_profile "${STORE_APP_COOKIE[$kind]}" "${STORE_APP_URL[$kind]}"
  curl -fsS -H "Cookie: $SESSION_COOKIE=${STORE_APP_COOKIE[$kind]}" "${STORE_APP_URL[$kind]}/" >"$OUT_DIR/profile-$kind.html"
}

stop_store_apps() {
  local kind pid
  for kind in "${!STORE_APP_PID[@]}"; do
    pid="${STORE_APP_PID[$kind]}"
    stop_pid "$pid"
    forget_pid "$pid"
  done
  STORE_APP_PID=() STORE_APP_URL=() STORE_APP_COOKIE=()
  stop_server REDIS_PID
}

part_login() {
  start_provider
  start_app
  say "$LOGINS logins over HTTP (after 1 warm-up login)"
  node "$BENCH_DIR/login-client.mjs" bench "$LOGINS" "$OUT_DIR/login.json"
  write_meta login "node bench/login-client.mjs bench $LOGINS (sequential, fresh cookie jar per login; app with OIDC_DISCOVERY_TTL_SECS=300)"
  stop_app
  stop_provider
}

part_tti() {
  ensure_node_modules
  start_app
  say "time to interactive: $TTI_LOADS loads in fresh browser contexts"
  node "$BENCH_DIR/tti.mjs" "$TTI_LOADS" "$OUT_DIR/tti.json"
  write_meta tti "node bench/tti.mjs $TTI_LOADS (Chromium headless, fresh context per load, after 1 warm-up load)"
  stop_app
}

part_memory() {
  start_provider
  start_app
  sleep 2
  local idle idle_hwm after hwm rows
  idle=$(rss_kb "$APP_PID")
  idle_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$APP_PID/status")
  say "RSS idle: ${idle} kB; creating $SESSIONS signed-in sessions (complete logins)"
  local result
  result=$(node "$BENCH_DIR/login-client.mjs" sessions "$SESSIONS" 16) || die "creating sessions failed: $result"
  sleep 2
  after=$(rss_kb "$APP_PID")
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$APP_PID/status")
  rows=null
  if command -v sqlite3 >/dev/null; then
    rows=$(sqlite3 "file:$APP_DB?mode=ro" 'select count(*) from tower_sessions' 2>/dev/null || echo null)
  fi
  say "RSS with $SESSIONS sessions: ${after} kB (peak ${hwm} kB; rows in the store: $rows)"
  write_json "$OUT_DIR/memory.json" \
    '{ idleKb: +a[0], idlePeakKb: +a[1], sessions: +a[2], afterKb: +a[3], peakKb: +a[4],
       storeRows: a[5] === "null" ? null : +a[5], creation: JSON.parse(a[6]) }' \
    "$idle" "$idle_hwm" "$SESSIONS" "$after" "$hwm" "$rows" "$result"
  write_meta memory "VmRSS of the app 2 s after start (fresh SQLite store), then 2 s after node bench/login-client.mjs sessions $SESSIONS 16 (complete logins through the stand-in, 16 in flight: each leaves one signed-in session)"
  stop_app
  stop_provider
}

part_devloop() {
  command -v cargo >/dev/null || die "cargo is missing"
  # A separate site root: the dev bundle must not replace the release one in target/site.
  local site="$REPO_ROOT/target/bench-dev-site" log="$BENCH_WORK/devloop.log" times=() start end i
  dev_build() {
    if ! LEPTOS_SITE_ROOT="$site" cargo leptos build --project leptos-fusionauth-demo >"$log" 2>&1; then
      cat "$log" >&2
      die "cargo leptos build failed"
    fi
  }
  say "dev build, warm-up (not measured)"
  dev_build
  for ((i = 1; i <= DEVLOOP_RUNS; i++)); do
    touch "$REPO_ROOT/src/pages/home.rs"
    start=$(date +%s.%N)
    dev_build
    end=$(date +%s.%N)
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')")
    say "dev build $i/$DEVLOOP_RUNS: ${times[-1]} s"
  done
  write_json "$OUT_DIR/devloop.json" '{ seconds: a.map(Number) }' "${times[@]}"
  write_meta devloop "touch src/pages/home.rs && cargo leptos build (dev; LEPTOS_SITE_ROOT=target/bench-dev-site so target/site keeps the release bundle), after 1 warm-up build"
}

part_report() {
  say "RESULTS.md"
  node "$BENCH_DIR/report.mjs" results "$OUT_DIR" "$BENCH_DIR/RESULTS.md" "$OUT_DIR/throughput.dat"
  if ! command -v gnuplot >/dev/null; then apt_install gnuplot-nox || warn "gnuplot could not be installed: no chart"; fi
  if [[ -s "$OUT_DIR/throughput.dat" ]] && command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$OUT_DIR/throughput.dat'; outfile='$BENCH_DIR/throughput.png'" "$BENCH_DIR/throughput.gp"
    say "wrote bench/RESULTS.md and bench/throughput.png"
  else
    rm -f "$BENCH_DIR/throughput.png" # never leave a chart of older figures
    say "wrote bench/RESULTS.md (no throughput ratios: no chart)"
  fi
}

# ---------------------------------------------------------------------------------------------

parts=("$@")
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
for part in "${parts[@]}"; do
  case "$part" in
    build | bundle | throughput | login | tti | memory | devloop | report) ;;
    *) die "unknown part '$part' (build bundle throughput login tti memory devloop report)" ;;
  esac
done
for part in "${parts[@]}"; do
  "part_$part"
done
# BENCH_NO_REPORT=1 (bench/compare.sh): raw results in OUT_DIR only, RESULTS.md untouched.
[[ " ${parts[*]} " == *" report "* || -n "${BENCH_NO_REPORT:-}" ]] || part_report

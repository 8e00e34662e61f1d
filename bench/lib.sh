# Shared by bench/run.sh, bench/load.sh and bench/flood.sh (source it, do not run it).
# shellcheck shell=bash disable=SC2034  # the globals are used by the scripts that source this file
#
# Starts what a measurement needs — the stand-in provider, the app's release binary, the ceiling
# server — on loopback, waits until each answers, and stops every one of them on exit (normal
# end, error or Ctrl-C): nothing is left running. Each process gets its own files under
# $BENCH_WORK (a temporary directory removed on exit; set BENCH_KEEP_WORK=1 to keep it).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# Same default as .ci/run: cargo's artefacts outside the clone, shared with CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/leptos-fusionauth/target}"

APP_BIN="${APP_BIN:-$CARGO_TARGET_DIR/release/leptos-fusionauth}"
CEILING_BIN="${CEILING_BIN:-$CARGO_TARGET_DIR/release/bench-ceiling}"
# cargo-leptos writes the site (wasm, JS, CSS) to target/site in the repository, whatever
# CARGO_TARGET_DIR is.
SITE_ROOT="${SITE_ROOT:-$REPO_ROOT/target/site}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# demo_setting KEY: KEY's value in .env.example, where the demo settings (client id and secret,
# issuer, app URL) are written once for the app and all the tooling. Plain KEY=VALUE lines, as
# that file has them.
demo_setting() {
  local value
  value=$(sed -n "s/^$1=//p" "$REPO_ROOT/.env.example" | tail -n 1)
  [[ -n "$value" ]] || die "$REPO_ROOT/.env.example has no $1"
  printf '%s\n' "$value"
}

# url_port URL: the explicit port of URL (http://host:PORT[/...]).
url_port() {
  [[ "$1" =~ ^[a-z]+://[^/]*:([0-9]+)(/.*)?$ ]] || die "$1 has no explicit port"
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# The demo client, and the public URLs (the app checks Origin against APP_URL; cookies are per
# host name, as in a browser) and the loopback addresses the servers listen on.
DEMO_CLIENT_ID="$(demo_setting CLIENT_ID)" || exit 1
DEMO_CLIENT_SECRET="$(demo_setting CLIENT_SECRET)" || exit 1
APP_URL="$(demo_setting APP_URL)" || exit 1
APP_PORT="$(url_port "$APP_URL")" || exit 1
APP_LOOPBACK="http://127.0.0.1:$APP_PORT"
ISSUER="$(demo_setting ISSUER)" || exit 1
ISSUER_PORT="$(url_port "$ISSUER")" || exit 1
PROVIDER_CONTROL_PORT=9012
CEILING_PORT=5101
CEILING_URL="http://127.0.0.1:$CEILING_PORT"
SESSION_COOKIE=leptos_fusionauth_session

# Raw results of each part (JSON, wrk output); bench/report.mjs turns them into RESULTS.md.
OUT_DIR="${OUT_DIR:-$BENCH_DIR/out}"
mkdir -p "$OUT_DIR"

# CPU pinning for the throughput and load measurements (BENCH_PIN=0 turns it off): with
# PIN_SERVERS=1, start_app and start_ceiling run the server on the last CPU, and wrk runs on the
# others, so the client never takes the server's CPU and every server gets the same one.
NPROC=$(nproc)
SERVER_PIN=()
CLIENT_PIN=()
CLIENT_THREADS=$(((NPROC + 1) / 2))
SERVER_CPUS="all"
CLIENT_CPUS="all"
if [[ "${BENCH_PIN:-1}" == 1 ]] && ((NPROC >= 2)) && command -v taskset >/dev/null; then
  SERVER_CPUS=$((NPROC - 1))
  CLIENT_CPUS="0-$((NPROC - 2))"
  [[ $NPROC == 2 ]] && CLIENT_CPUS=0
  SERVER_PIN=(taskset -c "$SERVER_CPUS")
  CLIENT_PIN=(taskset -c "$CLIENT_CPUS")
  CLIENT_THREADS=$((NPROC - 1))
fi
PIN_SERVERS=0

BENCH_WORK="$(mktemp -d "${TMPDIR:-/tmp}/leptos-fusionauth-bench.XXXXXX")"
BENCH_PIDS=()
APP_PID=""
PROVIDER_PID=""
CEILING_PID=""

# Stops one process we started (TERM, then KILL after 5 s) and waits for it.
stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# track_started PID URL SECONDS LOG WHAT: stops PID on exit, and waits until URL answers; if it
# does not, prints LOG and fails with "WHAT did not start".
track_started() {
  local pid="$1" url="$2" timeout="$3" log="$4" what="$5"
  BENCH_PIDS+=("$pid")
  wait_http "$url" "$timeout" "$pid" || {
    cat "$log" >&2
    die "$what did not start"
  }
}

# stop_server VAR: stops now the process whose pid VAR holds (PROVIDER_PID, APP_PID,
# CEILING_PID), and empties VAR.
stop_server() {
  local var="$1"
  stop_pid "${!var}"
  forget_pid "${!var}"
  printf -v "$var" '%s' ""
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  BENCH_PIDS=()
  if [[ -n "${BENCH_KEEP_WORK:-}" ]]; then
    echo "kept $BENCH_WORK" >&2
  else
    rm -rf "$BENCH_WORK"
  fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local pid="$1" kept=() p
  for p in "${BENCH_PIDS[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  BENCH_PIDS=("${kept[@]}")
}

# wait_http URL [SECONDS] [PID]: until URL answers 2xx; fails early when PID has exited.
wait_http() {
  local url="$1" timeout="${2:-60}" pid="${3:-}" i
  for ((i = 0; i < timeout * 10; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

# Refuse to measure a server someone else left running on our ports.
ensure_port_free() {
  local port="$1" what="$2"
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port ($what) is already in use: stop whatever listens there first (ss -ltnp 'sport = :$port')"
  fi
}

# Reads VmRSS of PID, in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Reads VmHWM (peak RSS) of PID, in kB.
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# free_ports N: N distinct TCP ports that are free on 127.0.0.1 now, one a line.
free_ports() {
  node -e '
    const net = require("net");
    const servers = Array.from({ length: +process.argv[1] }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
      console.log(servers.map((s) => s.address().port).join("\n"));
      servers.forEach((s) => s.close());
    });
  ' "$1"
}

# use_free_ports: the app, the stand-in provider and its control API on free loopback ports
# instead of .env.example's (5001, 9011, 9012), so that a measurement can run beside a dev stand
# or the Playwright suite. start_provider registers the app's URL with the stand-in.
use_free_ports() {
  local ports
  mapfile -t ports < <(free_ports 3)
  ((${#ports[@]} == 3)) || die "no free ports"
  APP_PORT=${ports[0]}
  APP_URL="http://localhost:$APP_PORT"
  APP_LOOPBACK="http://127.0.0.1:$APP_PORT"
  ISSUER_PORT=${ports[1]}
  ISSUER="http://localhost:$ISSUER_PORT"
  PROVIDER_CONTROL_PORT=${ports[2]}
}

# The commit measured: HEAD, with "+dirty" when tracked files differ from it (BENCH_COMMIT, when
# set, names the commit of an APP_BIN built elsewhere: bench/compare.sh).
bench_commit() {
  if [[ -n "${BENCH_COMMIT:-}" ]]; then
    printf '%s\n' "$BENCH_COMMIT"
    return 0
  fi
  local commit
  commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] || commit="$commit+dirty"
  printf '%s\n' "$commit"
}

# How the server and the client share the CPUs (see SERVER_PIN), for the reports.
pin_note() {
  if [[ ${#SERVER_PIN[@]} -gt 0 ]]; then
    printf 'server pinned to CPU %s, client to CPU %s (taskset)\n' "$SERVER_CPUS" "$CLIENT_CPUS"
  else
    printf 'no CPU pinning\n'
  fi
}

# write_json FILE JS-EXPRESSION [ARGS...]: the expression sees `a` (the arguments).
write_json() {
  local file="$1" expr="$2"
  shift 2
  node -e "const a = process.argv.slice(1); require('fs').writeFileSync('$file', JSON.stringify($expr, null, 2) + '\n');" -- "$@"
}

start_provider() {
  ensure_port_free "$ISSUER_PORT" "stand-in provider"
  ensure_port_free "$PROVIDER_CONTROL_PORT" "stand-in provider control"
  [[ -d "$REPO_ROOT/end2end/node_modules/oidc-provider" ]] ||
    die "end2end/node_modules is missing: run scripts/setup-toolchain.sh (or npm ci in end2end/)"
  say "starting the stand-in provider ($ISSUER)"
  (
    cd "$REPO_ROOT/end2end" &&
      PORT="$ISSUER_PORT" CONTROL_PORT="$PROVIDER_CONTROL_PORT" KICKSTART_VARIABLES="{\"appUrl\":\"$APP_URL\"}" \
        PROVIDER_DATA_DIR="$BENCH_WORK/provider-data" exec node provider/server.mjs
  ) \
    >"$BENCH_WORK/provider.log" 2>&1 &
  PROVIDER_PID=$!
  track_started "$PROVIDER_PID" "$ISSUER/.well-known/openid-configuration" 60 "$BENCH_WORK/provider.log" "the stand-in provider"
}

stop_provider() { stop_server PROVIDER_PID; }

# start_app [NAME=VALUE...]: the release binary with the Playwright suite's environment, a fresh
# SQLite session database, discovery cached for 5 min and logs at `warn` (no per-request or
# per-login log line during a measurement). Extra arguments override the environment.
start_app() {
  [[ -x "$APP_BIN" ]] || die "$APP_BIN is missing: run bench/run.sh build first"
  [[ -f "$SITE_ROOT/pkg/leptos-fusionauth.wasm" ]] || die "$SITE_ROOT/pkg has no wasm: run bench/run.sh build first"
  ensure_port_free "$APP_PORT" "app"
  APP_DB_DIR="$BENCH_WORK/app-$(date +%s%N)"
  mkdir -p "$APP_DB_DIR"
  APP_DB="$APP_DB_DIR/sessions.sqlite"
  say "starting the app ($APP_URL, sessions in $APP_DB)"
  local prefix=()
  [[ "$PIN_SERVERS" == 1 ]] && prefix=("${SERVER_PIN[@]}")
  (
    cd "$REPO_ROOT" || exit 1
    exec "${prefix[@]}" env \
      CLIENT_ID="$DEMO_CLIENT_ID" \
      CLIENT_SECRET="$DEMO_CLIENT_SECRET" \
      ISSUER="$ISSUER" \
      APP_SECRET_KEY=bench-only-secret-key-bench-only-secret-key-0123456789 \
      APP_URL="$APP_URL" \
      OIDC_DISCOVERY_TTL_SECS=300 \
      SESSION_DATABASE_URL="sqlite://$APP_DB?mode=rwc" \
      RUST_LOG=warn \
      LEPTOS_SITE_ROOT="$SITE_ROOT" \
      LEPTOS_SITE_ADDR="127.0.0.1:$APP_PORT" \
      "$@" \
      "$APP_BIN"
  ) >"$APP_DB_DIR/app.log" 2>&1 &
  APP_PID=$!
  track_started "$APP_PID" "$APP_LOOPBACK/healthz" 60 "$APP_DB_DIR/app.log" "the app"
}

stop_app() { stop_server APP_PID; }

# start_ceiling [HTML_FILE]: the bare axum server of bench/ceiling on 127.0.0.1:5101.
start_ceiling() {
  [[ -x "$CEILING_BIN" ]] || die "$CEILING_BIN is missing: run bench/run.sh build first"
  ensure_port_free "$CEILING_PORT" "ceiling"
  say "starting the ceiling server ($CEILING_URL)"
  local prefix=()
  [[ "$PIN_SERVERS" == 1 ]] && prefix=("${SERVER_PIN[@]}")
  "${prefix[@]}" "$CEILING_BIN" "$@" >"$BENCH_WORK/ceiling.log" 2>&1 &
  CEILING_PID=$!
  track_started "$CEILING_PID" "$CEILING_URL/" 30 "$BENCH_WORK/ceiling.log" "the ceiling server"
}

stop_ceiling() { stop_server CEILING_PID; }

REDIS_PID=""
REDIS_PORT=""
redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# start_redis: a fresh redis-server on a free loopback port, in memory only (no snapshot, no
# append-only file), its files in the temporary directory.
start_redis() {
  REDIS_PORT=$(free_ports 1)
  ensure_port_free "$REDIS_PORT" "redis-server"
  local dir="$BENCH_WORK/redis" i
  mkdir -p "$dir"
  say "starting redis-server (127.0.0.1:$REDIS_PORT, in memory, on the client's CPU)"
  # On the client's CPU (CLIENT_PIN): the app's CPU stays the app's own.
  "${CLIENT_PIN[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    >"$dir/redis.log" 2>&1 &
  REDIS_PID=$!
  BENCH_PIDS+=("$REDIS_PID")
  for ((i = 0; i < 100; i++)); do
    [[ "$(redis_cli ping 2>/dev/null)" == PONG ]] && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/redis.log" >&2
  die "redis-server did not start"
}

# start_postgres: Debian's PostgreSQL cluster (scripts/postgres.sh starts it and makes the role
# and database), its processes moved to the client's CPU, and the sessions' schema dropped so
# the store starts empty; sets POSTGRES_URL.
POSTGRES_URL=""
start_postgres() {
  POSTGRES_URL=$("$REPO_ROOT/scripts/postgres.sh") || die "PostgreSQL did not start"
  psql -q "$POSTGRES_URL" -c 'drop schema if exists tower_sessions cascade' >/dev/null ||
    die "cannot reach PostgreSQL at $POSTGRES_URL"
  if [[ ${#CLIENT_PIN[@]} -gt 0 ]]; then
    local pid
    for pid in $(pgrep -u postgres postgres); do taskset -a -p -c "$CLIENT_CPUS" "$pid" >/dev/null || true; done
  fi
}

# Logs in over HTTP (bench/login-client.mjs) and prints the app's session cookie value.
login_cookie() {
  APP_URL="$APP_URL" APP_CONNECT="$APP_LOOPBACK" node "$BENCH_DIR/login-client.mjs" cookie
}

# assert_profile COOKIE [BASE]: COOKIE gets the signed-in profile page (not the guest page) from
# the app at BASE (default: APP_LOOPBACK).
assert_profile() {
  local cookie="$1" base="${2:-$APP_LOOPBACK}" body
  body=$(curl -fsS -H "Cookie: $SESSION_COOKIE=$cookie" "$base/") || die "GET $base/ with the session cookie failed"
  grep -q 'You are logged in as' <<<"$body" || die "the session cookie does not give the profile page"
}

ensure_node_modules() {
  [[ -d "$REPO_ROOT/end2end/node_modules/playwright-core" ]] ||
    (cd "$REPO_ROOT/end2end" && npm ci --no-fund --no-audit)
}

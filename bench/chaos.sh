#!/usr/bin/env bash
# Reliability ("chaos") suite: two app instances on one shared session store — Redis, then
# PostgreSQL — under load from a few hundred signed-in clients (each its own user, a request every
# 0.5–1 s to either instance with the same cookie), while faults come one after another:
#
#   1. the session store restarts (persistence on),
#   2. one app instance is killed (SIGKILL) and started again,
#   3. FusionAuth's signing key rotates,
#   4. FusionAuth is down for 30 s,
#   5. the token endpoint answers slower than the refresh lock's lifetime.
#
# Access tokens live 20 s, so every session refreshes several times per fault; refresh tokens are
# one-time use, so the stand-in can tell a refresh token spent twice. A share of the clients logs
# out during the run (some while each fault is on) and keeps sending its old cookie. Per fault
# and store, bench/CHAOS.md gets: requests served, answers other than 2xx/3xx, sessions lost,
# logouts undone, refresh tokens spent twice, and how long until every instance answers normally.
# Exits 3 when any of the figures that must be 0 is not.
#
# Usage: bench/chaos.sh [--quick] [--stores redis,postgres] [--clients N] [--policy OneTimeUse|Reusable]
#   --quick     shorter phases (provider down 10 s instead of 30, ...) and 120 clients: ~4 min per store
#   --stores    which stores, in order (default: redis,postgres)
#   --clients   signed-in clients (default 300)
#   --policy    the application's refresh-token usage policy (default OneTimeUse; with Reusable a
#               token cannot be "spent twice" in the stand-in's sense, see end2end/provider/faults.mjs)
#
# Everything runs on loopback, on free ports: the stand-in provider (end2end/provider), a private
# copy of the release binary (APP_BIN, default target/release/leptos-fusionauth; copied at the
# start, so a rebuild cannot swap it mid-run), a redis-server of its own and a private PostgreSQL
# cluster (initdb in a temporary directory, run as the `postgres` user: the shared Debian cluster
# is left alone). Needs the release build, node, redis-server, redis-cli and PostgreSQL's server
# binaries (apt-get install -y redis-server postgresql). The logs of every process and the raw
# results are kept in a temporary directory (printed at the end); the raw results also go to
# bench/out/chaos/.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC2034,SC2119
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

QUICK=0
STORES="redis,postgres"
CLIENTS=""
POLICY=OneTimeUse
while (($#)); do
  case "$1" in
    --quick) QUICK=1 ;;
    --stores) STORES="$2"; shift ;;
    --clients) CLIENTS="$2"; shift ;;
    --policy) POLICY="$2"; shift ;;
    *) die "usage: bench/chaos.sh [--quick] [--stores redis,postgres] [--clients N] [--policy OneTimeUse|Reusable]" ;;
  esac
  shift
done
INVOCATION="bench/chaos.sh"
((QUICK)) && INVOCATION+=" --quick"
[[ "$STORES" != "redis,postgres" ]] && INVOCATION+=" --stores $STORES"
[[ -n "$CLIENTS" ]] && INVOCATION+=" --clients $CLIENTS"
[[ "$POLICY" != OneTimeUse ]] && INVOCATION+=" --policy $POLICY"
[[ "$POLICY" == OneTimeUse || "$POLICY" == Reusable ]] || die "--policy must be OneTimeUse or Reusable"
if [[ -z "$CLIENTS" ]]; then
  if ((QUICK)); then CLIENTS=120; else CLIENTS=300; fi
fi

# The release binary: APP_BIN, else lib.sh's CARGO_TARGET_DIR one, else the repository's target/.
if [[ ! -x "$APP_BIN" && -x "$REPO_ROOT/target/release/leptos-fusionauth" ]]; then
  APP_BIN="$REPO_ROOT/target/release/leptos-fusionauth"
fi
[[ -x "$APP_BIN" ]] || die "$APP_BIN is missing: build the release binary first (bench/run.sh build)"
[[ -f "$SITE_ROOT/pkg/leptos-fusionauth.wasm" ]] || die "$SITE_ROOT/pkg has no wasm: build the release site first"
for tool in node redis-server redis-cli psql; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y redis-server postgresql"
done
PG_BIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
[[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || die "PostgreSQL's server binaries are missing: apt-get install -y postgresql"
[[ -d "$REPO_ROOT/end2end/node_modules/oidc-provider" ]] ||
  die "end2end/node_modules is missing: run scripts/setup-toolchain.sh (or npm ci in end2end/)"

BUILT_BIN="$APP_BIN"
BUILT_AT=$(date -u -r "$BUILT_BIN" '+%Y-%m-%d %H:%M UTC')
mkdir -p "$BENCH_WORK/bin"
cp "$BUILT_BIN" "$BENCH_WORK/bin/leptos-fusionauth"
APP_BIN="$BENCH_WORK/bin/leptos-fusionauth"
BIN_SHA=$(sha256sum "$APP_BIN" | cut -c1-12)
COMMIT=$(bench_commit) # at the start: the tree may change during the run

# Kept after the run: every process's log and the raw results.
KEEP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/leptos-fusionauth-chaos.XXXXXX")"
PG_DIR=""
PG_PORT=""

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

# shellcheck disable=SC2317  # called by the EXIT trap
chaos_cleanup() {
  local pid
  # whatever a killed driver left running (it records every child it starts)
  for f in "$KEEP_DIR"/*/children.pids; do
    [[ -f "$f" ]] || continue
    while read -r pid; do
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -qE 'leptos-fusionauth|redis-server' "/proc/$pid/cmdline" 2>/dev/null &&
        kill -KILL "$pid" 2>/dev/null
    done <"$f"
  done
  if [[ -n "$PG_DIR" && -d "$PG_DIR/data" ]]; then
    as_postgres "$PG_BIN/pg_ctl -D $PG_DIR/data -m immediate -w stop" >/dev/null 2>&1 || true
    cp "$PG_DIR/postgres.log" "$KEEP_DIR/postgres.log" 2>/dev/null || true
    rm -rf "$PG_DIR"
  fi
  bench_cleanup
}
trap chaos_cleanup EXIT

# A private PostgreSQL cluster on a free port (trust authentication on loopback only), and a
# fresh database in it. Sets PG_URL, PG_START and PG_STOP (commands run as the postgres user).
start_private_postgres() {
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/leptos-fusionauth-chaos-pg.XXXXXX")"
  chmod 755 "$PG_DIR"
  chown postgres:postgres "$PG_DIR" 2>/dev/null || die "cannot give $PG_DIR to the postgres user (run as root)"
  PG_PORT=$(free_ports 1)
  say "initdb: a private PostgreSQL cluster in $PG_DIR (port $PG_PORT)"
  as_postgres "$PG_BIN/initdb -D $PG_DIR/data -U chaos --auth=trust -E UTF8 --no-instructions" >"$KEEP_DIR/initdb.log" 2>&1 ||
    { cat "$KEEP_DIR/initdb.log" >&2; die "initdb failed"; }
  PG_START="$PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/postgres.log -w -o '-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on' start"
  PG_STOP="$PG_BIN/pg_ctl -D $PG_DIR/data -m fast -w stop"
  as_postgres "$PG_START" >/dev/null || { cat "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  psql "postgres://chaos@127.0.0.1:$PG_PORT/postgres" -qc "create database chaos" >/dev/null
  PG_URL="postgres://chaos@127.0.0.1:$PG_PORT/chaos"
}

# The phases (seconds), the share of clients that log out at random times and how many log out
# while each fault is on.
if ((QUICK)); then
  SCHEDULE='{"baselineSecs":15,"storeDownSecs":6,"killDownSecs":3,"providerDownSecs":10,"slowSecs":15,"slowBeyondLockSecs":5,
    "observeSecs":{"store-restart":25,"instance-kill":25,"key-rotation":25,"provider-down":30,"slow-token-endpoint-dropped":25,"slow-token-endpoint":45},
    "logoutShare":0.15,"logoutsPerFault":3,"gapMs":[500,1000],
    "order":["store-restart","instance-kill","key-rotation","provider-down","slow-token-endpoint-dropped","slow-token-endpoint"]}'
else
  SCHEDULE='{"baselineSecs":30,"storeDownSecs":8,"killDownSecs":5,"providerDownSecs":30,"slowSecs":30,"slowBeyondLockSecs":5,
    "observeSecs":{"store-restart":45,"instance-kill":45,"key-rotation":45,"provider-down":60,"slow-token-endpoint-dropped":45,"slow-token-endpoint":75},
    "logoutShare":0.15,"logoutsPerFault":4,"gapMs":[500,1000],
    "order":["store-restart","instance-kill","key-rotation","provider-down","slow-token-endpoint-dropped","slow-token-endpoint"]}'
fi
ACCESS_TOKEN_TTL=20
PROVIDER_TIMEOUT=5

STATUS=0
RESULTS=()
IFS=',' read -r -a STORE_LIST <<<"$STORES"
for store in "${STORE_LIST[@]}"; do
  [[ "$store" == redis || "$store" == postgres ]] || die "unknown store $store (redis, postgres)"
  run_dir="$KEEP_DIR/$store"
  mkdir -p "$run_dir"
  use_free_ports # APP_URL (the load balancer), the stand-in and its control port
  mapfile -t ports < <(free_ports 3)
  # a fresh stand-in per store: its refresh-token ledger and keys start empty
  rm -rf "$BENCH_WORK/provider-data"
  export ACCESS_TOKEN_TTL_SECS=$ACCESS_TOKEN_TTL
  start_provider
  store_json=""
  if [[ "$store" == postgres ]]; then
    [[ -n "$PG_DIR" ]] || start_private_postgres
    store_json=$(node -e 'console.log(JSON.stringify({ url: process.argv[1], startCommand: process.argv[2], stopCommand: process.argv[3], asUser: process.getuid() === 0 ? "postgres" : null }))' \
      "$PG_URL" "$PG_START" "$PG_STOP")
    store_json="\"postgres\": $store_json"
  else
    store_json="\"redis\": {\"port\": ${ports[2]}}"
  fi
  cat >"$run_dir/config.json" <<EOF
{
  "store": "$store",
  "workDir": "$run_dir",
  "out": "$run_dir/result.json",
  "appBin": "$APP_BIN",
  "siteRoot": "$SITE_ROOT",
  "appUrl": "$APP_URL",
  "lbPort": $APP_PORT,
  "instancePorts": [${ports[0]}, ${ports[1]}],
  "issuer": "$ISSUER",
  "controlUrl": "http://127.0.0.1:$PROVIDER_CONTROL_PORT",
  "clientId": "$DEMO_CLIENT_ID",
  "clientSecret": "$DEMO_CLIENT_SECRET",
  "webhookSecret": "$(demo_setting FUSIONAUTH_WEBHOOK_SECRET)",
  "appSecretKey": "chaos-only-secret-key-chaos-only-secret-key-0123456789",
  "clients": $CLIENTS,
  "accessTokenTtlSecs": $ACCESS_TOKEN_TTL,
  "providerTimeoutSecs": $PROVIDER_TIMEOUT,
  "refreshTokenPolicy": "$POLICY",
  "schedule": $SCHEDULE,
  $store_json
}
EOF
  say "$store: two instances, $CLIENTS clients, faults one after another (logs in $run_dir)"
  rc=0
  node "$BENCH_DIR/chaos/run.mjs" "$run_dir/config.json" &
  driver=$!
  BENCH_PIDS+=("$driver")
  wait "$driver" || rc=$?
  forget_pid "$driver"
  stop_provider
  cp "$BENCH_WORK/provider.log" "$run_dir/provider.log" 2>/dev/null || true
  ((rc == 0)) || die "$store: the chaos run failed (exit $rc); logs in $run_dir"
  RESULTS+=("$run_dir/result.json")
done

write_json "$KEEP_DIR/meta.json" \
  '{ date: new Date().toISOString(), commit: a[0], invocation: a[1],
     binary: { path: a[2], built: a[3], sha256: a[4] }, logs: a[5],
     versions: { redis: a[6], postgres: a[7], node: process.version }, machine: a[8] }' \
  "$COMMIT" "$INVOCATION" "$BUILT_BIN" "$BUILT_AT" "$BIN_SHA" "$KEEP_DIR" \
  "$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')" "$("$PG_BIN/postgres" --version | awk '{print $3}')" \
  "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, shared with whatever else runs (no CPU pinning)"

rm -rf "$OUT_DIR/chaos"
mkdir -p "$OUT_DIR/chaos"
cp "$KEEP_DIR/meta.json" "$OUT_DIR/chaos/"
for r in "${RESULTS[@]}"; do cp "$r" "$OUT_DIR/chaos/$(basename "$(dirname "$r")").json"; done
node "$BENCH_DIR/chaos/report.mjs" "$KEEP_DIR/meta.json" "$BENCH_DIR/CHAOS.md" "${RESULTS[@]}" || {
  rc=$?
  ((rc == 3)) || die "bench/chaos/report.mjs failed"
  STATUS=3
}
say "wrote bench/CHAOS.md; logs and raw results kept in $KEEP_DIR"
exit "$STATUS"

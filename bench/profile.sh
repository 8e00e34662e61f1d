#!/usr/bin/env bash
# Where a request's work goes, counted by valgrind's callgrind (instructions, not seconds: the
# same figure whatever else the machine does): the release app on free loopback ports beside the
# stand-in provider, N requests of each page after a warm-up, instrumentation on only for them.
# Writes bench/out/profile-PAGE.callgrind (open with kcachegrind or callgrind_annotate) and
# bench/out/profile.txt: instructions per request and the inclusive share of the functions that
# matter, per page. bench/PROFILE.md reads them.
#
# Usage: bench/profile.sh [N]     (default 2000 requests per page)
#   PAGES="guest profile"          which pages (guest: GET / without a cookie; profile: GET / with
#                                  a signed-in session cookie, SQLite store)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

REQUESTS="${1:-2000}"
PAGES="${PAGES:-guest profile}"
command -v valgrind >/dev/null || die "valgrind is missing: apt-get install -y valgrind"
use_free_ports

# The app binary, run under callgrind with instrumentation off until a page is measured.
REAL_APP_BIN="$APP_BIN"
APP_BIN="$BENCH_WORK/app-under-callgrind"
cat >"$APP_BIN" <<EOF
#!/usr/bin/env bash
exec valgrind --tool=callgrind --instr-atstart=no --dump-instr=no \
  --callgrind-out-file="$BENCH_WORK/callgrind.%p" "$REAL_APP_BIN"
EOF
chmod +x "$APP_BIN"

# requests URL COUNT [CURL ARGS...]: COUNT GETs of URL on one keep-alive connection.
requests() {
  local url="$1" count="$2"
  shift 2
  local urls=()
  for ((i = 0; i < count; i++)); do urls+=(-o /dev/null "$url"); done
  curl -fsS "$@" "${urls[@]}"
}

start_provider
start_app
cookie=$(login_cookie) || die "login over HTTP failed"
assert_profile "$cookie"
stop_provider # the profile page needs no provider within the token's hour

: >"$OUT_DIR/profile.txt"
for page in $PAGES; do
  args=()
  [[ "$page" == profile ]] && args=(-H "Cookie: $SESSION_COOKIE=$cookie")
  say "$page: warm-up, then $REQUESTS requests under callgrind"
  requests "$APP_LOOPBACK/" 50 "${args[@]}"
  callgrind_control --zero "$APP_PID" >/dev/null 2>&1
  callgrind_control --instr=on "$APP_PID" >/dev/null 2>&1
  requests "$APP_LOOPBACK/" "$REQUESTS" "${args[@]}"
  callgrind_control --instr=off "$APP_PID" >/dev/null 2>&1
  callgrind_control --dump="$page" "$APP_PID" >/dev/null 2>&1
  dump=$(ls -t "$BENCH_WORK"/callgrind.* | head -n 1)
  cp "$dump" "$OUT_DIR/profile-$page.callgrind"
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  {
    printf '## %s: %s requests, %s instructions, %d per request\n\n' \
      "$page" "$REQUESTS" "$total" "$((total / REQUESTS))"
    callgrind_annotate --inclusive=yes --threshold=99 "$dump" 2>/dev/null |
      sed -n '/file:function/,$p' | sed -n '1,70p' || true
    printf '\n'
  } >>"$OUT_DIR/profile.txt"
done
stop_app
say "wrote $OUT_DIR/profile.txt and $OUT_DIR/profile-*.callgrind"

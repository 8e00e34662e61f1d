#!/usr/bin/env bash
# Property/fuzz run of the /callback handling: CASES random queries and cookies (default 100 000)
# through the real router; each must end on an error-page redirect, never a 5xx or a panic.
# Writes the outcome to docs/FUZZING.md. Usage: scripts/fuzz-callback.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cases="${1:-100000}"
started=$(date +%s)
set +e
FUZZ_CASES="$cases" cargo test --features ssr --test fuzz_callback -- --nocapture 2>&1 | tee /tmp/fuzz-callback.log
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - started ))
result=$([[ $status -eq 0 ]] && echo "passed: no 5xx, no panic, every case redirected to an error page" || echo "FAILED (see the minimal failing input in the log)")
cat > docs/FUZZING.md <<MD
# Fuzzing the callback

\`tests/fuzz_callback.rs\` (proptest) sends random \`/callback\` queries — built from the
callback's own parameter names with hostile byte values, or raw random bytes — with random
session cookies through the real router (in-memory session store, a provider double). Every
answer must be a redirect to \`/auth/error?reason=…\`: no 5xx, no panic, no login.

CI runs 2 000 cases on every change. The long run below is \`scripts/fuzz-callback.sh\`.

| date | commit | cases | wall time (incl. build) | result |
|---|---|---|---|---|
| $(date -u +%Y-%m-%d) | $(git rev-parse --short HEAD) | $cases | ${elapsed} s | $result |

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //').
Command: \`scripts/fuzz-callback.sh $cases\`.
MD
exit "$status"

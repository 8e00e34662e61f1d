#!/usr/bin/env bash
# Measures the built hydrate bundle (the wasm and JS cargo-leptos wrote to target/site/pkg),
# raw and gzip -9, and fails when the gzip total is over the budget. Builds nothing: run
# `cargo leptos build --release` first (a dev build is far larger and fails the budget).
#
# Usage: bench/check-bundle-size.sh [--json FILE]    (PKG_DIR overrides target/site/pkg)
set -euo pipefail

BUDGET_GZIP_BYTES=150000 # 150 KB: wasm + JS, gzip -9 (issue "Benchmarks and budgets")

cd "$(dirname "$0")/.."
PKG_DIR="${PKG_DIR:-target/site/pkg}"
json_out=""
if [[ "${1:-}" == "--json" ]]; then
  json_out="${2:?--json needs a file}"
fi

shopt -s nullglob
files=("$PKG_DIR"/*.wasm "$PKG_DIR"/*.js)
if ((${#files[@]} == 0)); then
  echo "error: no .wasm or .js in $PKG_DIR: build first (cargo leptos build --release)" >&2
  exit 2
fi

total_raw=0
total_gzip=0
rows=()
printf '%-40s %12s %12s\n' "file" "raw bytes" "gzip -9"
for file in "${files[@]}"; do
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  total_raw=$((total_raw + raw))
  total_gzip=$((total_gzip + gz))
  printf '%-40s %12d %12d\n' "$(basename "$file")" "$raw" "$gz"
  rows+=("{\"file\":\"$(basename "$file")\",\"raw\":$raw,\"gzip\":$gz}")
done
printf '%-40s %12d %12d\n' "total (wasm + JS)" "$total_raw" "$total_gzip"
printf "budget: %d bytes gzip\n" "$BUDGET_GZIP_BYTES"

if [[ -n "$json_out" ]]; then
  (IFS=,; printf '{"pkgDir":"%s","files":[%s],"totalRaw":%d,"totalGzip":%d,"budgetGzip":%d}\n' \
    "$PKG_DIR" "${rows[*]}" "$total_raw" "$total_gzip" "$BUDGET_GZIP_BYTES") >"$json_out"
fi

if ((total_gzip > BUDGET_GZIP_BYTES)); then
  echo "FAIL: $total_gzip bytes gzip is $((total_gzip - BUDGET_GZIP_BYTES)) over the budget" >&2
  exit 1
fi
echo "ok: $((BUDGET_GZIP_BYTES - total_gzip)) bytes under the budget"

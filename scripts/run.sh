#!/usr/bin/env bash
# Runs the app at http://localhost:5001 with `cargo leptos watch` (edits rebuild and reload);
# `scripts/run.sh minimal` runs examples/minimal there instead.
# When ISSUER points at localhost:9011 and nothing answers there, the stand-in provider
# (end2end/provider) is started too: log in as richard@example.com / password.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup-toolchain.sh

if [[ ! -f .env ]]; then
  cp .env.example .env
  echo "created .env from .env.example"
fi

issuer="${ISSUER:-$(sed -n 's/^ISSUER=//p' .env | tail -n 1)}"
if [[ "$issuer" == "http://localhost:9011" ]] &&
  ! curl -fsS -o /dev/null "$issuer/.well-known/openid-configuration" 2>/dev/null; then
  echo "no identity provider at $issuer: starting the stand-in provider"
  (cd end2end && exec npm run --silent provider) &
  provider_pid=$!
  trap 'kill $provider_pid 2>/dev/null || true' EXIT
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "$issuer/.well-known/openid-configuration" 2>/dev/null && break
    sleep 0.2
  done
fi

echo "building; then open http://localhost:5001 (first build takes a few minutes)"
# The workspace has two Leptos apps: this one, and examples/minimal (`scripts/run.sh minimal`).
cargo leptos watch --project "${1:-leptos-fusionauth-demo}"

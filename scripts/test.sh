#!/usr/bin/env bash
# Runs every test on a fresh or warm machine: installs the toolchain (idempotent), then
# formatting, lints, the Rust unit and integration tests, the stand-in provider's own tests,
# the provisioning checks, the FusionAuth type contract, the workflow lint, the release build
# and the Playwright suite in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup-toolchain.sh --browser

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy (server and browser code, tests included)"
cargo clippy --all-targets --features ssr -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings

say "Rust unit and integration tests"
# One test at a time: each #[tokio::test] brings its own runtime, and concurrent Leptos renders
# spread over several runtimes in one process were seen to stall now and then (the server itself
# runs one runtime and is load-tested with 200 connections in bench/load.sh).
cargo test --features ssr -- --test-threads=1

say "stand-in provider and other app tests"
(cd end2end && node --test provider/ other-app/)

say "FusionAuth provisioning checks (compose file, kickstart, shared values)"
scripts/check-provisioning.sh

say "FusionAuth type contract (@fusionauth/typescript-client) and its planted-error test"
(cd end2end && npm run --silent check:fusionauth-types && node --test contract/)

say "GitHub Actions workflows (actionlint + shellcheck)"
scripts/lint-workflows.sh

say "release build (server + hydrate bundle)"
cargo leptos build --release

say "hydrate bundle size budget"
bench/check-bundle-size.sh

say "Playwright end-to-end suite (Chromium)"
(cd end2end && npx playwright test)

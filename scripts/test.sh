#!/usr/bin/env bash
# Runs every test on a fresh or warm machine: installs the toolchain (idempotent), then
# formatting, lints, the library's docs and package, the Rust unit and integration tests (the
# store conformance suite against SQLite, a real redis-server and PostgreSQL), the stand-in
# provider's own tests, the provisioning checks, the FusionAuth type contract, the workflow
# lint, the release build of the demo and of examples/minimal, and both Playwright suites in
# Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup-toolchain.sh --browser

say "cargo fmt --check"
cargo fmt --all --check

# The server side of every crate: the library with every backend, the demo and the example.
SERVER_FEATURES=leptos-fusionauth/sqlite,leptos-fusionauth/redis,leptos-fusionauth/postgres,leptos-fusionauth-demo/ssr,minimal/ssr
say "cargo clippy (server and browser code of every crate, tests included)"
cargo clippy --workspace --all-targets --features "$SERVER_FEATURES" -- -D warnings
cargo clippy -p leptos-fusionauth -p leptos-fusionauth-demo -p minimal --lib \
  --target wasm32-unknown-unknown --features leptos-fusionauth-demo/hydrate,minimal/hydrate -- -D warnings

say "the library's documentation and package (leptos-fusionauth)"
RUSTDOCFLAGS="-D warnings" cargo doc -p leptos-fusionauth --no-deps --all-features
# Packaged as crates.io would take it, and built from the package alone (default features).
cargo package -p leptos-fusionauth --allow-dirty --quiet

say "PostgreSQL and Redis for the store tests"
LEPTOS_FUSIONAUTH_TEST_POSTGRES="$(scripts/postgres.sh)"
export LEPTOS_FUSIONAUTH_TEST_POSTGRES

say "Rust unit and integration tests (library and demo)"
# One test at a time: each #[tokio::test] brings its own runtime, and concurrent Leptos renders
# spread over several runtimes in one process were seen to stall now and then (the server itself
# runs one runtime and is load-tested with 200 connections in bench/load.sh).
cargo test --workspace --features "$SERVER_FEATURES" -- --test-threads=1

say "stand-in provider and other app tests, and the suites' TypeScript"
(cd end2end && node --test provider/ other-app/ && npm run --silent typecheck)

say "FusionAuth provisioning checks (compose file, kickstart, shared values)"
scripts/check-provisioning.sh

say "FusionAuth type contract (@fusionauth/typescript-client) and its planted-error test"
(cd end2end && npm run --silent check:fusionauth-types && node --test contract/)

say "GitHub Actions workflows (actionlint + shellcheck)"
scripts/lint-workflows.sh

say "release build (server + hydrate bundle, the demo and examples/minimal)"
cargo leptos build --release

say "hydrate bundle size budget"
bench/check-bundle-size.sh

say "Playwright end-to-end suite (Chromium)"
(cd end2end && npx playwright test)

say "Playwright suite of examples/minimal (Chromium)"
(cd end2end && npx playwright test -c minimal.config.ts)

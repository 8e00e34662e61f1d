#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster for the tests and benchmarks (the server refuses to run as
# root, so it runs as its own user via pg_ctlcluster), makes a role and a database for them
# (idempotent), and prints the URL to use:
#   export LEPTOS_FUSIONAUTH_TEST_POSTGRES="$(scripts/postgres.sh)"
set -euo pipefail

ROLE=leptos_fusionauth
DATABASE=leptos_fusionauth_test

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -c "$*"
  else
    sudo -u postgres sh -c "$*"
  fi
}

version=$(pg_lsclusters --no-header | awk '$2 == "main" { print $1; exit }')
if [[ -z "$version" ]]; then
  echo "error: no PostgreSQL cluster 'main' (apt-get install postgresql)" >&2
  exit 1
fi
if ! pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" { print $4 }' | grep -q online; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 50); do
  as_postgres "pg_isready -q" && break
  sleep 0.2
done

if ! as_postgres "psql -tAc \"select 1 from pg_roles where rolname = '$ROLE'\"" | grep -q 1; then
  as_postgres "psql -q -c \"create role $ROLE login password '$ROLE'\"" >&2
fi
if ! as_postgres "psql -tAc \"select 1 from pg_database where datname = '$DATABASE'\"" | grep -q 1; then
  as_postgres "createdb -O $ROLE $DATABASE" >&2
fi
echo "postgres://$ROLE:$ROLE@127.0.0.1:5432/$DATABASE"

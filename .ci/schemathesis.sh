#!/usr/bin/env bash
# schemathesis (PyPI) with every check against the served OpenAPI description of a real
# server, once with an admin's token and once with a worker's: 0 failures, 0 errors.
# Bounded for CI (ATES_ST_EXAMPLES examples per operation, 25 by default) and repeatable:
# the seed is fixed unless ATES_ST_SEED names another (`ATES_ST_SEED=random` for a fresh one),
# so a failure here fails the same way on every machine. A failing run prints in full.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
if ! st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -p ates-server --locked --quiet
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
ATES_ADMIN_PASSWORD=schemathesis-admin RUST_LOG=warn ./target/debug/ates-server serve \
  --data-dir "$data" --listen "127.0.0.1:$port" \
  --login-attempts-per-username 100000 --login-attempts-per-address 100000 >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

token() {
  curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])'
}
admin=$(token admin schemathesis-admin)
curl -sf -X POST "$base/api/v1/users" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"username":"st-worker","password":"st-worker-password","full_name":"Schemathesis Worker","email":"st@popug.inc","role":"worker"}' >/dev/null
worker=$(token st-worker st-worker-password)

seed=${ATES_ST_SEED:-20261125}
seed_flag=(--seed "$seed")
[ "$seed" = random ] && seed_flag=()
for who in admin worker; do
  echo "schemathesis as $who"
  if st run "$base/api-docs/openapi.json" --checks all --no-color \
    --max-examples "${ATES_ST_EXAMPLES:-25}" "${seed_flag[@]}" \
    -H "Authorization: Bearer ${!who}" >"$data/st-$who.txt" 2>&1; then
    tail -n 12 "$data/st-$who.txt"
  else
    cat "$data/st-$who.txt"
    exit 1
  fi
done

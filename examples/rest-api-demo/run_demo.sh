#!/usr/bin/env bash
# Starts users-core on a free port with a fresh SQLite database and a known admin password, walks
# demo-client.ts through every REST endpoint, and stops the server. Exit 0 = every step answered
# as expected. Needs no build: TypeScript runs through tsx.
#
#   examples/rest-api-demo/run_demo.sh            (DEMO_SERVER=cli to use `users-core serve`)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/users-core-demo.XXXXXX")"
server_pid=""

cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # SPEC §6.3: SIGTERM drains and exits; give it a moment, then insist.
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT

# A free port, asked of the OS (the port is released just before the server takes it).
port="$(node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})")"
base="http://127.0.0.1:${port}"

export USERS_CORE_DATABASE_URL="sqlite://${workdir}/users.db"
export USERS_CORE_API_BIND_ADDRESS="127.0.0.1:${port}"
export USERS_CORE_ADMIN_PASSWORD="${USERS_CORE_ADMIN_PASSWORD:-Orchid-Lantern-5150}"
export USERS_CORE_LOG_LEVEL="${USERS_CORE_LOG_LEVEL:-warn}"

if [[ "${DEMO_SERVER:-example}" == "cli" ]]; then
  server=(src/cli/main.ts serve)
else
  server=(examples/rest-api-server.ts)
fi
echo "starting users-core (${server[*]}) on ${base}, database ${USERS_CORE_DATABASE_URL}"
node --import tsx "${server[@]}" >"${workdir}/server.log" 2>&1 &
server_pid=$!

# Wait for /ready (first start migrates and creates signing keys).
ready=0
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "users-core exited before becoming ready:" >&2
    cat "${workdir}/server.log" >&2
    exit 1
  fi
  if node -e "fetch('${base}/ready').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ "$ready" != 1 ]]; then
  echo "users-core did not become ready within 60 s" >&2
  cat "${workdir}/server.log" >&2
  exit 1
fi
echo "users-core is ready"
echo

node --import tsx examples/rest-api-demo/demo-client.ts "$base"

#!/usr/bin/env bash
# Start one FraiseQL server for the peer benchmark harness: start.sh PORT WORKERS
#
# 1. a venv in this folder (.venv, git-ignored) with the locked dependencies and this
#    checkout installed editable (skipped when up to date);
# 2. `fraiseql install` and schema.sql against $DATABASE_URL (both idempotent);
# 3. exec `fraiseql serve harness.app:app` with a pool of $PG_POOL_MAX connections.
#
# Steps 1-2 run under a lock: the harness starts all its targets at once, and two of them
# (fraiseql, fraiseql-2w) use this script.
set -euo pipefail
port=${1:?usage: start.sh PORT WORKERS}
workers=${2:-1}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=$here/.venv
: "${DATABASE_URL:?DATABASE_URL must be set}"

exec 9>"${TMPDIR:-/tmp}/fraiseql-bench-harness.lock"
flock 9
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp=$venv/.fraiseql-installed
if [ ! -f "$stamp" ] || [ "$repo/requirements-lock.txt" -nt "$stamp" ] \
    || [ "$repo/pyproject.toml" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$repo/requirements-lock.txt"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$repo"
  touch "$stamp"
fi
"$venv/bin/python" -m fraiseql.cli.main install --database-url "$DATABASE_URL"
"$venv/bin/python" "$here/prepare.py"
flock -u 9
exec 9>&-

cd "$here/.."   # so that `harness.app` imports as a package-less module path
# One pool per worker process: split $PG_POOL_MAX between them so that the server as a
# whole holds the same number of connections as every other target.
pool=$(( ${PG_POOL_MAX:-16} / workers )); [ "$pool" -ge 1 ] || pool=1
export FRAISEQL_POOL_MAX_SIZE=$pool
export FRAISEQL_POOL_MIN_SIZE=$(( pool < 2 ? pool : 2 ))
exec "$venv/bin/python" -m fraiseql.cli.main serve harness.app:app \
  --host 127.0.0.1 --port "$port" --workers "$workers" --log-level warning

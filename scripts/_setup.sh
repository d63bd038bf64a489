# Sourced by scripts/test and scripts/demo: a venv with the locked dependencies.
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed (GraphiQL's files and the conformance suite come from the npm registry)." >&2
  echo "Install Node.js with npm (Debian: apt-get install -y nodejs npm)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.fraiseql-installed
if [ ! -f "$stamp" ] || [ requirements-lock.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-lock.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
if [ ! -d tests/conformance/node_modules ]; then
  (cd tests/conformance && npm ci --silent --no-audit --no-fund)
fi

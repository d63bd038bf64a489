# Sourced by scripts/test and scripts/demo: a venv with the locked dependencies.
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed (GraphiQL's files, the conformance suite and the auth tests' OIDC provider come from the npm registry)." >&2
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
if [ ! -d tests/auth/oidc/node_modules ]; then
  # The OpenID Connect provider the auth tests run on loopback (npm oidc-provider).
  (cd tests/auth/oidc && npm ci --silent --no-audit --no-fund)
fi

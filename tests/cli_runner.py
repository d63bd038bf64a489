"""Run the ``fraiseql`` command as a user would: a child process, this checkout's code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_fraiseql(*args: str, cwd: Path = REPO, timeout: float = 120,
                 pythonpath: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``fraiseql ARGS`` without the caller's database URL variables (tests pass
    ``--database-url``), importing this checkout (and ``pythonpath``)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FRAISEQL_DATABASE_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), *map(str, pythonpath),
                                                      env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "fraiseql.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)

"""GraphQL-over-HTTP conformance audit, driven from Python.

Runs graphql-http's server audits (``tests/conformance/audit.mjs``, pinned in
that folder's package-lock.json) against a running server::

    results = run_audit("http://127.0.0.1:8000/graphql")
    failed = [r for r in results if r["status"] != "ok" and r["name"].startswith("MUST")]

Each result is ``{"id", "name", "status", "reason"}``; ``status`` is ``"ok"``,
or for a failure ``"error"`` (MUST), ``"warn"`` (SHOULD) or ``"notice"`` (MAY).
Failures also carry ``"response": {"status", "contentType", "body"}``, and an
audit that could not run at all (refused connection, timeout) has
``"fatal": True``. Needs Node.js >= 18 and npm; the audit's node_modules is
installed with ``npm ci`` on first use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["ConformanceError", "conformance_dir", "failures", "run_audit"]


class ConformanceError(RuntimeError):
    """The audit harness itself could not run (not: the server failed audits)."""


def conformance_dir() -> Path:
    """``tests/conformance`` of the source checkout this module lives in."""
    return Path(__file__).resolve().parents[2] / "tests" / "conformance"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConformanceError(
            f"{name} was not found on PATH; the GraphQL-over-HTTP audit needs Node.js >= 18 and npm"
        )
    return path


def _ensure_node_modules(folder: Path, timeout: float) -> None:
    marker = folder / "node_modules" / "graphql-http" / "package.json"
    if marker.is_file():
        return
    cmd = [_tool("npm"), "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    proc = subprocess.run(
        cmd,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0 or not marker.is_file():
        raise ConformanceError(
            f"`npm ci` in {folder} exited with {proc.returncode}:\n"
            f"{(proc.stderr or proc.stdout).strip()}"
        )


def run_audit(
    url: str,
    *,
    folder: Path | None = None,
    request_timeout: float = 10.0,
    timeout: float = 300.0,
) -> list[dict[str, Any]]:
    """Audit the GraphQL endpoint at ``url``; one dict per audit, in audit order.

    ``request_timeout`` bounds each HTTP request of the audit (seconds),
    ``timeout`` bounds ``npm ci`` and the whole audit run each.
    Raises :class:`ConformanceError` if the harness cannot run.
    """
    folder = conformance_dir() if folder is None else Path(folder)
    if not (folder / "audit.mjs").is_file():
        raise ConformanceError(f"no audit.mjs in {folder}")
    _ensure_node_modules(folder, timeout)
    cmd = [
        _tool("node"),
        "audit.mjs",
        url,
        "--timeout-ms",
        str(max(1, int(request_timeout * 1000))),
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConformanceError(f"the audit of {url} did not finish in {timeout}s") from exc
    if proc.returncode != 0:
        raise ConformanceError(
            f"`node audit.mjs {url}` exited with {proc.returncode}:\n{proc.stderr.strip()}"
        )
    results: list[dict[str, Any]] = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConformanceError(f"unexpected audit output line: {line!r}") from exc
        if not isinstance(record, dict) or not {"id", "name", "status"} <= record.keys():
            raise ConformanceError(f"unexpected audit record: {line!r}")
        results.append(record)
    if not results:
        raise ConformanceError(f"the audit printed no results:\n{proc.stderr.strip()}")
    return results


def failures(results: list[dict[str, Any]], *levels: str) -> list[dict[str, Any]]:
    """Results not ``ok`` whose name starts with one of ``levels`` (default MUST, SHOULD)."""
    wanted = levels or ("MUST", "SHOULD")
    return [r for r in results if r["status"] != "ok" and str(r["name"]).split(" ", 1)[0] in wanted]

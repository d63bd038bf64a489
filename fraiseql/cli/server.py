"""Helpers shared by ``dev`` and ``serve``: ports, URLs, the sample query."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fraiseql.schema.model import Schema

SAMPLE_FIELDS = 4
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


class Stopped(Exception):
    """SIGTERM arrived: the server has drained; leave through ``finally`` blocks, exit 0."""


def stop_on_sigterm() -> None:
    """Make SIGTERM raise :class:`Stopped` in the main thread.

    uvicorn handles the signal while serving, drains, then re-raises it with the
    previous handler: this one, so cleanup still runs and the exit status is 0
    (a requested stop is not a failure) instead of death by signal.
    """
    def handler(signum: int, frame: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, handler)


def port_number(text: str) -> int:
    """argparse type: a TCP port (0 lets the OS choose)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def ensure_port_free(host: str, port: int) -> None:
    """Fail early, with the fix, when something already listens on ``host:port``."""
    from fraiseql.cli.common import CliError
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                           "pass another --port (or --host)") from None


def base_url(host: str, port: int) -> str:
    """The URL a local browser or curl should use for this bind address."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def sample_query(schema: Schema) -> str:
    """A small query that works on this schema: a list root with a few scalar fields."""
    roots = [r for r in schema.queries.values() if r.sql_source and r.object is not None
             and not any(not a.type.nullable and not a.has_default
                         for a in r.arguments.values())]
    roots.sort(key=lambda r: not r.is_list)
    for root in roots:
        assert root.object is not None
        names = [f.graphql_name for f in root.object.fields.values()
                 if f.type.kind in ("scalar", "enum")][:SAMPLE_FIELDS]
        if names:
            return f"{{ {root.name} {{ {' '.join(names)} }} }}"
    return "{ __typename }"


def curl_command(url: str, query: str) -> str:
    """A copy-pasteable curl POSTing ``query`` to ``url``."""
    import json
    body = json.dumps({"query": query}).replace("'", "'\\''")
    return f"curl -s {url} -H 'content-type: application/json' -d '{body}'"


def fastest(module: str, fallback: str) -> str:
    """``module`` when it is installed (uvloop, httptools), else ``fallback``."""
    return module if importlib.util.find_spec(module) is not None else fallback

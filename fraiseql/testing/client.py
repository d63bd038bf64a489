"""Clients for testing a FraiseQL app: in-process (ASGI) and over a real socket.

In-process, no socket, the app's startup/shutdown run around the block::

    async with AppClient(app) as client:
        response = await client.post_graphql("{ tags { name } }")
        assert response.json()["data"]["tags"][0]["name"] == "C++"

Over a real socket (uvicorn), when a test needs one (a conformance audit, a
signal, a reconnect)::

    with serve_in_thread(app) as server:          # same process, own event loop
        httpx.get(server.url + "/health")

    with serve_in_subprocess("pkg.module:make_app", env={...}) as server:
        server.process.send_signal(signal.SIGTERM)  # a separate process
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from fraiseql.http.app import FraiseQLApp

__all__ = ["AppClient", "ServedApp", "free_port", "serve_in_subprocess", "serve_in_thread"]

GRAPHQL_PATH = "/graphql"


class AppClient:
    """An httpx.AsyncClient wired to ``app`` in-process; runs its startup and shutdown."""

    def __init__(self, app: FraiseQLApp, base_url: str = "http://testserver",
                 **client_options: Any) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                      base_url=base_url, **client_options)

    async def __aenter__(self) -> Self:
        await self.app.startup()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self.http.aclose()
        finally:
            await self.app.shutdown()

    async def post_graphql(self, query: str, variables: dict[str, Any] | None = None,
                           operation_name: str | None = None, *,
                           headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST a GraphQL request as JSON to /graphql."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        return await self.http.post(GRAPHQL_PATH, json=payload, headers=headers)

    async def get_graphql(self, query: str, variables: dict[str, Any] | None = None,
                          operation_name: str | None = None, *,
                          headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET /graphql with the request in the query string."""
        import json
        params: dict[str, str] = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        if operation_name is not None:
            params["operationName"] = operation_name
        return await self.http.get(GRAPHQL_PATH, params=params, headers=headers)

    async def data(self, query: str, variables: dict[str, Any] | None = None,
                   operation_name: str | None = None) -> Any:
        """The ``data`` of a request that must succeed without errors."""
        response = await self.post_graphql(query, variables, operation_name)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (response.status_code, body)
        return body["data"]

    # Short names for the verbs, so tests can send anything (bad bodies included).
    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.post(url, **kwargs)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, url, **kwargs)


@dataclass
class ServedApp:
    """A server listening on 127.0.0.1: ``url`` is its base, ``graphql_url`` its endpoint."""

    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return self.url + GRAPHQL_PATH


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for servers that must bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: Any, *, host: str = "127.0.0.1", startup_timeout: float = 15.0,
                    **config: Any) -> Iterator[ServedApp]:
    """Serve ``app`` with uvicorn in a background thread (its own event loop).

    The socket is bound before the server starts, so there is no port race.
    The lifespan runs in the server's loop: the app's pool lives there.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = int(sock.getsockname()[1])
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting test
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"uvicorn did not start: {failure[0] if failure else 'exited'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not start within {startup_timeout}s")
            time.sleep(0.01)
        yield ServedApp(host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def serve_in_subprocess(target: str, *, env: Mapping[str, str] | None = None,
                        factory: bool = False, host: str = "127.0.0.1",
                        pythonpath: list[str] | None = None, startup_timeout: float = 20.0,
                        extra_args: list[str] | None = None) -> Iterator[ServedApp]:
    """Serve ``target`` ("module:attribute") with ``python -m uvicorn`` in a child process.

    ``env`` is added to this process's environment; ``pythonpath`` entries are
    prepended to PYTHONPATH (the current directory is always on it). Waits for
    /health to answer. On exit the process is terminated if still running.
    """
    port = free_port(host)
    environ = dict(os.environ)
    environ.update(env or {})
    paths = [*(pythonpath or []), os.getcwd(), *filter(None, [environ.get("PYTHONPATH")])]
    environ["PYTHONPATH"] = os.pathsep.join(paths)
    command = [sys.executable, "-m", "uvicorn", target, "--host", host, "--port", str(port),
               "--log-level", "warning", "--lifespan", "on", *(["--factory"] if factory else []),
               *(extra_args or [])]
    process = subprocess.Popen(command, env=environ, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    served = ServedApp(host, port, process)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(served.url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not answer /health within {startup_timeout}s")
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

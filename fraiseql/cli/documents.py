"""``fraiseql documents register|list``: the trusted documents of a database.

A manifest is a JSON object mapping each document's SHA-256 (lower-case hex of
its UTF-8 text) to its text, as Apollo's and Relay's persisted-query tooling
write it::

    {"5b1e...": "query Posts { posts { title } }", ...}

Apollo's ``persisted-query-manifest.json`` (``{"format":
"apollo-persisted-query-manifest", "operations": [{"id", "body", "name"}]}``) is
read too. Every hash is recomputed and every document parsed before anything
is written: one wrong entry refuses the whole manifest. Registering is one
statement (so one notification reaches the servers); documents already
registered are left as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraiseql.cli.common import action_parsers

APOLLO_FORMAT = "apollo-persisted-query-manifest"
MAX_REPORTED = 10


@dataclass(frozen=True)
class Document:
    """One manifest entry, checked: its hash, text and operation names."""

    hash: str
    query: str
    name: str | None


def register(subparsers: Any) -> None:
    """Add the ``documents`` subcommand and its ``register`` and ``list`` actions."""
    parser = subparsers.add_parser(
        "documents", help="manage the trusted documents (FRAISEQL_TRUSTED_DOCUMENTS=strict)",
        description="Manage the trusted documents: the only GraphQL documents a server "
                    "with FRAISEQL_TRUSTED_DOCUMENTS=strict accepts.")
    actions = action_parsers(
        parser, "fraiseql documents register MANIFEST, or fraiseql documents list")
    url_help = "default: FRAISEQL_DATABASE_URL, else DATABASE_URL, else the dev database"
    add = actions.add_parser(
        "register", help="store the documents of a manifest",
        description="Store the documents of a persisted-query manifest ({sha256: query}) "
                    "as trusted; every hash is verified first, and one wrong entry refuses "
                    "the whole manifest.")
    add.add_argument("manifest", type=Path, help="the manifest (JSON)")
    add.add_argument("--database-url", help=url_help)
    add.set_defaults(handler=run_register)
    show = actions.add_parser("list", help="print the trusted documents",
                              description="Print the trusted documents: hash, operation "
                                          "names and registration time, oldest first.")
    show.add_argument("--database-url", help=url_help)
    show.add_argument("--json", action="store_true",
                      help="print them as a manifest ({sha256: query}) instead")
    show.set_defaults(handler=run_list)



# --- the manifest ----------------------------------------------------------------------


def read_manifest(path: Path) -> list[Document]:
    """The checked documents of the manifest at ``path``, or a CliError listing what is wrong."""
    from fraiseql.cli.common import CliError
    try:
        payload = json.loads(path.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None
    entries, problems = _entries(payload)
    documents: dict[str, Document] = {}
    for key, query, name in entries:
        problem = _problem(key, query)
        if problem is not None:
            problems.append(f"{key!r}: {problem}")
        elif key not in documents:  # Apollo's format may list one document twice
            documents[key] = Document(key, query, name or _operation_names(query))
    if problems:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        raise CliError(f"{path}: {len(problems)} invalid entr{'y' if len(problems) == 1 else 'ies'}"
                       ", nothing registered:\n  " + "\n  ".join(shown)
                       + (f"\n  ... and {more} more" if more else ""))
    if not documents:
        raise CliError(f"{path}: the manifest has no documents")
    return list(documents.values())


def _entries(payload: Any) -> tuple[list[tuple[str, Any, str | None]], list[str]]:
    """(hash, query, name) of each entry, and the problems of the manifest's shape."""
    if not isinstance(payload, dict):
        return [], ["the manifest must be a JSON object {\"<sha256>\": \"<query>\", ...}"]
    if payload.get("format") != APOLLO_FORMAT:
        return [(key, value, None) for key, value in payload.items()], []
    operations = payload.get("operations")
    if payload.get("version") != 1 or not isinstance(operations, list):
        return [], [f"an {APOLLO_FORMAT} must have version 1 and a list of operations"]
    entries, problems = [], []
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or not isinstance(operation.get("id"), str):
            problems.append(f"operations[{index}]: not an object with a string id")
            continue
        name = operation.get("name")
        entries.append((operation["id"], operation.get("body"),
                        name if isinstance(name, str) and name else None))
    return entries, problems


def _problem(key: str, query: Any) -> str | None:
    from graphql import GraphQLError, parse

    from fraiseql.execution.persisted_store import SHA256_HEX, sha256_hex
    if not isinstance(query, str) or not query.strip():
        return "the document must be a non-empty string"
    if SHA256_HEX.fullmatch(key) is None:
        return "not a SHA-256 (64 lower-case hex digits)"
    actual = sha256_hex(query)
    if actual != key:
        return f"the SHA-256 of the document is {actual}"
    try:
        parse(query)
    except GraphQLError as exc:
        return f"the document is not valid GraphQL: {exc.message}"
    return None


def _operation_names(query: str) -> str | None:
    from graphql import OperationDefinitionNode, parse
    names = [d.name.value for d in parse(query).definitions
             if isinstance(d, OperationDefinitionNode) and d.name is not None]
    return ",".join(names) or None


# --- the commands ----------------------------------------------------------------------


def run_register(args: argparse.Namespace) -> int:
    """Verify the manifest, then store its documents in one statement."""
    from fraiseql.cli.common import database_url, mask_url
    from fraiseql.cli.common import run as run_async
    documents = read_manifest(args.manifest)
    url = database_url(args.database_url)

    async def store() -> int:
        conn = await _connect(url)
        try:
            added = await conn.fetch(
                "INSERT INTO fraiseql.trusted_documents (hash, query, name)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
                " ON CONFLICT (hash) DO NOTHING RETURNING hash",
                [d.hash for d in documents], [d.query for d in documents],
                [d.name for d in documents])
            return len(added)
        finally:
            await conn.close()

    added: int = run_async(store())
    print(f"registered {added} new trusted document(s) ({len(documents) - added} already "
          f"registered) from {args.manifest} in {mask_url(url)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the trusted documents, oldest first."""
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)

    async def fetch() -> list[Any]:
        conn = await _connect(url)
        try:
            return list(await conn.fetch("SELECT hash, query, name, created_at"
                                         " FROM fraiseql.trusted_documents"
                                         " ORDER BY created_at, hash"))
        finally:
            await conn.close()

    rows = run_async(fetch())
    if args.json:
        print(json.dumps({row["hash"]: row["query"] for row in rows}, indent=2,
                         ensure_ascii=False))
        return 0
    for row in rows:
        sys.stdout.write(f"{row['hash']}\t{row['name'] or '-'}\t"
                         f"{row['created_at'].isoformat(timespec='seconds')}\n")
    print(f"{len(rows)} trusted document(s)", file=sys.stderr)
    return 0


async def _connect(url: str) -> Any:
    """A connection to a database that has the trusted-documents table."""
    from fraiseql.cli.common import CliError, connect, mask_url
    conn = await connect(url)
    if not await conn.fetchval("SELECT to_regclass('fraiseql.trusted_documents') IS NOT NULL"):
        await conn.close()
        raise CliError(f"{mask_url(url)} has no fraiseql.trusted_documents: run "
                       "`fraiseql install` first (it installs or upgrades the framework SQL)")
    return conn

"""``fraiseql check``: do the views return what the types declare?

For every view a root field reads: it exists, has a ``data`` jsonb column, and
a sample of its rows holds every declared key with a fitting JSON type
(``shape.py``), recursing into embedded objects and lists. One line per
problem; exit status 1 if there is any.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SAMPLE = 100

_RELATION_SQL = "SELECT to_regclass($1) IS NOT NULL"
_DATA_TYPE_SQL = """
SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attname = 'data' AND a.attnum > 0
  AND NOT a.attisdropped
"""


@dataclass
class SourceReport:
    """What was found in one view."""

    source: str
    types: list[str]
    rows: int = 0
    problems: list[str] = field(default_factory=list)


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check", help="check that the views return what the types declare",
        description="Connect to the database and compare, for every view a query reads, a "
                    "sample of its data column with the declared fields and types.")
    parser.add_argument("target", nargs="?", default="app:app", metavar="module:app",
                        help="the app (default: app:app)")
    parser.add_argument("--database-url", help="default: FRAISEQL_DATABASE_URL, else "
                        "DATABASE_URL, else the dev database of this folder")
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                        help=f"rows to read per view (default: {DEFAULT_SAMPLE})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check every source and print the report; 1 when anything is wrong."""
    from fraiseql.cli.common import UsageError, database_url, load_app, mask_url
    from fraiseql.cli.common import run as run_async
    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    app = load_app(args.target)
    url = database_url(args.database_url)
    sources = sources_of(app.schema)
    print(f"checking {len(sources)} view(s) of {args.target} in {mask_url(url)}")
    reports = run_async(_check_all(app.schema, url, sources, args.sample))
    return _print_report(reports)


def sources_of(schema: Any) -> dict[str, list[str]]:
    """Each sql_source read by a root field, with the type names read from it."""
    sources: dict[str, list[str]] = {}
    for root in schema.queries.values():
        if root.sql_source and root.object is not None:
            names = sources.setdefault(root.sql_source, [])
            if root.object.name not in names:
                names.append(root.object.name)
    return dict(sorted(sources.items()))


async def _check_all(schema: Any, url: str, sources: dict[str, list[str]],
                     sample: int) -> list[SourceReport]:
    from fraiseql.cli.common import connect
    conn = await connect(url)
    try:
        return [await _check_source(conn, schema, SourceReport(name, types), sample)
                for name, types in sources.items()]
    finally:
        await conn.close()


async def _check_source(conn: Any, schema: Any, report: SourceReport,
                        sample: int) -> SourceReport:
    import asyncpg
    source = report.source
    try:
        exists = await conn.fetchval(_RELATION_SQL, source)
    except asyncpg.PostgresError as exc:  # e.g. a malformed name
        exists, report.problems = False, [f"{source}: cannot look it up: {exc}"]
    if not exists:
        report.problems = report.problems or [
            f"{source}: expected a view or table named {source}, found none"]
        return report
    data_type = await conn.fetchval(_DATA_TYPE_SQL, source)
    if data_type != "jsonb":
        found = "no column data" if data_type is None else f"data of type {data_type}"
        report.problems.append(f"{source}: expected a column data of type jsonb, found {found}")
        if data_type != "json":
            return report
    try:
        rows = await conn.fetch(f"SELECT data::text AS data, data->>'id' AS id "
                                f"FROM {_quoted(source)} LIMIT $1", sample)
    except asyncpg.PostgresError as exc:
        report.problems.append(f"{source}: reading rows failed: {exc}")
        return report
    report.rows = len(rows)
    report.problems += _row_problems(schema, report, rows)
    return report


def _row_problems(schema: Any, report: SourceReport, rows: list[Any]) -> list[str]:
    """One line per distinct mismatch, with how many sampled rows have it."""
    import orjson

    from fraiseql.cli.shape import object_mismatches
    seen: dict[tuple[str, str, str], tuple[int, str, str | None]] = {}
    for row in rows:
        document = orjson.loads(row["data"]) if row["data"] is not None else None
        for type_name in report.types:
            for problem in object_mismatches(schema, document, type_name, type_name):
                key = (problem.path, problem.expected, problem.found_kind)
                count, found, row_id = seen.get(key, (0, problem.found, row["id"]))
                seen[key] = (count + 1, found, row_id)
    lines = []
    for (path, expected, _), (count, found, row_id) in seen.items():
        example = f", e.g. id {row_id}" if row_id is not None else ""
        lines.append(f"{report.source}: {path}: expected {expected}, found {found} "
                     f"(in {count} of {len(rows)} sampled rows{example})")
    return lines


def _quoted(name: str) -> str:
    """A possibly schema-qualified name as quoted SQL identifiers."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _print_report(reports: list[SourceReport]) -> int:
    width = max((len(r.source) for r in reports), default=0)
    for report in reports:
        status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
        note = "  (no rows: keys not checked)" if report.rows == 0 and not report.problems else ""
        print(f"  {report.source:<{width}}  {', '.join(report.types):<20} "
              f"{report.rows:>4} rows  {status}{note}")
    problems = [line for report in reports for line in report.problems]
    if problems:
        print("\nproblems:")
        for line in problems:
            print(f"  {line}")
        failing = sum(1 for r in reports if r.problems)
        print(f"\nFAILED: {len(problems)} problem(s) in {failing} of {len(reports)} view(s)")
        return 1
    rows = sum(r.rows for r in reports)
    print(f"\nOK: {len(reports)} view(s) match their types ({rows} rows sampled)")
    return 0

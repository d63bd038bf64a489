"""``fraiseql check``: do the views return what the types declare, do the mutation functions exist?

For every view a root field reads: it exists, has a ``data`` jsonb column, and
a sample of its rows holds every declared key with a fitting JSON type
(``shape.py``), recursing into embedded objects and lists. For every mutation
backed by a PostgreSQL function: the function the engine will call exists,
takes (context params as text..., input jsonb) and returns one
``fraiseql.mutation_result``. One line per problem; exit status 1 if there is any.

Security warnings (fraiseql/authz/checks.py) are listed too: the role connected as bypasses
row-level security, or a tenant-scoped type is read through a view that is not
``security_invoker`` or from a table whose row-level security is not enabled and forced.
They are printed, and do not change the exit status.
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


# Built-in type OIDs are fixed in every PostgreSQL.
TEXT_OID, JSONB_OID = 25, 3802
RESULT_TYPE = "fraiseql.mutation_result"

# Every function of that name the engine's call could reach: for an unqualified
# name, those on the search path (visible); for a qualified one, that schema's.
_FUNCTIONS_SQL = """
SELECT n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind,
       p.proretset AS retset, p.prorettype = to_regtype('fraiseql.mutation_result') AS ok_type,
       format_type(p.prorettype, NULL) AS returns, p.proargtypes::oid[] AS args,
       oidvectortypes(p.proargtypes) AS arg_types, p.pronargdefaults AS defaults,
       ($2::text IS NOT NULL OR pg_function_is_visible(p.oid)) AS callable
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = $1 AND ($2::text IS NULL OR n.nspname = $2)
ORDER BY n.nspname, oidvectortypes(p.proargtypes)
"""


@dataclass
class MutationReport:
    """What was found for one mutation's function."""

    mutation: str
    function: str
    context_params: tuple[str, ...]
    problems: list[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        """The call the engine makes, as types: ``fn_x(text, jsonb)``."""
        return f"{self.function}({', '.join(['text'] * len(self.context_params) + ['jsonb'])})"


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
    """Check every source and mutation function and print the report; 1 when anything is wrong."""
    from fraiseql.cli.common import UsageError, database_url, load_app, mask_url
    from fraiseql.cli.common import run as run_async
    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    app = load_app(args.target)
    url = database_url(args.database_url)
    sources = sources_of(app.schema)
    mutations = mutation_functions_of(app.schema)
    also = f" and {len(mutations)} mutation function(s)" if mutations else ""
    print(f"checking {len(sources)} view(s){also} of {args.target} in {mask_url(url)}")
    reports, mutation_reports, warnings = run_async(_check_all(app.schema, url, sources,
                                                               mutations, args.sample))
    return _print_report(reports, mutation_reports, warnings)


def sources_of(schema: Any) -> dict[str, list[str]]:
    """Each sql_source read by a root field, with the type names read from it."""
    sources: dict[str, list[str]] = {}
    for root in schema.queries.values():
        if root.sql_source and root.object is not None:
            names = sources.setdefault(root.sql_source, [])
            if root.object.name not in names:
                names.append(root.object.name)
    return dict(sorted(sources.items()))


def mutation_functions_of(schema: Any) -> list[MutationReport]:
    """One (empty) report per mutation backed by a PostgreSQL function, by mutation name."""
    reports = []
    for name, mutation in sorted((getattr(schema, "mutations", None) or {}).items()):
        function = getattr(mutation, "function", None)
        if function:  # None: a Python resolver, nothing in the database to check
            reports.append(MutationReport(name, function,
                                          tuple(getattr(mutation, "context_params", ()))))
    return reports


async def _check_all(schema: Any, url: str, sources: dict[str, list[str]],
                     mutations: list[MutationReport], sample: int
                     ) -> tuple[list[SourceReport], list[MutationReport], list[str]]:
    from fraiseql.authz.checks import security_warnings
    from fraiseql.cli.common import connect
    conn = await connect(url)
    try:
        reports = [await _check_source(conn, schema, SourceReport(name, types), sample)
                   for name, types in sources.items()]
        for report in mutations:
            await _check_mutation(conn, report)
        return reports, mutations, await security_warnings(conn, schema)
    finally:
        await conn.close()


async def _check_mutation(conn: Any, report: MutationReport) -> None:
    """Fill ``report.problems``: is ``function(text..., jsonb)`` there, returning the result?"""
    schema_name, _, name = report.function.rpartition(".")
    rows = await conn.fetch(_FUNCTIONS_SQL, name, schema_name or None)
    expected = [TEXT_OID] * len(report.context_params) + [JSONB_OID]
    callable_ = [row for row in rows if row["callable"]]
    matching = [row for row in callable_ if _accepts(row, expected)]
    wanted = f"a function {report.signature} returning {RESULT_TYPE}"
    if report.context_params:
        wanted += f" (context params {', '.join(report.context_params)}, then the input)"
    if not matching:
        if callable_:
            found = ", ".join(f"{report.function}({row['arg_types']})" for row in callable_)
        elif rows:
            search_path = await conn.fetchval("SELECT current_setting('search_path')")
            found = ("none on the search_path (" + search_path + "), only "
                     + ", ".join(f"{row['schema']}.{row['name']}({row['arg_types']})"
                                 for row in rows))
        else:
            found = "none"
        report.problems.append(f"{report.mutation}: expected {wanted}, found {found}")
        return
    if len(matching) > 1:
        found = ", ".join(f"{report.function}({row['arg_types']})" for row in matching)
        report.problems.append(f"{report.mutation}: the call {report.signature} is ambiguous "
                               f"between {found}; drop all but one")
        return
    row = matching[0]
    actual = f"{report.function}({row['arg_types']})"
    if row["kind"] != "f":
        kind = {"p": "a procedure", "a": "an aggregate", "w": "a window function"}
        report.problems.append(f"{report.mutation}: {actual} is "
                               f"{kind.get(row['kind'], row['kind'])}, expected {wanted}")
    elif row["retset"] or not row["ok_type"]:
        returns = ("setof " if row["retset"] else "") + row["returns"]
        note = ""
        if row["ok_type"] is None:  # to_regtype found no such type
            note = " (which does not exist in this database: run `fraiseql install`)"
        single = "a single " if row["ok_type"] else ""
        report.problems.append(f"{report.mutation}: {actual} returns {returns}, "
                               f"expected {single}{RESULT_TYPE}{note}")


def _accepts(row: Any, expected: list[int]) -> bool:
    """Whether a call with arguments of types ``expected`` reaches this function."""
    args = list(row["args"])
    extra = len(args) - len(expected)
    return args[:len(expected)] == expected and 0 <= extra <= row["defaults"]


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


def _print_report(reports: list[SourceReport],
                  mutations: list[MutationReport] | None = None,
                  warnings: list[str] | None = None) -> int:
    mutations = mutations or []
    width = max((len(r.source) for r in reports), default=0)
    for report in reports:
        status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
        note = "  (no rows: keys not checked)" if report.rows == 0 and not report.problems else ""
        print(f"  {report.source:<{width}}  {', '.join(report.types):<20} "
              f"{report.rows:>4} rows  {status}{note}")
    width = max((len(m.mutation) for m in mutations), default=0)
    signatures = max((len(m.signature) for m in mutations), default=0)
    for mutation in mutations:
        status = "ok" if not mutation.problems else f"{len(mutation.problems)} problem(s)"
        print(f"  {mutation.mutation:<{width}}  {mutation.signature:<{signatures}}  {status}")
    if warnings:  # before the problems; they do not change the exit status
        print("\nwarnings:")
        for line in warnings:
            print(f"  warning: {line}")
    problems = [line for report in reports for line in report.problems]
    problems += [line for mutation in mutations for line in mutation.problems]
    if problems:
        print("\nproblems:")
        for line in problems:
            print(f"  {line}")
        failing = sum(1 for r in reports if r.problems)
        summary = f"\nFAILED: {len(problems)} problem(s) in {failing} of {len(reports)} view(s)"
        if mutations:
            failing = sum(1 for m in mutations if m.problems)
            summary += f" and {failing} of {len(mutations)} mutation function(s)"
        print(summary)
        return 1
    rows = sum(r.rows for r in reports)
    also = (f"; {len(mutations)} mutation function(s) match their declarations"
            if mutations else "")
    print(f"\nOK: {len(reports)} view(s) match their types ({rows} rows sampled){also}")
    return 0

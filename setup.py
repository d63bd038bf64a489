"""Build hook: fetch the pinned GraphiQL assets from npm before packaging.

All metadata lives in pyproject.toml; this file only adds commands. The vendored
files (fraiseql/http/static/vendor/, gitignored) are fetched with ``npm pack``
and verified against the SHA-256 digests pinned in fraiseql/http/assets.py, for
wheels, sdists-turned-wheels and editable installs (``pip install -e .``) alike.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.develop import develop as _develop
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent


def _fetch_graphiql_assets() -> None:
    # Load the module by path: fraiseql's own dependencies are not installed in
    # the isolated build environment, and assets.py only needs the stdlib.
    path = ROOT / "fraiseql" / "http" / "assets.py"
    spec = importlib.util.spec_from_file_location("_fraiseql_build_assets", path)
    if spec is None or spec.loader is None:
        raise SetupError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    try:
        spec.loader.exec_module(module)
        target = ROOT / "fraiseql" / "http" / "static" / "vendor"
        try:
            folder = module.ensure_graphiql_assets(target)
        except module.AssetError as exc:
            raise SetupError(f"fraiseql: could not fetch the GraphiQL assets: {exc}") from exc
    finally:
        sys.modules.pop(spec.name, None)
    print(f"fraiseql: GraphiQL assets verified in {folder}")


class build_py(_build_py):
    def run(self) -> None:
        _fetch_graphiql_assets()
        # package_data globs may have been expanded before the files existed.
        self.__dict__.pop("data_files", None)
        super().run()


class develop(_develop):  # legacy `setup.py develop`
    def run(self) -> None:
        _fetch_graphiql_assets()
        super().run()


cmdclass: dict[str, Any] = {"build_py": build_py, "develop": develop}

setup(cmdclass=cmdclass)

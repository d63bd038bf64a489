"""Vendored GraphiQL browser assets, fetched from the npm registry and pinned.

Third-party files are never committed. They are fetched with ``npm pack`` when
the package is built or installed (``setup.py`` calls :func:`ensure_graphiql_assets`)
or by hand with ``python -m fraiseql.http.assets``, and every file is checked
against the SHA-256 digest pinned below before it is written.

This module only uses the standard library: ``setup.py`` loads it by file path
inside a build environment where FraiseQL's dependencies are not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PACKAGES",
    "VENDOR_FILES",
    "AssetError",
    "VendorFile",
    "default_vendor_dir",
    "ensure_graphiql_assets",
    "install_from_tarballs",
    "missing_or_invalid",
]

# Exact versions. graphiql 3.x is the last line that ships a UMD bundle
# (``window.GraphiQL``) that runs from a plain <script> tag on top of the React 18
# UMD builds (``window.React`` / ``window.ReactDOM``).
PACKAGES: Mapping[str, str] = {
    "graphiql": "3.8.3",
    "react": "18.3.1",
    "react-dom": "18.3.1",
}


@dataclass(frozen=True)
class VendorFile:
    """One file taken out of an npm tarball."""

    name: str  # file name in the vendor folder (flat, no directories)
    package: str  # npm package name, a key of PACKAGES
    member: str  # path inside the tarball produced by ``npm pack``
    sha256: str  # pinned digest of the file's bytes


VENDOR_FILES: tuple[VendorFile, ...] = (
    VendorFile(
        "graphiql.min.js",
        "graphiql",
        "package/graphiql.min.js",
        "22faab94067b695e5f7959619fbe686ebcc8955002a0c97d986bcbba4ad4bc2c",
    ),
    VendorFile(
        "graphiql.min.css",
        "graphiql",
        "package/graphiql.min.css",
        "b1868247f8e0502cd869e581f5f3cb55b334862e7f51b1d6cbace11059b9adc2",
    ),
    VendorFile(
        "react.production.min.js",
        "react",
        "package/umd/react.production.min.js",
        "d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd",
    ),
    VendorFile(
        "react-dom.production.min.js",
        "react-dom",
        "package/umd/react-dom.production.min.js",
        "35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d",
    ),
    # The MIT licences travel with the files we redistribute in wheels.
    VendorFile(
        "graphiql.LICENSE.txt",
        "graphiql",
        "package/LICENSE",
        "4b18fbe55c4e8f9169cb702be138f4d858a2dad920c39857204ffdc9c1c9fdc4",
    ),
    VendorFile(
        "react.LICENSE.txt",
        "react",
        "package/LICENSE",
        "52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85",
    ),
    VendorFile(
        "react-dom.LICENSE.txt",
        "react-dom",
        "package/LICENSE",
        "52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85",
    ),
)

_NPM_TIMEOUT_SECONDS = 300


class AssetError(RuntimeError):
    """The GraphiQL assets could not be fetched or failed verification."""


def default_vendor_dir() -> Path:
    """``fraiseql/http/static/vendor`` next to this module (gitignored)."""
    return Path(__file__).resolve().parent / "static" / "vendor"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_or_invalid(
    target: Path | None = None, files: Sequence[VendorFile] = VENDOR_FILES
) -> list[VendorFile]:
    """The vendor files that are absent from ``target`` or whose digest differs."""
    folder = default_vendor_dir() if target is None else Path(target)
    bad: list[VendorFile] = []
    for vf in files:
        path = folder / vf.name
        if not path.is_file() or _sha256_file(path) != vf.sha256:
            bad.append(vf)
    return bad


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_from_tarballs(
    tarballs: Mapping[str, Path],
    target: Path,
    files: Iterable[VendorFile] = VENDOR_FILES,
) -> None:
    """Copy ``files`` out of the npm tarballs (package name -> .tgz) into ``target``.

    Only the listed members are read; each is verified before it is written, and
    written under its own flat name, so nothing in a tarball decides a path.
    """
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        opened: dict[str, tarfile.TarFile] = {}
        for vf in files:
            if vf.package not in tarballs:
                raise AssetError(f"no tarball for npm package {vf.package!r}")
            tar = opened.get(vf.package)
            if tar is None:
                tar = stack.enter_context(tarfile.open(tarballs[vf.package], "r:*"))
                opened[vf.package] = tar
            try:
                info = tar.getmember(vf.member)
            except KeyError:
                raise AssetError(
                    f"{vf.member} is not in the {vf.package} tarball ({tarballs[vf.package].name})"
                ) from None
            stream = tar.extractfile(info) if info.isreg() else None
            if stream is None:
                raise AssetError(f"{vf.member} in {vf.package} is not a regular file")
            data = stream.read()
            actual = hashlib.sha256(data).hexdigest()
            if actual != vf.sha256:
                raise AssetError(
                    f"sha256 mismatch for {vf.package} {vf.member}: "
                    f"expected {vf.sha256}, got {actual}"
                )
            _atomic_write(target / vf.name, data)


def _find_npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm was not found on PATH. FraiseQL fetches its GraphiQL assets "
            f"({', '.join(f'{p}@{v}' for p, v in PACKAGES.items())}) from the npm "
            "registry when it is built or installed: install Node.js with npm "
            "(e.g. `apt-get install nodejs npm`) and retry, or fetch them later "
            "with `python -m fraiseql.http.assets`."
        )
    return npm


def _npm_pack(packages: Mapping[str, str], workdir: Path) -> dict[str, Path]:
    npm = _find_npm()
    specs = [f"{name}@{version}" for name, version in packages.items()]
    cmd = [npm, "pack", "--ignore-scripts", "--silent", *specs]
    try:
        proc = subprocess.run(
            cmd,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_NPM_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AssetError(f"`{' '.join(cmd)}` failed: {exc}") from exc
    if proc.returncode != 0:
        raise AssetError(
            f"`{' '.join(cmd)}` exited with {proc.returncode}:\n"
            f"{(proc.stderr or proc.stdout).strip()}"
        )
    tarballs: dict[str, Path] = {}
    for name, version in packages.items():
        # npm names a scoped package's tarball "scope-name-version.tgz".
        fname = f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        path = workdir / fname
        if not path.is_file():
            raise AssetError(f"`npm pack` did not produce {fname} in {workdir}")
        tarballs[name] = path
    return tarballs


def ensure_graphiql_assets(target: Path | None = None, *, force: bool = False) -> Path:
    """Make sure the pinned GraphiQL files are in ``target``; return that folder.

    ``target`` defaults to ``fraiseql/http/static/vendor``. Files that are
    present with the pinned digest are kept; otherwise the packages are fetched
    with ``npm pack`` into a temporary folder and the needed files extracted and
    verified. Raises :class:`AssetError` when npm is missing or fails, or when a
    digest does not match.
    """
    folder = default_vendor_dir() if target is None else Path(target)
    needed = list(VENDOR_FILES) if force else missing_or_invalid(folder)
    if not needed:
        return folder
    packages = {vf.package: PACKAGES[vf.package] for vf in needed}
    with tempfile.TemporaryDirectory(prefix="fraiseql-npm-") as tmp:
        tarballs = _npm_pack(packages, Path(tmp))
        install_from_tarballs(tarballs, folder, needed)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fraiseql.http.assets",
        description="Fetch the pinned GraphiQL assets from the npm registry.",
    )
    parser.add_argument("--target", type=Path, default=None, help="destination folder")
    parser.add_argument("--force", action="store_true", help="fetch even if present")
    parser.add_argument(
        "--check", action="store_true", help="only verify; exit 1 if anything is missing"
    )
    args = parser.parse_args(argv)
    folder = default_vendor_dir() if args.target is None else args.target
    if args.check:
        bad = missing_or_invalid(folder)
        for vf in bad:
            print(f"missing or invalid: {folder / vf.name}", file=sys.stderr)
        return 1 if bad else 0
    try:
        path = ensure_graphiql_assets(folder, force=args.force)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""GraphiQL page and its vendored assets: local only, no path traversal."""

from __future__ import annotations

import hashlib
import io
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fraiseql.http import assets
from fraiseql.http.graphiql import ASSET_CONTENT_TYPES, graphiql_html, static_file


class _Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in {"src", "href"} and value is not None:
                self.urls.append((tag, value))


def _sources(page: bytes) -> list[tuple[str, str]]:
    parser = _Sources()
    parser.feed(page.decode("utf-8"))
    return parser.urls


def test_page_loads_only_local_assets() -> None:
    page = graphiql_html("/graphql", "/graphql/static/")
    urls = _sources(page)
    scripts = [u for tag, u in urls if tag == "script"]
    links = [u for tag, u in urls if tag == "link"]
    assert len(scripts) == 3 and len(links) == 1
    for _tag, url in urls:
        assert not url.lower().startswith(("http://", "https://", "//")), url
        assert url.startswith("/graphql/static/")
        assert url.split("?", 1)[0].rsplit("/", 1)[1] in ASSET_CONTENT_TYPES
    lowered = page.lower()
    assert b"http://" not in lowered and b"https://" not in lowered


def test_page_has_default_query_and_headers_editor() -> None:
    page = graphiql_html("/graphql", "/static", default_headers='{"X-Test": "1"}')
    assert b"__typename" in page
    assert b"isHeadersEditorEnabled: true" in page
    assert b"X-Test" in page
    assert b'src="/static/graphiql.min.js?v=' in page  # missing slash added


def test_endpoint_cannot_break_out_of_the_script() -> None:
    page = graphiql_html('/graphql"</script><script>alert(1)</script>', "/s/").decode()
    assert page.count("<script") == 4
    assert "</script><script>alert(1)" not in page


@pytest.mark.parametrize(
    "prefix", ["https://cdn.example/", "http://x/", "//cdn.example/", "javascript:alert(1)/"]
)
def test_external_static_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        graphiql_html("/graphql", prefix)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../assets.py",
        "../../graphiql.py",
        "..%2fassets.py",
        "/etc/passwd",
        "vendor/graphiql.min.js",
        "graphiql.min.js/../graphiql.min.js",
        "./graphiql.min.js",
        "graphiql.min.js.map",
        "graphiql.LICENSE.txt",
        "GRAPHIQL.MIN.JS",
        "graphiql.min.js\x00",
        "..\\assets.py",
    ],
)
def test_static_file_refuses_other_names(name: str) -> None:
    assert static_file(name) is None


def test_static_file_serves_vendored_files(tmp_path: Path) -> None:
    (tmp_path / "graphiql.min.css").write_bytes(b"body{}")
    assert static_file("graphiql.min.css", tmp_path) == (b"body{}", "text/css; charset=utf-8")
    assert static_file("graphiql.min.js", tmp_path) is None  # absent: a miss, not an error


def test_static_file_serves_installed_assets() -> None:
    if assets.missing_or_invalid():
        pytest.skip("GraphiQL assets not fetched (python -m fraiseql.http.assets)")
    for name, content_type in ASSET_CONTENT_TYPES.items():
        found = static_file(name)
        assert found is not None
        assert found[1] == content_type
        assert hashlib.sha256(found[0]).hexdigest() == next(
            vf.sha256 for vf in assets.VENDOR_FILES if vf.name == name
        )


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_install_from_tarballs_verifies_digests(tmp_path: Path) -> None:
    good = b"console.log(1)"
    vf = assets.VendorFile("x.js", "pkg", "package/x.js", hashlib.sha256(good).hexdigest())
    tgz = _tarball(tmp_path / "pkg-1.0.0.tgz", {"package/x.js": good, "package/../evil": b"!"})
    out = tmp_path / "out"
    assets.install_from_tarballs({"pkg": tgz}, out, [vf])
    assert sorted(p.name for p in out.iterdir()) == ["x.js"]
    assert (out / "x.js").read_bytes() == good
    assert assets.missing_or_invalid(out, [vf]) == []

    bad = _tarball(tmp_path / "pkg-1.0.1.tgz", {"package/x.js": b"tampered"})
    with pytest.raises(assets.AssetError, match="sha256 mismatch"):
        assets.install_from_tarballs({"pkg": bad}, tmp_path / "out2", [vf])
    assert not (tmp_path / "out2" / "x.js").exists()


def test_missing_npm_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets.shutil, "which", lambda _name: None)
    with pytest.raises(assets.AssetError, match="npm was not found"):
        assets.ensure_graphiql_assets(tmp_path)


def test_pins_are_exact() -> None:
    for version in assets.PACKAGES.values():
        assert all(part.isdigit() for part in version.split("."))
    for vf in assets.VENDOR_FILES:
        assert vf.package in assets.PACKAGES
        assert len(vf.sha256) == 64
        assert "/" not in vf.name and vf.name not in {".", ".."}

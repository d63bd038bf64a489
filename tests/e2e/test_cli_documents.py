"""`fraiseql documents register|list`, run as a subprocess against real databases."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import asyncpg
from cli_runner import run_fraiseql as fraiseql

TAGS = "query Tags { tags { name } }"
POSTS = "query Posts { posts(limit: 2) { title } }\nquery Other { tags { slug } }"
ANONYMOUS = "{ tags { slug } }"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def write(path: Path, manifest: Any) -> str:
    path.write_text(json.dumps(manifest))
    return str(path)


async def rows(url: str) -> list[tuple[str, str, str | None]]:
    conn = await asyncpg.connect(url)
    try:
        found = await conn.fetch("SELECT hash, query, name FROM fraiseql.trusted_documents"
                                 " ORDER BY name NULLS LAST")
    finally:
        await conn.close()
    return [(r["hash"], r["query"], r["name"]) for r in found]


async def test_register_then_list(fresh_blog_db_url: str, tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.json", {sha(TAGS): TAGS, sha(POSTS): POSTS,
                                          sha(ANONYMOUS): ANONYMOUS})
    done = fraiseql("documents", "register", manifest, "--database-url", fresh_blog_db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("registered 3 new trusted document(s) (0 already registered)")
    assert await rows(fresh_blog_db_url) == [(sha(POSTS), POSTS, "Posts,Other"),
                                             (sha(TAGS), TAGS, "Tags"),
                                             (sha(ANONYMOUS), ANONYMOUS, None)]
    again = fraiseql("documents", "register", manifest, "--database-url", fresh_blog_db_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("registered 0 new trusted document(s) (3 already registered)")
    listed = fraiseql("documents", "list", "--database-url", fresh_blog_db_url)
    assert listed.returncode == 0, listed.stderr
    lines = sorted(line.split("\t")[:2] for line in listed.stdout.splitlines())
    assert lines == sorted([[sha(TAGS), "Tags"], [sha(POSTS), "Posts,Other"],
                            [sha(ANONYMOUS), "-"]])
    assert "3 trusted document(s)" in listed.stderr
    as_json = fraiseql("documents", "list", "--json", "--database-url", fresh_blog_db_url)
    assert json.loads(as_json.stdout) == {sha(TAGS): TAGS, sha(POSTS): POSTS,
                                          sha(ANONYMOUS): ANONYMOUS}


async def test_a_manifest_with_a_wrong_hash_is_refused_whole(fresh_blog_db_url: str,
                                                             tmp_path: Path) -> None:
    wrong = sha(TAGS + " ")
    manifest = write(tmp_path / "m.json", {sha(POSTS): POSTS, wrong: TAGS})
    done = fraiseql("documents", "register", manifest, "--database-url", fresh_blog_db_url)
    assert done.returncode == 1
    assert "1 invalid entry, nothing registered" in done.stderr
    assert f"'{wrong}': the SHA-256 of the document is {sha(TAGS)}" in done.stderr
    assert "Traceback" not in done.stderr
    assert await rows(fresh_blog_db_url) == []


async def test_every_problem_of_a_manifest_is_reported(fresh_blog_db_url: str,
                                                       tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.json", {"abc": TAGS, sha("{ tags {"): "{ tags {",
                                           sha(TAGS).upper(): TAGS, sha(POSTS): 5})
    done = fraiseql("documents", "register", manifest, "--database-url", fresh_blog_db_url)
    assert done.returncode == 1
    assert "4 invalid entries, nothing registered" in done.stderr
    assert "'abc': not a SHA-256 (64 lower-case hex digits)" in done.stderr
    assert "the document is not valid GraphQL: Syntax Error" in done.stderr
    assert "the document must be a non-empty string" in done.stderr
    assert await rows(fresh_blog_db_url) == []


async def test_apollo_manifest_format(fresh_blog_db_url: str, tmp_path: Path) -> None:
    manifest = write(tmp_path / "persisted-query-manifest.json", {
        "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{"id": sha(TAGS), "body": TAGS, "name": "TagNames", "type": "query"},
                       {"id": sha(TAGS), "body": TAGS, "name": "TagNames", "type": "query"}]})
    done = fraiseql("documents", "register", manifest, "--database-url", fresh_blog_db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("registered 1 new trusted document(s)")
    assert await rows(fresh_blog_db_url) == [(sha(TAGS), TAGS, "TagNames")]


def test_unreadable_manifests(tmp_path: Path) -> None:
    done = fraiseql("documents", "register", str(tmp_path / "missing.json"),
                    "--database-url", "postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 1 and "cannot read" in done.stderr
    (tmp_path / "bad.json").write_text("{nope")
    done = fraiseql("documents", "register", str(tmp_path / "bad.json"))
    assert done.returncode == 1 and "is not valid JSON" in done.stderr
    for manifest in ([TAGS], {}):
        done = fraiseql("documents", "register", write(tmp_path / "m.json", manifest))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert fraiseql("documents").returncode == 2


def test_a_database_without_the_framework_sql_is_a_clear_error(empty_db_url: str,
                                                               tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.json", {sha(TAGS): TAGS})
    for args in (["register", manifest], ["list"]):
        done = fraiseql("documents", *args, "--database-url", empty_db_url)
        assert done.returncode == 1
        assert "has no fraiseql.trusted_documents: run `fraiseql install` first" in done.stderr

"""camelCase <-> snake_case: the exact mapping, and where a round trip is lossy.

The property test states the precise condition under which
``to_snake(to_camel(x)) == x``; names outside it (``ip_v4_address``) still work
because the schema keeps the declared Python name next to the GraphQL one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import fraiseql
from fraiseql.compiler.context import SourceInfo
from fraiseql.config import Settings
from fraiseql.schema import definitions
from fraiseql.schema.naming import to_camel, to_snake


@pytest.mark.parametrize(("snake", "camel"), [
    ("full_name", "fullName"),
    ("dns_1_id", "dns1Id"),
    ("id", "id"),
    ("name", "name"),
    ("created_at", "createdAt"),
    ("is_active", "isActive"),
    ("user_2fa", "user2fa"),
    ("abc_123_def", "abc123Def"),
    ("_private", "_private"),
    ("_private_name", "_privateName"),
    ("__dunder_name", "__dunderName"),
])
def test_names_that_round_trip(snake: str, camel: str) -> None:
    assert to_camel(snake) == camel
    assert to_snake(camel) == snake


@pytest.mark.parametrize(("camel", "snake"), [
    ("HTTPServer", "http_server"),
    ("getHTTPResponseCode", "get_http_response_code"),
    ("userID", "user_id"),
    ("ID", "id"),
    ("HTTP2Server", "http_2_server"),
    ("dns1Id", "dns_1_id"),
    ("x", "x"),
    ("already_snake", "already_snake"),
    ("_privateName", "_private_name"),
])
def test_to_snake_on_acronyms_and_digits(camel: str, snake: str) -> None:
    assert to_snake(camel) == snake


@pytest.mark.parametrize(("snake", "camel"), [
    ("Name", "name"),            # the first letter is always lowered
    ("name_", "name"),           # a trailing underscore is dropped
    ("a__b", "aB"),              # doubled underscores collapse
    ("___", "___"),              # nothing but underscores stays as is
    ("ip_v4_address", "ipV4Address"),
])
def test_to_camel_edge_cases(snake: str, camel: str) -> None:
    assert to_camel(snake) == camel


@pytest.mark.parametrize(("snake", "back"), [
    ("ip_v4_address", "ip_v_4_address"),  # letter->digit inside a word splits it
    ("a_b_c", "a_bc"),                    # consecutive one-letter words merge
    ("a_1_2", "a_12"),                    # digit word after digit word merges
    ("ab12cd", "ab_12cd"),
])
def test_lossy_round_trips_are_what_they_are(snake: str, back: str) -> None:
    assert to_snake(to_camel(snake)) == back
    assert back != snake


# --- the exact round-trip invariant ----------------------------------------------

# A small alphabet and short words, so one-letter and digit words meet often.
_WORD = st.text(alphabet="abxy019", min_size=1, max_size=3)
_FIRST_WORD = st.tuples(st.sampled_from("abxy"), st.text(alphabet="abxy019", max_size=2))
_NAME_WORDS = st.tuples(_FIRST_WORD.map("".join),
                        st.lists(_WORD, max_size=4)).map(lambda t: [t[0], *t[1]])


def round_trips(words: list[str]) -> bool:
    """Whether to_snake(to_camel("_".join(words))) gives the name back.

    to_snake splits at lower/digit->Upper, at Upper->Upper+lower (an acronym's
    end) and at letter->digit. After to_camel the uppercase letters are exactly
    the starts of the later words that begin with a letter, so the name comes
    back unless:
    - a word has a letter directly followed by a digit (a split that was not there);
    - a word starting with a digit follows a word ending in a digit (no split);
    - a one-letter word (after the first) is followed by a word that does not
      begin with two letters (its capital sits next to another capital with no
      lowercase after it, so no acronym boundary is found).
    """
    if any(re.search(r"[a-z][0-9]", w) for w in words):
        return False
    for before, after in itertools.pairwise(words):
        if after[0].isdigit() and before[-1].isdigit():
            return False
    for index in range(1, len(words) - 1):
        word, following = words[index], words[index + 1]
        if len(word) == 1 and word.isalpha() and following[0].isalpha() and not (
                len(following) >= 2 and following[1].isalpha()):
            return False
    return True


@settings(max_examples=300)
@given(_NAME_WORDS)
@example(["dns", "1", "id"])
@example(["ip", "v4", "address"])
@example(["a", "b", "c"])
@example(["a", "b", "cd"])
@example(["x", "1", "2"])
@example(["user", "2fa"])
def test_round_trip_holds_exactly_when_predicted(words: list[str]) -> None:
    name = "_".join(words)
    assert (to_snake(to_camel(name)) == name) is round_trips(words), name


@given(_NAME_WORDS, st.integers(0, 2))
def test_leading_underscores_are_kept(words: list[str], underscores: int) -> None:
    name = "_" * underscores + "_".join(words)
    camel = to_camel(name)
    assert camel.startswith("_" * underscores)
    assert not camel[underscores:].startswith("_")
    if round_trips(words):
        assert to_snake(camel) == name


@given(st.from_regex(r"_*[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True))
def test_both_directions_are_idempotent(name: str) -> None:
    assert to_camel(to_camel(name)) == to_camel(name)
    assert to_snake(to_snake(name)) == to_snake(name)
    assert "_" not in to_camel(name).lstrip("_")
    assert to_snake(name) == to_snake(name).lower()


# --- lossy names still map through the schema -------------------------------------

@pytest.fixture
def _isolated_registry() -> Iterator[None]:
    saved = dict(definitions.KNOWN_CLASSES)
    yield
    definitions.KNOWN_CLASSES.clear()
    definitions.KNOWN_CLASSES.update(saved)


@pytest.mark.usefixtures("_isolated_registry")
def test_lossy_name_maps_through_the_schema_not_to_snake() -> None:
    @fraiseql.type(sql_source="v_device")
    class Device:
        id: fraiseql.ID
        ip_v4_address: str

    @fraiseql.query
    def devices() -> list[Device]: ...

    schema = fraiseql.build_schema([devices])
    device = schema.objects["Device"]
    assert "ipV4Address" in device.fields
    assert device.fields["ipV4Address"].python_name == "ip_v4_address"
    assert to_snake("ipV4Address") == "ip_v_4_address"  # what guessing would read

    app = fraiseql.create_app(schema, settings=Settings())
    app.engine.sources = {"v_device": SourceInfo({"id": "uuid"})}
    plan = app.engine.compile(
        '{ devices(where: {ipV4Address: {eq: "10.0.0.1"}}, orderBy: {ipV4Address: ASC}) '
        "{ ipV4Address } }")
    (sql,) = [root.sql for root in plan.roots]
    # projection, filter, and the sort (in ORDER BY and in the row_number window)
    assert sql.count("'ip_v4_address'") == 4
    assert "ip_v_4_address" not in sql
    assert app.engine.bind(plan) == [["10.0.0.1", 1000, 0]]

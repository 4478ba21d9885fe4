"""Update expressions: the conformance tables (fixtures/updates_*.yaml), then copy-on-write,
the parse cache and the paths an update writes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.expressions import ExpressionContext, parse_update
from silo.tables.expressions.updates import parsed_update
from silo.tables.values import check_item
from tests.unit.tables._fixtures import item_of, params
from tests.unit.tables.test_conditions import assert_error

_KEYS = {"name", "expression", "names", "values", "item", "result", "error", "paths"}


@pytest.mark.parametrize(("case", "items"), params("updates_*.yaml", _KEYS))
def test_update(case: dict[str, Any], items: dict[str, Any]) -> None:
    assert ("result" in case) != ("error" in case), case["name"]
    ctx = ExpressionContext(case.get("names"), case.get("values"))
    if "error" in case and "item" not in case:
        with pytest.raises(ValidationException) as caught:
            parse_update(case["expression"], ctx)
        assert_error(caught.value, case["error"])
        return
    update = parse_update(case["expression"], ctx)
    assert ctx.unused() == ([], [])
    item = check_item(item_of(case["item"], items))
    before = copy.deepcopy(item)
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            update.apply(item)
        assert_error(caught.value, case["error"])
    else:
        assert update.apply(item) == item_of(case["result"], items)
    assert item == before, "apply changed the item it was given"
    if "paths" in case:
        assert list(update.paths()) == case["paths"]


def test_apply_shares_untouched_parts_and_copies_touched_ones() -> None:
    item = {
        "untouched": {"M": {"deep": {"L": [{"S": "x"}]}}},
        "touched": {"M": {"a": {"N": "1"}, "keep": {"L": [{"N": "1"}]}}},
    }
    update = parse_update("SET touched.a = :v", ExpressionContext(None, {":v": {"N": "2"}}))
    new = update.apply(item)
    assert new["untouched"] is item["untouched"]
    assert new["touched"] is not item["touched"]
    assert new["touched"]["M"]["keep"] is item["touched"]["M"]["keep"]
    assert item["touched"]["M"]["a"] == {"N": "1"} and new["touched"]["M"]["a"] == {"N": "2"}


def test_update_is_reusable_across_items() -> None:
    update = parse_update("ADD n :one", ExpressionContext(None, {":one": {"N": "1"}}))
    item: dict[str, Any] = {}
    for expected in ("1", "2", "3"):
        item = update.apply(item)
        assert item == {"n": {"N": expected}}


def test_parse_is_cached_by_text() -> None:
    parsed_update.cache_clear()
    one = parse_update("SET a = :v", ExpressionContext(None, {":v": {"S": "one"}}))
    two = parse_update("SET a = :v", ExpressionContext(None, {":v": {"S": "two"}}))
    assert parsed_update.cache_info().hits == 1
    assert one.apply({}) == {"a": {"S": "one"}} and two.apply({}) == {"a": {"S": "two"}}


def test_document_paths_and_repr() -> None:
    ctx = ExpressionContext({"#m": "m"}, {":v": {"N": "1"}, ":s": {"SS": ["x"]}})
    update = parse_update("SET #m.a[2] = :v REMOVE b, c.d ADD e :v DELETE f :s", ctx)
    assert update.document_paths() == (("m", "a", 2), ("b",), ("c", "d"), ("e",), ("f",))
    assert update.paths() == ("m", "b", "c", "e", "f")
    assert repr(update) == "Update('SET #m.a[2] = :v REMOVE b, c.d ADD e :v DELETE f :s')"


def test_errors_at_apply_carry_no_expression_prefix() -> None:
    update = parse_update("SET a = b", ExpressionContext())
    with pytest.raises(ValidationException) as caught:
        update.apply({})
    assert (
        caught.value.message
        == "The provided expression refers to an attribute that does not exist in the item"
    )

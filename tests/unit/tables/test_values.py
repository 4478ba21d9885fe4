"""Typed values: the tables (fixtures/values_*.yaml), document conversion, equality, ordering, and
property tests of the order-preserving key encoding (random values sort like their encodings)."""

from __future__ import annotations

import base64
import itertools
import random
from decimal import Decimal
from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.values import (
    MAX_ITEM_SIZE,
    check_item,
    check_typed,
    compare,
    equal,
    from_item,
    item_size,
    normalize_number,
    number_value,
    sort_key_text,
    to_item,
    to_typed,
    value_size,
)
from tests.unit.tables._fixtures import params

_CHECK_KEYS = {"name", "value", "where", "result", "error"}


@pytest.mark.parametrize(("case", "items"), params("values_check.yaml", _CHECK_KEYS))
def test_check_typed(case: dict[str, Any], items: dict[str, Any]) -> None:
    where = case.get("where", "Item.a")
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            check_typed(case["value"], where)
        assert case["error"] in caught.value.message, caught.value.message
        assert caught.value.message.startswith(where.split(".")[0])
        assert caught.value.details["where"].startswith(where)
        return
    checked = check_typed(case["value"], where)
    assert checked == case["result"]
    assert check_typed(checked, where) == checked, "normalising is idempotent"


@pytest.mark.parametrize(("case", "items"), params("values_size.yaml", {"name", "item", "size"}))
def test_item_size(case: dict[str, Any], items: dict[str, Any]) -> None:
    assert item_size(check_item(case["item"])) == case["size"]


def test_value_size_of_a_big_string() -> None:
    assert value_size({"S": "x" * MAX_ITEM_SIZE}) == MAX_ITEM_SIZE


# --- check_item ----------------------------------------------------------------------------------
def test_check_item_normalises_and_names_the_attribute() -> None:
    assert check_item({"a": {"N": "1.0"}, "b": {"SS": ["x"]}}) == {"a": {"N": "1"}, "b": {"SS": ["x"]}}
    with pytest.raises(ValidationException, match=r"^Put\.Item\.price: The parameter cannot be converted"):
        check_item({"price": {"N": "cheap"}}, "Put.Item")


@pytest.mark.parametrize("bad", [None, [], "item", 5], ids=["none", "list", "text", "number"])
def test_check_item_wants_an_object(bad: Any) -> None:
    with pytest.raises(ValidationException, match=r"^Item: an object of attribute names to values"):
        check_item(bad)


def test_check_item_refuses_empty_attribute_names() -> None:
    with pytest.raises(ValidationException, match="An attribute name cannot be empty"):
        check_item({"": {"S": "x"}})


def test_nesting_limit() -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(31):
        value = {"L": [value]}
    assert check_typed(value) == value
    with pytest.raises(ValidationException, match="Nesting Levels have exceeded supported limits"):
        check_typed({"M": {"deeper": value}})


# --- document conversion -------------------------------------------------------------------------
def test_to_typed_of_every_type() -> None:
    document = {
        "s": "text",
        "i": 42,
        "f": 1.5,
        "d": Decimal("-0.10"),
        "t": True,
        "none": None,
        "b": b"\x00\x01",
        "m": {"nested": [1, "two", False]},
        "ss": {"a", "b"},
        "ns": frozenset({1, Decimal("2.5")}),
        "bs": {b"x"},
        "tuple": (1, 2),
    }
    typed = to_item(document)
    assert typed["s"] == {"S": "text"}
    assert typed["i"] == {"N": "42"} and typed["f"] == {"N": "1.5"} and typed["d"] == {"N": "-0.1"}
    assert typed["t"] == {"BOOL": True} and typed["none"] == {"NULL": True}
    assert typed["b"] == {"B": "AAE="}
    assert typed["m"] == {"M": {"nested": {"L": [{"N": "1"}, {"S": "two"}, {"BOOL": False}]}}}
    assert sorted(typed["ss"]["SS"]) == ["a", "b"] and sorted(typed["ns"]["NS"]) == ["1", "2.5"]
    assert typed["bs"] == {"BS": ["eA=="]} and typed["tuple"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert check_item(typed) == typed


def test_from_typed_of_every_type() -> None:
    item = {
        "s": {"S": "text"},
        "i": {"N": "42"},
        "big": {"N": "1E+30"},
        "d": {"N": "2.50"},
        "t": {"BOOL": False},
        "none": {"NULL": True},
        "b": {"B": "AAE="},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}}},
        "ss": {"SS": ["b", "a"]},
        "ns": {"NS": ["10", "9", "1.5"]},
        "bs": {"BS": ["Ag==", "AQ=="]},
    }
    document = from_item(item)
    assert document["s"] == "text" and document["i"] == 42 and type(document["i"]) is int
    assert document["big"] == 10**30 and type(document["big"]) is int
    assert document["d"] == Decimal("2.5") and type(document["d"]) is Decimal
    assert document["t"] is False and document["none"] is None and document["b"] == b"\x00\x01"
    assert document["m"] == {"l": [1, "x"]}
    assert document["ss"] == {"a", "b"} and document["ns"] == {10, 9, Decimal("1.5")}
    assert document["bs"] == {b"\x01", b"\x02"}
    listed = from_item(item, sets_as_lists=True)
    assert listed["ss"] == ["a", "b"] and listed["ns"] == [Decimal("1.5"), 9, 10]
    assert listed["bs"] == [b"\x01", b"\x02"]


def test_document_round_trip() -> None:
    document = {"a": [1, Decimal("0.5"), "x", None, True, {"b": b"\xff"}], "s": {"p", "q"}}
    assert from_item(to_item(document)) == document


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), set(), {1, "a"}, object(), 1e200],
    ids=["nan", "inf", "decimal-nan", "decimal-inf", "empty-set", "mixed-set", "object", "too-big"],
)
def test_to_typed_refuses(bad: Any) -> None:
    with pytest.raises(ValidationException):
        to_typed(bad)


def test_number_value() -> None:
    assert number_value("5.000") == 5 and type(number_value("5.000")) is int
    assert number_value("1E+2") == 100 and type(number_value("1E+2")) is int
    assert number_value("0.1") == Decimal("0.1")
    assert normalize_number("-000.000") == "0"


# --- equality and order --------------------------------------------------------------------------
def test_equal() -> None:
    assert equal({"N": "1"}, {"N": "1.0"}) and not equal({"N": "1"}, {"S": "1"})
    assert equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]}) and not equal({"SS": ["a"]}, {"SS": ["a", "b"]})
    assert equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert equal({"L": [{"N": "1"}]}, {"L": [{"N": "1.00"}]}) and not equal({"L": []}, {"L": [{"N": "1"}]})
    assert equal({"M": {"a": {"NULL": True}}}, {"M": {"a": {"NULL": True}}})
    assert not equal({"M": {"a": {"BOOL": True}}}, {"M": {"b": {"BOOL": True}}})
    assert equal({"B": "AQ=="}, {"B": "AQ=="}) and not equal({"BOOL": True}, {"BOOL": False})


def test_compare() -> None:
    assert compare({"N": "-10"}, {"N": "9"}) == -1 and compare({"N": "1.0"}, {"N": "1"}) == 0
    assert compare({"S": "b"}, {"S": "a"}) == 1 and compare({"S": "Z"}, {"S": "a"}) == -1
    assert compare({"B": "AAE="}, {"B": "AQ=="}) == -1
    with pytest.raises(TypeError):
        compare({"N": "1"}, {"S": "1"})
    with pytest.raises(TypeError):
        compare({"BOOL": True}, {"BOOL": False})


def _random_number(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 38))).lstrip("0") or "0"
    exponent = rng.randint(-120, 80)
    sign = rng.choice(["", "-"])
    return normalize_number(f"{sign}{digits}E{exponent}")


def _random_string(rng: random.Random) -> str:
    alphabet = ["\x00", "\x01", "\x02", "a", "b", "z", "~", "\x7f", "é", "中", "\uffff", "😀", "𝄞"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))


def _ordered_like_values(values: list[dict[str, Any]]) -> None:
    encoded = [(sort_key_text(value).encode("utf-8"), value) for value in values]
    by_encoding = [value for _, value in sorted(encoded, key=lambda pair: pair[0])]
    for before, after in itertools.pairwise(by_encoding):
        assert compare(before, after) <= 0, (before, after)
    for value in values:
        text = sort_key_text(value)
        assert "\x00" not in text
        assert (sort_key_text(value) == sort_key_text(values[0])) == (compare(value, values[0]) == 0)


def test_number_encoding_orders_like_numbers() -> None:
    rng = random.Random(20240501)
    fixed = [
        "0",
        "-0",
        "1",
        "-1",
        "10",
        "-10",
        "1.5",
        "-1.5",
        "1.55",
        "-1.55",
        "9.9",
        "-9.9",
        "0.001",
        "-0.001",
    ]
    fixed += ["9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125"]
    fixed += ["1E-130", "-1E-130", "123456789012345678901234567890.12345678", "2", "-2", "100", "99"]
    numbers = [normalize_number(text) for text in fixed] + [_random_number(rng) for _ in range(3000)]
    _ordered_like_values([{"N": number} for number in numbers])


def test_number_encoding_is_canonical() -> None:
    assert sort_key_text({"N": "1.50"}) == sort_key_text({"N": "1.5"}) == sort_key_text({"N": "15E-1"})
    assert sort_key_text({"N": "-0"}) == sort_key_text({"N": "0"}) == "1"


def test_string_encoding_orders_like_utf8_bytes() -> None:
    rng = random.Random(7)
    strings = ["", "a", "a\x00", "a\x01", "a\x02", "\x00", "\x01", "\x01\x02"] + [
        _random_string(rng) for _ in range(3000)
    ]
    values = [{"S": text} for text in strings]
    _ordered_like_values(values)
    by_encoding = sorted(strings, key=lambda text: sort_key_text({"S": text}).encode("utf-8"))
    assert by_encoding == sorted(strings, key=lambda text: text.encode("utf-8"))


def test_string_encoding_keeps_prefixes() -> None:
    rng = random.Random(11)
    for _ in range(500):
        text = _random_string(rng)
        prefix = text[: rng.randint(0, len(text))]
        assert sort_key_text({"S": text}).startswith(sort_key_text({"S": prefix}))


def test_binary_encoding_orders_like_bytes() -> None:
    rng = random.Random(3)
    blobs = [b"", b"\x00", b"\x00\x00", b"\xff", b"\x7f\x80"] + [
        bytes(rng.randrange(256) for _ in range(rng.randint(0, 8))) for _ in range(2000)
    ]
    values = [{"B": base64.b64encode(blob).decode()} for blob in blobs]
    _ordered_like_values(values)
    blob = b"\x01\x02\x03"
    assert sort_key_text({"B": base64.b64encode(blob).decode()}).startswith(
        sort_key_text({"B": base64.b64encode(blob[:2]).decode()})
    )


def test_sort_key_text_of_other_types() -> None:
    with pytest.raises(TypeError):
        sort_key_text({"BOOL": True})

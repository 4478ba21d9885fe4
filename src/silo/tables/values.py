"""DynamoDB attribute values ("typed JSON"): checking, conversion, size, equality and key order.

A value is a one-key dict naming its type: ``{"S": "text"}``, ``{"N": "12.5"}`` (a decimal number as
text), ``{"B": "aGk="}`` (base64), ``{"BOOL": true}``, ``{"NULL": true}``, ``{"M": {name: value}}``,
``{"L": [value]}``, ``{"SS": [str]}``, ``{"NS": [str]}``, ``{"BS": [base64]}``. An item is a dict of
attribute name to value.

* :func:`check_typed` / :func:`check_item` validate strictly and normalise: numbers get their
  canonical text (plain notation, no superfluous zeros, ``-0`` is ``0``), base64 its canonical
  padding. Everything else in the engine assumes values that went through them.
* :func:`to_typed` / :func:`from_typed` convert from / to the "document client" shape: str, int,
  float, Decimal, bool, None, bytes, dict, list, set. :func:`from_typed` gives numbers as ``int``
  when integral, else ``Decimal`` (never float), binary as ``bytes``, and sets as Python ``set`` (or,
  with ``sets_as_lists=True``, as lists sorted in DynamoDB order).
* :func:`item_size` follows DynamoDB's rules (names + values; numbers take one byte per two
  significant digits, aligned on the decimal point, plus one, plus one more when negative; lists
  and maps 3 bytes plus 1 per element).
* :func:`compare` orders S (by UTF-8 bytes), N (numerically), B (by bytes); :func:`sort_key_text`
  encodes such a value as text whose plain binary comparison (SQLite ``BINARY``, PostgreSQL
  ``COLLATE "C"``) gives the same order, and whose prefixes are the encodings of prefixes (for
  ``begins_with`` on S and B). It holds no NUL character. Within one key column every value has the
  same type, so the three encodings need not order against one another.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from silo.tables.errors import ValidationException

TypedValue: TypeAlias = dict[str, Any]
Item: TypeAlias = dict[str, TypedValue]

TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
SET_MEMBERS = {"SS": "S", "NS": "N", "BS": "B"}
MAX_ITEM_SIZE = 400 * 1024
MAX_DEPTH = 32
MAX_DIGITS = 38
MAX_EXPONENT = 125
MIN_EXPONENT = -130

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_PLAIN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}
_INVALID = "One or more parameter values were invalid"


def _invalid(where: str, reason: str) -> ValidationException:
    return ValidationException(f"{where}: {reason}", where=where, reason=reason)


# --- numbers -------------------------------------------------------------------------------------
def number_parts(text: str) -> tuple[bool, str, int]:
    """(negative, significant digits, exponent of the first digit) of a number's text; zero is
    ``(False, "", 0)``. Raises ValueError when the text is not a number."""
    if _PLAIN.match(text):  # the canonical form, without an exponent: no Decimal needed
        negative = text[0] == "-"
        whole, _, fraction = text.lstrip("+-").partition(".")
        whole = whole.lstrip("0")
        if whole:
            return negative, (whole + fraction).rstrip("0"), len(whole) - 1
        significant = fraction.lstrip("0")
        if not significant:
            return False, "", 0
        return negative, significant.rstrip("0"), len(significant) - len(fraction) - 1
    if not _NUMBER.match(text):
        raise ValueError(text)
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return False, "", 0
    stripped = digits.rstrip("0")
    assert isinstance(exponent, int)
    return bool(sign), stripped, exponent + len(digits) - 1


_CANONICAL_INTEGER = re.compile(r"-?[1-9][0-9]{0,37}|0")


def normalize_number(text: str) -> str:
    """The canonical text of a DynamoDB number; ValueError (with DynamoDB's reason) when invalid."""
    if _CANONICAL_INTEGER.fullmatch(text):  # most numbers: already canonical, no Decimal needed
        return text
    try:
        negative, digits, exponent = number_parts(text)
    except (ValueError, InvalidOperation):
        raise ValueError(f"The parameter cannot be converted to a numeric value: {text}") from None
    if not digits:
        return "0"
    if exponent > MAX_EXPONENT:
        raise ValueError(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if exponent < MIN_EXPONENT:
        raise ValueError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    if len(digits) > MAX_DIGITS:
        raise ValueError("Attempting to store more than 38 significant digits in a Number")
    value = Decimal((int(negative), tuple(map(int, digits)), exponent - len(digits) + 1))
    return format(value, "f")


# --- checking ------------------------------------------------------------------------------------
def check_typed(value: Any, where: str = "value") -> TypedValue:
    """A validated, normalised copy of a typed value; ValidationException naming ``where`` (and the
    nested path: ``Item.address.M.zip``) when it is not valid."""
    return _check(value, where, 1)


def check_item(item: Any, where: str = "Item") -> Item:
    """A validated, normalised copy of an item (attribute name -> typed value)."""
    if not isinstance(item, Mapping):
        raise _invalid(where, "an object of attribute names to values")
    checked: Item = {}
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise _invalid(
                where, "One or more parameter values were invalid: An attribute name cannot be empty"
            )
        if len(name.encode("utf-8", "surrogatepass")) > 65535:
            raise _invalid(f"{where}.{name[:32]}", "Attribute name is longer than 65535 bytes")
        checked[name] = _check(value, f"{where}.{name}", 1)
    return checked


def _check(value: Any, where: str, depth: int) -> TypedValue:
    if depth > MAX_DEPTH:
        raise _invalid(where, "Nesting Levels have exceeded supported limits")
    if type(value) is not dict and not isinstance(value, Mapping):  # dict first: ABC checks cost
        raise _invalid(where, "Supplied AttributeValue must be an object naming exactly one datatype")
    if len(value) != 1:
        if not value:
            raise _invalid(
                where, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
            )
        raise _invalid(
            where,
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
            "supported datatypes",
        )
    ((kind, raw),) = value.items()
    if kind == "S":
        return {"S": _check_string(raw, where)}
    if kind == "N":
        return {"N": _check_number(raw, where)}
    if kind == "B":
        return {"B": _check_binary(raw, where)}
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise _invalid(where, "BOOL must be true or false")
        return {"BOOL": raw}
    if kind == "NULL":
        if raw is not True:
            raise _invalid(
                where,
                f"{_INVALID}: Null attribute value types must have the value of true",
            )
        return {"NULL": True}
    if kind == "M":
        if (type(raw) is not dict and not isinstance(raw, Mapping)) or not all(type(k) is str for k in raw):
            raise _invalid(where, "M must be an object of attribute names to values")
        return {"M": {key: _check(child, f"{where}.M.{key}", depth + 1) for key, child in raw.items()}}
    if kind == "L":
        if not isinstance(raw, list):
            raise _invalid(where, "L must be a list of values")
        return {"L": [_check(child, f"{where}.L[{i}]", depth + 1) for i, child in enumerate(raw)]}
    if kind in SET_MEMBERS:
        return {kind: _check_set(kind, raw, where)}
    raise _invalid(where, f"Supplied AttributeValue has an unsupported datatype: {kind}")


def _check_string(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _invalid(where, "S must be a string")
    if raw.isascii():  # the common case needs no encoding
        return raw
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(where, "S is not valid UTF-8 (a lone surrogate)") from None
    return raw


def _check_number(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _invalid(where, "N must be a number written as a string")
    try:
        return normalize_number(raw)
    except ValueError as problem:
        raise _invalid(where, str(problem)) from None


def _check_binary(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _invalid(where, "B must be base64 text")
    try:
        return base64.b64encode(base64.b64decode(raw, validate=True)).decode("ascii")
    except (binascii.Error, ValueError):
        raise _invalid(where, f"'{raw[:64]}' can not be converted to a Blob: invalid base64") from None


def _check_set(kind: str, raw: Any, where: str) -> list[str]:
    if not isinstance(raw, list):
        raise _invalid(where, f"{kind} must be a list")
    if not raw:
        raise _invalid(
            where, f"One or more parameter values were invalid: An {_SET_NAMES[kind]} set  may not be empty"
        )
    check = {"SS": _check_string, "NS": _check_number, "BS": _check_binary}[kind]
    members = [check(member, f"{where}.{kind}[{i}]") for i, member in enumerate(raw)]
    if len(set(members)) != len(members):
        listed = ", ".join(str(member) for member in raw)
        raise _invalid(
            where,
            f"One or more parameter values were invalid: Input collection [{listed}] contains duplicates.",
        )
    return members


# --- document conversion -------------------------------------------------------------------------
def to_typed(document: Any, where: str = "value") -> TypedValue:
    """The typed value of a document-shaped Python value (see the module docstring)."""
    if isinstance(document, bool):
        return {"BOOL": document}
    if document is None:
        return {"NULL": True}
    if isinstance(document, str):
        return {"S": _check_string(document, where)}
    if isinstance(document, int | float | Decimal):
        return {"N": _number_text(document, where)}
    if isinstance(document, bytes | bytearray | memoryview):
        return {"B": base64.b64encode(bytes(document)).decode("ascii")}
    if isinstance(document, Mapping):
        return {"M": {str(key): to_typed(child, f"{where}.{key}") for key, child in document.items()}}
    if isinstance(document, list | tuple):
        return {"L": [to_typed(child, f"{where}[{i}]") for i, child in enumerate(document)]}
    if isinstance(document, set | frozenset):
        return _set_to_typed(document, where)
    raise _invalid(where, f"cannot store a {type(document).__name__}")


def to_item(document: Mapping[str, Any], where: str = "Item") -> Item:
    """The typed item of a document-shaped dict."""
    return {name: to_typed(value, f"{where}.{name}") for name, value in document.items()}


def _number_text(number: int | float | Decimal, where: str) -> str:
    text = repr(number) if isinstance(number, float) else str(number)
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity", "snan"):
        raise _invalid(where, f"{text} is not a number DynamoDB can store")
    return _check_number(text, where)


def _set_to_typed(members: set[Any] | frozenset[Any], where: str) -> TypedValue:
    if not members:
        raise _invalid(where, "An empty set cannot be stored")
    if all(isinstance(m, str) for m in members):
        return {"SS": [to_typed(m, where)["S"] for m in members]}
    if all(isinstance(m, int | float | Decimal) and not isinstance(m, bool) for m in members):
        return {"NS": [_number_text(m, where) for m in members]}
    if all(isinstance(m, bytes | bytearray) for m in members):
        return {"BS": [base64.b64encode(bytes(m)).decode("ascii") for m in members]}
    raise _invalid(where, "A set must hold only strings, only numbers or only binary values")


def from_typed(value: TypedValue, *, sets_as_lists: bool = False) -> Any:
    """The document-shaped Python value of a typed value (see the module docstring)."""
    ((kind, raw),) = value.items()
    if kind in ("S", "BOOL"):
        return raw
    if kind == "N":
        return number_value(raw)
    if kind == "B":
        return base64.b64decode(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: from_typed(child, sets_as_lists=sets_as_lists) for key, child in raw.items()}
    if kind == "L":
        return [from_typed(child, sets_as_lists=sets_as_lists) for child in raw]
    members_of: dict[str, Callable[[str], Any]] = {"SS": str, "NS": number_value, "BS": base64.b64decode}
    member = members_of[kind]
    members = [member(m) for m in raw]
    return sorted(members) if sets_as_lists else set(members)


def from_item(item: Mapping[str, TypedValue], *, sets_as_lists: bool = False) -> dict[str, Any]:
    """The document-shaped dict of a typed item."""
    return {name: from_typed(value, sets_as_lists=sets_as_lists) for name, value in item.items()}


def number_value(text: str) -> int | Decimal:
    """A number's text as ``int`` when integral, else as an exact ``Decimal``."""
    canonical = normalize_number(text)
    return Decimal(canonical) if "." in canonical else int(canonical)


# --- size ----------------------------------------------------------------------------------------
def item_size(item: Mapping[str, TypedValue]) -> int:
    """An item's size in bytes as DynamoDB counts it (against the 400 KB limit and for capacity)."""
    return sum(_text_size(name) + value_size(value) for name, value in item.items())


def value_size(value: TypedValue) -> int:
    """The size in bytes of one typed value (without its attribute name)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return _text_size(raw)
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return _binary_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(1 + _text_size(key) + value_size(child) for key, child in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(child) for child in raw)
    size = {"SS": _text_size, "NS": _number_size, "BS": _binary_size}[kind]
    return sum(size(member) for member in raw)


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _binary_size(text: str) -> int:
    return len(text) * 3 // 4 - text[-2:].count("=") if text else 0


def _number_size(text: str) -> int:
    negative, digits, exponent = number_parts(text)
    if not digits:
        return 1
    pad = 0 if exponent % 2 else 1
    return 1 + (len(digits) + pad + 1) // 2 + int(negative)


# --- equality and order --------------------------------------------------------------------------
def kind_of(value: TypedValue) -> str:
    """The type tag of a typed value (``"S"``, ``"N"``...)."""
    return next(iter(value))


def equal(a: TypedValue, b: TypedValue) -> bool:
    """Whether two typed values are equal as DynamoDB compares them: same type, numbers
    numerically, sets regardless of order, lists and maps element by element."""
    ((kind, x),) = a.items()
    ((other, y),) = b.items()
    if kind != other:
        return False
    if x == y and kind not in ("L", "M"):
        return True
    if kind == "N":
        return Decimal(x) == Decimal(y)
    if kind == "NS":
        return {Decimal(m) for m in x} == {Decimal(m) for m in y}
    if kind in ("SS", "BS"):
        return set(x) == set(y)
    if kind == "L":
        return len(x) == len(y) and all(equal(p, q) for p, q in zip(x, y, strict=True))
    if kind == "M":
        return x.keys() == y.keys() and all(equal(child, y[key]) for key, child in x.items())
    return False


def compare(a: TypedValue, b: TypedValue) -> int:
    """-1, 0 or 1 as ``a`` orders before, with or after ``b``: two S (by UTF-8 bytes, which is
    code point order), two N (numerically) or two B (by bytes). TypeError for anything else."""
    ((kind, x),) = a.items()
    ((other, y),) = b.items()
    if kind != other or kind not in ("S", "N", "B"):
        raise TypeError(f"cannot order {kind} against {other}")
    if kind == "N":
        x, y = Decimal(x), Decimal(y)
    elif kind == "B":
        x, y = base64.b64decode(x), base64.b64decode(y)
    return int(x > y) - int(x < y)


def sort_key_text(value: TypedValue) -> str:
    """An order-preserving text encoding of an S, N or B value (see the module docstring).

    * S: the string, with U+0000 written ``\\x01\\x01`` and U+0001 written ``\\x01\\x02`` (a
      prefix-free code that keeps the order, and keeps NUL out of the database);
    * N: ``0`` negative / ``1`` zero / ``2`` positive, then the exponent on three digits (offset
      so that it sorts, and reversed for negatives), then the significant digits (nines'
      complement and a ``:`` terminator for negatives, so that -1.5 sorts before -1);
    * B: lowercase hex of the bytes.
    """
    ((kind, raw),) = value.items()
    if kind == "S":
        return str(raw).replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
    if kind == "B":
        return base64.b64decode(raw).hex()
    if kind != "N":
        raise TypeError(f"a key value is S, N or B, not {kind}")
    negative, digits, exponent = number_parts(raw)
    if not digits:
        return "1"
    if negative:
        return f"0{MAX_EXPONENT - exponent:03d}{digits.translate(_NINES)}:"
    return f"2{exponent - MIN_EXPONENT:03d}{digits}"


_NINES = str.maketrans("0123456789", "9876543210")

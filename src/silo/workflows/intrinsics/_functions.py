"""The intrinsic functions, each a plain function of evaluated arguments.

Every failure raises :class:`StatesError` ``States.IntrinsicFailure`` with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

from silo.workflows.errors import INTRINSIC_FAILURE, StatesError

MAX_ARRAY_RANGE = 1000
MAX_STRING = 10_000
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}

Function = Callable[[list[Any], random.Random], Any]


def fail(name: str, reason: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, f"Invalid arguments in States.{name}: {reason}")


def _arity(name: str, args: list[Any], *counts: int) -> None:
    if len(args) not in counts:
        wanted = " or ".join(str(count) for count in counts)
        raise fail(name, f"expected {wanted} arguments, got {len(args)}")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _want(name: str, value: Any, kind: str) -> Any:
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda item: isinstance(item, str),
        "array": lambda item: isinstance(item, list),
        "object": lambda item: isinstance(item, dict),
        "integer": _is_int,
        "boolean": lambda item: isinstance(item, bool),
    }
    if not checks[kind](value):
        raise fail(name, f"expected {kind}, got {json.dumps(value)}")
    return int(value) if kind == "integer" else value


def format_(args: list[Any], rng: random.Random) -> str:
    if not args:
        raise fail("Format", "expected a template")
    template = _want("Format", args[0], "string")
    values = args[1:]
    for value in values:
        if isinstance(value, dict | list):
            raise fail("Format", "arguments must be strings, numbers, booleans or null")
    out: list[str] = []
    used = 0
    position = 0
    while position < len(template):
        if template.startswith("\\{", position) or template.startswith("\\}", position):
            out.append(template[position + 1])
            position += 2
        elif template.startswith("{}", position):
            if used >= len(values):
                raise fail("Format", "more placeholders than arguments")
            value = values[used]
            out.append(value if isinstance(value, str) else json.dumps(value))
            used += 1
            position += 2
        else:
            out.append(template[position])
            position += 1
    if used != len(values):
        raise fail("Format", "more arguments than placeholders")
    return "".join(out)


def string_to_json(args: list[Any], rng: random.Random) -> Any:
    _arity("StringToJson", args, 1)
    try:
        return json.loads(_want("StringToJson", args[0], "string"))
    except json.JSONDecodeError as error:
        raise fail("StringToJson", f"not JSON: {error}") from None


def json_to_string(args: list[Any], rng: random.Random) -> str:
    _arity("JsonToString", args, 1)
    return json.dumps(args[0], separators=(",", ":"), ensure_ascii=False)


def array(args: list[Any], rng: random.Random) -> list[Any]:
    return list(args)


def array_partition(args: list[Any], rng: random.Random) -> list[Any]:
    _arity("ArrayPartition", args, 2)
    items = _want("ArrayPartition", args[0], "array")
    size = _want("ArrayPartition", args[1], "integer")
    if size <= 0:
        raise fail("ArrayPartition", "the chunk size must be positive")
    return [items[start : start + size] for start in range(0, len(items), size)]


def array_contains(args: list[Any], rng: random.Random) -> bool:
    _arity("ArrayContains", args, 2)
    return args[1] in _want("ArrayContains", args[0], "array")


def array_range(args: list[Any], rng: random.Random) -> list[int]:
    _arity("ArrayRange", args, 3)
    start, end, step = (_want("ArrayRange", value, "integer") for value in args)
    if step == 0:
        raise fail("ArrayRange", "the step must not be 0")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > MAX_ARRAY_RANGE:
        raise fail("ArrayRange", f"at most {MAX_ARRAY_RANGE} items")
    return values


def array_get_item(args: list[Any], rng: random.Random) -> Any:
    _arity("ArrayGetItem", args, 2)
    items = _want("ArrayGetItem", args[0], "array")
    index = _want("ArrayGetItem", args[1], "integer")
    if not 0 <= index < len(items):
        raise fail("ArrayGetItem", f"index {index} is out of bounds")
    return items[index]


def array_length(args: list[Any], rng: random.Random) -> int:
    _arity("ArrayLength", args, 1)
    return len(_want("ArrayLength", args[0], "array"))


def array_unique(args: list[Any], rng: random.Random) -> list[Any]:
    _arity("ArrayUnique", args, 1)
    unique: list[Any] = []
    for item in _want("ArrayUnique", args[0], "array"):
        if item not in unique:
            unique.append(item)
    return unique


def _bounded(name: str, value: Any) -> str:
    text: str = _want(name, value, "string")
    if len(text) > MAX_STRING:
        raise fail(name, f"the string is over {MAX_STRING} characters")
    return text


def base64_encode(args: list[Any], rng: random.Random) -> str:
    _arity("Base64Encode", args, 1)
    return base64.b64encode(_bounded("Base64Encode", args[0]).encode()).decode("ascii")


def base64_decode(args: list[Any], rng: random.Random) -> str:
    _arity("Base64Decode", args, 1)
    try:
        return base64.b64decode(_bounded("Base64Decode", args[0]), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as error:
        raise fail("Base64Decode", f"not base64 text: {error}") from None


def hash_(args: list[Any], rng: random.Random) -> str:
    _arity("Hash", args, 2)
    data = args[0] if isinstance(args[0], str) else json.dumps(args[0], separators=(",", ":"))
    algorithm = _want("Hash", args[1], "string")
    if algorithm not in _HASHES:
        raise fail("Hash", f"the algorithm must be one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], _bounded("Hash", data).encode()).hexdigest()


def json_merge(args: list[Any], rng: random.Random) -> dict[str, Any]:
    _arity("JsonMerge", args, 3)
    left = _want("JsonMerge", args[0], "object")
    right = _want("JsonMerge", args[1], "object")
    if _want("JsonMerge", args[2], "boolean"):
        raise fail("JsonMerge", "only the shallow merge (false) is supported")
    return {**left, **right}


def math_random(args: list[Any], rng: random.Random) -> int:
    _arity("MathRandom", args, 2, 3)
    start = _want("MathRandom", args[0], "integer")
    end = _want("MathRandom", args[1], "integer")
    if end <= start:
        raise fail("MathRandom", "the end must be greater than the start")
    source = random.Random(_want("MathRandom", args[2], "integer")) if len(args) == 3 else rng
    return source.randrange(start, end)


def math_add(args: list[Any], rng: random.Random) -> int:
    _arity("MathAdd", args, 2)
    return int(_want("MathAdd", args[0], "integer") + _want("MathAdd", args[1], "integer"))


def string_split(args: list[Any], rng: random.Random) -> list[str]:
    _arity("StringSplit", args, 2)
    text = _want("StringSplit", args[0], "string")
    delimiters = _want("StringSplit", args[1], "string")
    parts = [text]
    for delimiter in delimiters:
        parts = [piece for part in parts for piece in part.split(delimiter)]
    return [part for part in parts if part]


def uuid4(args: list[Any], rng: random.Random) -> str:
    _arity("UUID", args, 0)
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


FUNCTIONS: dict[str, Function] = {
    "States.Format": format_,
    "States.StringToJson": string_to_json,
    "States.JsonToString": json_to_string,
    "States.Array": array,
    "States.ArrayPartition": array_partition,
    "States.ArrayContains": array_contains,
    "States.ArrayRange": array_range,
    "States.ArrayGetItem": array_get_item,
    "States.ArrayLength": array_length,
    "States.ArrayUnique": array_unique,
    "States.Base64Encode": base64_encode,
    "States.Base64Decode": base64_decode,
    "States.Hash": hash_,
    "States.JsonMerge": json_merge,
    "States.MathRandom": math_random,
    "States.MathAdd": math_add,
    "States.StringSplit": string_split,
    "States.UUID": uuid4,
}

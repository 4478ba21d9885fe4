"""Barcode normalisation: AIM symbology identifiers, GTIN check digits, GS1 application identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AIM_IDS = {
    "]E0": "EAN13",
    "]E4": "EAN8",
    "]I1": "ITF14",
    "]C0": "CODE128",
    "]C1": "GS1_128",
    "]A0": "CODE39",
    "]Q1": "QR",
    "]d1": "DATAMATRIX",
    "]d2": "GS1_DATAMATRIX",
}
GTIN_LENGTHS = {"EAN8": 8, "UPCA": 12, "EAN13": 13, "ITF14": 14}
GS1_SYMBOLOGIES = {"GS1_128", "GS1_DATAMATRIX"}
SYMBOLOGIES = frozenset(GTIN_LENGTHS) | GS1_SYMBOLOGIES | {"CODE128", "CODE39", "QR", "DATAMATRIX"}

GS1_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "13": 6, "15": 6, "17": 6, "20": 2}
GS1_VARIABLE = {"10": 20, "21": 20, "37": 8, "400": 30}
GS1_NAMES = {
    "00": "sscc",
    "01": "gtin",
    "02": "content_gtin",
    "10": "batch",
    "11": "production_date",
    "13": "packaging_date",
    "15": "best_before",
    "17": "expiry",
    "20": "variant",
    "21": "serial",
    "37": "count",
    "400": "order_number",
}
GS = "\x1d"
HUMAN_READABLE_AI = re.compile(r"\((\d{2,4})\)([^(]*)")


class BarcodeError(ValueError):
    """The scanner decoded something, but it is not a valid code of its symbology."""


@dataclass
class Barcode:
    symbology: str
    data: str
    gtin: str | None = None
    gs1: dict[str, str] = field(default_factory=dict)


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_gtin(digits: str, what: str = "GTIN") -> str:
    """``digits`` as a 14-digit GTIN; ``BarcodeError`` when not numeric or the check digit is wrong."""
    if not digits.isdigit():
        raise BarcodeError(f"{what} must be digits only, got {digits!r}")
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise BarcodeError(f"{what} {digits} fails its check digit: expected {expected}, got {digits[-1]}")
    return digits.zfill(14)


def parse_gs1(data: str) -> dict[str, str]:
    """Element strings of a GS1-128 / GS1 DataMatrix payload, human-readable ``(01)...`` or raw with GS."""
    elements: dict[str, str] = {}
    if data.startswith("("):
        for ai, value in HUMAN_READABLE_AI.findall(data):
            _store(elements, ai, value.strip())
        if not elements:
            raise BarcodeError(f"no GS1 application identifiers in {data!r}")
        return elements
    rest = data.lstrip(GS)
    while rest:
        ai = next((a for a in (rest[:2], rest[:3]) if a in GS1_FIXED or a in GS1_VARIABLE), None)
        if ai is None:
            raise BarcodeError(f"unknown GS1 application identifier at {rest[:4]!r}")
        rest = rest[len(ai) :]
        if ai in GS1_FIXED:
            value, rest = rest[: GS1_FIXED[ai]], rest[GS1_FIXED[ai] :]
        else:
            value, _, rest = rest.partition(GS)
        _store(elements, ai, value)
        rest = rest.lstrip(GS)
    return elements


def _store(elements: dict[str, str], ai: str, value: str) -> None:
    name = GS1_NAMES.get(ai)
    if name is None:
        raise BarcodeError(f"unknown GS1 application identifier ({ai})")
    limit = GS1_FIXED.get(ai)
    if limit is not None and len(value) != limit:
        raise BarcodeError(f"GS1 ({ai}) {name} must be {limit} characters, got {value!r}")
    if limit is None and not 0 < len(value) <= GS1_VARIABLE[ai]:
        raise BarcodeError(f"GS1 ({ai}) {name} must be 1-{GS1_VARIABLE[ai]} characters, got {value!r}")
    elements[name] = value


def element_string(elements: dict[str, str]) -> str:
    """The human-readable form, e.g. ``(01)04006381333931(17)261231(10)LOT-42``."""
    codes = {name: ai for ai, name in GS1_NAMES.items()}
    return "".join(f"({codes[name]}){value}" for name, value in elements.items())


def normalise(raw: str, symbology: str | None) -> Barcode:
    """Strip whitespace and the AIM prefix, settle the symbology, validate what can be validated."""
    data = raw.strip()
    aim = AIM_IDS.get(data[:3])
    if aim is not None:
        data = data[3:]
    declared = (symbology or aim or "").upper().replace("-", "_")
    if not declared:
        raise BarcodeError("symbology is unknown: give 'symbology' or send the AIM identifier prefix")
    if declared not in SYMBOLOGIES:
        raise BarcodeError(f"unsupported symbology {declared!r}; expected one of {sorted(SYMBOLOGIES)}")
    if declared == "EAN13" and len(data) == 12:
        declared = "UPCA"
    if declared in GTIN_LENGTHS:
        if len(data) != GTIN_LENGTHS[declared]:
            raise BarcodeError(f"{declared} must have {GTIN_LENGTHS[declared]} digits, got {len(data)}")
        return Barcode(declared, data, gtin=check_gtin(data, declared))
    if declared in GS1_SYMBOLOGIES:
        elements = parse_gs1(data)
        gtin = check_gtin(elements["gtin"]) if "gtin" in elements else None
        return Barcode(declared, element_string(elements), gtin=gtin, gs1=elements)
    return Barcode(declared, data)


GS1_PREFIXES = (
    (0, 19, "US/CA"),
    (20, 29, "restricted-circulation"),
    (30, 39, "US/CA"),
    (40, 49, "restricted-circulation"),
    (60, 139, "US/CA"),
    (200, 299, "restricted-circulation"),
    (300, 379, "FR"),
    (400, 440, "DE"),
    (450, 459, "JP"),
    (490, 499, "JP"),
    (500, 509, "GB"),
    (540, 549, "BE/LU"),
    (570, 579, "DK"),
    (690, 699, "CN"),
    (760, 769, "CH"),
    (800, 839, "IT"),
    (840, 849, "ES"),
    (870, 879, "NL"),
    (900, 919, "AT"),
    (978, 979, "ISBN"),
)


def gs1_country(gtin: str) -> str | None:
    """Which GS1 member organisation issued a 14-digit GTIN's company prefix (common ranges only)."""
    prefix = int(gtin[6:9] if gtin.startswith("000000") else gtin[1:4])
    return next((name for low, high, name in GS1_PREFIXES if low <= prefix <= high), None)

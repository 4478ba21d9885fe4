"""A micro-benchmark of the per-item paths (condition, update, projection): run for its figures
(printed with ``pytest -s``), never timed against a threshold."""

from __future__ import annotations

import time

from silo.tables.expressions import ExpressionContext, parse_condition, parse_projection, parse_update
from silo.tables.values import Item, check_item, item_size, sort_key_text


def _items(count: int) -> list[Item]:
    return [
        check_item(
            {
                "pk": {"S": f"customer#{i % 50}"},
                "sk": {"N": str(i)},
                "status": {"S": "open" if i % 3 else "closed"},
                "amount": {"N": f"{i * 1.25:.2f}"},
                "tags": {"SS": ["a", "b", f"t{i % 7}"]},
                "address": {
                    "M": {"city": {"S": "Paris" if i % 2 else "Lyon"}, "zip": {"S": f"{75000 + i % 20}"}}
                },
                "entries": {
                    "L": [{"M": {"sku": {"S": f"sku-{j}"}, "qty": {"N": str(j + 1)}}} for j in range(3)]
                },
            }
        )
        for i in range(count)
    ]


def _rate(label: str, count: int, run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    rate = count / elapsed if elapsed > 0 else float("inf")
    print(f"{label}: {rate:,.0f} items/s")
    return rate


def test_micro_benchmark_runs() -> None:
    items = _items(5000)
    ctx = ExpressionContext(
        {"#s": "status", "#c": "city"},
        {
            ":open": {"S": "open"},
            ":min": {"N": "100"},
            ":t": {"S": "t3"},
            ":city": {"S": "Paris"},
            ":one": {"N": "1"},
        },
    )
    condition = parse_condition(
        "#s = :open AND amount > :min AND contains(tags, :t) AND address.#c = :city",
        ctx,
        kind="FilterExpression",
    )
    update = parse_update("SET amount = amount + :one, entries[0].qty = entries[0].qty + :one", ctx)
    projection = parse_projection("pk, sk, address.#c, entries[1].sku", ctx)
    ctx.check_unused()
    matched: list[Item] = []
    _rate("filter", len(items), lambda: matched.extend(item for item in items if condition.evaluate(item)))
    updated: list[Item] = []
    _rate("update", len(items), lambda: updated.extend(update.apply(item) for item in items))
    projected: list[Item] = []
    _rate("projection", len(items), lambda: projected.extend(projection.apply(item) for item in items))
    sizes: list[int] = []
    _rate("item_size", len(items), lambda: sizes.extend(item_size(item) for item in items))
    keys: list[str] = []
    _rate("sort_key_text", len(items), lambda: keys.extend(sort_key_text(item["sk"]) for item in items))
    assert matched and all(condition.evaluate(item) for item in matched)
    assert len(updated) == len(projected) == len(sizes) == len(keys) == len(items)
    assert updated[0]["entries"]["L"][0]["M"]["qty"] == {"N": "2"}
    assert projected[1] == {
        "pk": items[1]["pk"],
        "sk": items[1]["sk"],
        "address": {"M": {"city": {"S": "Paris"}}},
        "entries": {"L": [{"M": {"sku": {"S": "sku-1"}}}]},
    }

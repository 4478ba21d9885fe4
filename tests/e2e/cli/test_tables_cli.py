"""``silo tables create|list|describe|put|get|update|delete-item|query|scan|delete`` through the API: keys
given as NAME:TYPE, items as JSON documents (or typed JSON with ``--typed``, or ``@file``), query pages
followed with ``--all``; tables and ``--json``; arguments that do not parse are usage errors with exit 2,
what the server refuses (a failed condition) goes to stderr with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli.conftest import Member


def test_tables_and_items_round_trip(member: Member, tmp_path: Path) -> None:
    cli = member.cli
    made = cli.json(
        "tables", "create", "orders", "--partition-key", "customer:S", "--sort-key", "order:N",
        "--gsi", "by-status:state:S:amount:N", "--ttl", "expires", "--stream", "new_image",
    )["TableDescription"]  # fmt: skip
    assert made["TableArn"] == f"arn:silo:dynamodb:local:{member.account_id}:table/orders"
    assert made["GlobalSecondaryIndexes"][0]["IndexName"] == "by-status"
    assert made["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    shown = cli.ok("tables", "describe", "orders").stdout
    assert "table orders" in shown and "customer:S (HASH), order:N (RANGE)" in shown
    assert cli.json("tables", "list") == {"TableNames": ["orders"]}
    assert "orders" in cli.ok("tables", "list").stdout

    item = tmp_path / "item.json"
    item.write_text(json.dumps({"customer": "ann", "order": 1, "state": "OPEN", "amount": 12.5}))
    assert cli.ok("tables", "put", "orders", "--item", f"@{item}").stdout == "put an item into orders\n"
    for n in range(2, 6):
        body = {
            "customer": {"S": "ann"},
            "order": {"N": str(n)},
            "state": {"S": "PAID"},
            "amount": {"N": "1"},
        }
        cli.ok("tables", "put", "orders", "--item", json.dumps(body), "--typed")
    key = '{"customer": "ann", "order": 1}'
    assert cli.json("tables", "get", "orders", "--key", key)["Item"]["amount"] == 12.5
    assert "12.5" in cli.ok("tables", "get", "orders", "--key", key).stdout
    updated = cli.json(
        "tables",
        "update",
        "orders",
        "--key",
        key,
        "--update",
        "SET amount = amount + :n",
        "--values",
        '{":n": 1}',
    )
    assert updated == {"Attributes": {"customer": "ann", "order": 1, "state": "OPEN", "amount": 13.5}}

    condition = ["--condition", "amount > :big", "--values", '{":big": 100}']
    refused = cli("tables", "update", "orders", "--key", key, "--update", "SET amount = :big", *condition)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: ConditionalCheckFailedException: The conditional request failed\n",
    )
    ann = ["--key-condition", "customer = :c", "--values", '{":c": "ann"}']
    page = cli.json("tables", "query", "orders", *ann, "--limit", "2", "--reverse")
    assert [i["order"] for i in page["Items"]] == [5, 4] and page["LastEvaluatedKey"]
    every = cli.json("tables", "query", "orders", *ann, "--limit", "2", "--all")
    assert [i["order"] for i in every["Items"]] == [1, 2, 3, 4, 5] and "LastEvaluatedKey" not in every
    paid = ["--index", "by-status", "--key-condition", "#s = :s", "--names", '{"#s": "state"}']
    assert cli.json("tables", "query", "orders", *paid, "--values", '{":s": "PAID"}')["Count"] == 4
    table = cli.ok("tables", "scan", "orders", "--filter", "amount > :one", "--values", '{":one": 1}').stdout
    assert "customer" in table and "13.5" in table and "PAID" not in table
    gone = cli.json("tables", "delete-item", "orders", "--key", key, "--return-values", "all_old")
    assert gone["Attributes"]["amount"] == 13.5
    assert cli.json("tables", "get", "orders", "--key", key) == {}
    assert cli.ok("tables", "get", "orders", "--key", key).stdout == "no such item in orders\n"

    for args, words in [
        (["create", "x1", "--partition-key", "id"], "NAME:TYPE"),
        (["create", "x1", "--partition-key", "id:X"], "NAME:TYPE"),
        (["create", "x1", "--partition-key", "id:S", "--gsi", "g:pk"], "INDEX:PK:TYPE"),
        (["create", "x1", "--partition-key", "id:S", "--stream", "ALL"], "oneofKEYS_ONLY"),
        (["create", "x1", "--partition-key", "id:S", "--stream-function", "f"], "--stream"),
        (["put", "orders", "--item", "{not json"], "notJSON"),
        (["put", "orders", "--item", "[1]"], "expectedaJSONobject"),
        (["get", "orders"], "--key"),
        (["update", "orders", "--key", key, "--update", "SET a = :a", "--return-values", "ALL"], "oneofNONE"),
        (
            ["query", "orders", "--key-condition", "x", "--values", f"@{tmp_path / 'missing.json'}"],
            "missing.json",
        ),
    ]:
        result = cli("tables", *args)
        assert (result.exit_code, result.stdout) == (2, ""), (args, result.output)
        assert words in "".join(result.stderr.replace("│", "").split()), (args, result.stderr)
    assert cli.ok("tables", "delete", "orders").stdout == "deleted table orders\n"
    missing = cli("tables", "describe", "orders")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ResourceNotFoundException")

"""``silo ous``: create, list, tree, describe, rename, delete."""

from __future__ import annotations

from tests.e2e.cli.conftest import Cli


def test_ou_lifecycle(cli: Cli) -> None:
    root = cli.json("ous", "describe", "root")
    assert root["parent_id"] is None
    prod = cli.json("ous", "create", "prod")
    assert prod["parent_id"] == root["ou_id"]
    eu = cli.json("ous", "create", "eu", "--parent", prod["ou_id"])
    assert eu["parent_id"] == prod["ou_id"]

    assert [o["name"] for o in cli.json("ous", "list")["items"]] == ["prod"]
    assert [o["name"] for o in cli.json("ous", "list", "--parent", prod["ou_id"])["items"]] == ["eu"]
    assert "prod" in cli.ok("ous", "list").stdout

    tree = cli.json("ous", "tree")
    assert {o["ou_id"] for o in tree["items"]} >= {root["ou_id"], prod["ou_id"], eu["ou_id"]}
    drawn = cli.ok("ous", "tree").stdout
    assert "prod" in drawn
    assert "eu" in drawn
    assert drawn.index("prod") < drawn.index("eu")

    assert cli.json("ous", "rename", eu["ou_id"], "europe")["name"] == "europe"
    assert cli.json("ous", "describe", eu["ou_id"])["name"] == "europe"
    assert cli.json("ous", "delete", eu["ou_id"]) == {"deleted": eu["ou_id"]}
    assert cli("ous", "describe", eu["ou_id"]).exit_code == 1
    assert "deleted OU" in cli.ok("ous", "delete", prod["ou_id"]).stdout

"""``silo keys``: management keys, account keys from the management plane, and an account key's own keys."""

from __future__ import annotations

import pytest

from tests.e2e.cli.conftest import Cli


def test_management_keys(cli: Cli) -> None:
    issued = cli.json("keys", "create", "ci")
    assert issued["key"]["kind"] == "management"
    assert issued["token"].startswith(issued["key"]["key_id"] + ".")
    assert cli.json("whoami", key=issued["token"])["kind"] == "management"

    names = {k["name"] for k in cli.json("keys", "list")["items"]}
    assert {"root", "ci"} <= names
    assert "ci" in cli.ok("keys", "list").stdout

    rotated = cli.json("keys", "rotate", issued["key"]["key_id"], "--grace-seconds", "0")
    assert rotated["key"]["key_id"] != issued["key"]["key_id"]
    assert cli.json("whoami", key=rotated["token"])["key_id"] == rotated["key"]["key_id"]
    revoked = cli.json("keys", "revoke", rotated["key"]["key_id"])
    assert revoked["status"] == "REVOKED"
    assert cli("whoami", key=rotated["token"]).exit_code == 1


def test_a_narrow_terminal_hides_optional_columns_not_names(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("keys", "create", "narrow-deploy-key")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli.ok("keys", "list")
    assert "narrow-deploy-key" in result.stdout
    assert "LAST USED" not in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "hidden for lack of width: " in result.stderr


def test_issued_token_is_shown_with_a_warning(cli: Cli) -> None:
    result = cli.ok("keys", "create", "shown-once")
    assert "token: " in result.stdout
    assert "shown only once" in result.stderr


def test_account_keys_from_the_management_plane(cli: Cli) -> None:
    account = cli.json("accounts", "create", "--name", "keyed", "--owner-email", "k@example.com")[
        "account_id"
    ]
    issued = cli.json("keys", "issue", account, "deploy")
    assert issued["key"]["kind"] == "account"
    assert issued["key"]["account_id"] == account
    listed = cli.json("keys", "list", "--account", account)
    # the account factory gave the account its "owner" key
    assert sorted(k["name"] for k in listed["items"]) == ["deploy", "owner"]
    revoked = cli.json("keys", "revoke", issued["key"]["key_id"], "--account", account)
    assert revoked["status"] == "REVOKED"
    assert [k["name"] for k in cli.json("keys", "list", "--account", account)["items"]] == ["owner"]
    assert len(cli.json("keys", "list", "--account", account, "--include-revoked")["items"]) == 2


def test_an_account_key_manages_its_own_account(cli: Cli) -> None:
    account = cli.json("accounts", "create", "--name", "selfie", "--owner-email", "s@example.com")[
        "account_id"
    ]
    token = cli.json("keys", "issue", account, "first")["token"]

    made = cli.json("keys", "create", "second", key=token)
    assert made["key"]["account_id"] == account
    assert made["key"]["kind"] == "account"
    own = {k["name"] for k in cli.json("keys", "list", key=token)["items"]}
    assert own == {"owner", "first", "second"}
    from_mgmt = {k["name"] for k in cli.json("keys", "list", "--account", account)["items"]}
    assert from_mgmt == {"owner", "first", "second"}

    rotated = cli.json("keys", "rotate", made["key"]["key_id"], key=token)
    assert rotated["key"]["account_id"] == account
    assert cli.json("keys", "revoke", rotated["key"]["key_id"], key=token)["status"] == "REVOKED"
    active = {k["key_id"] for k in cli.json("keys", "list", key=token)["items"]}
    assert rotated["key"]["key_id"] not in active


def test_an_account_key_cannot_use_the_management_plane(cli: Cli) -> None:
    account = cli.json("accounts", "create", "--name", "nosy", "--owner-email", "n@example.com")["account_id"]
    token = cli.json("keys", "issue", account, "k")["token"]
    result = cli("accounts", "list", key=token)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: AccessDenied: ")

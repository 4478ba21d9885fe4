"""Organizational units over HTTP: create, nest, list, the tree, rename and delete."""

from __future__ import annotations

from .conftest import Api


def test_root_and_children(api: Api) -> None:
    root = api.get("/v1/mgmt/ous/root")
    assert set(root) == {"ou_id", "name", "parent_id", "path", "created_at"}
    assert root["parent_id"] is None and root["path"] == f"/{root['ou_id']}/"
    assert api.get(f"/v1/mgmt/ous/{root['ou_id']}") == root

    apps = api.ou("apps")
    assert apps["parent_id"] == root["ou_id"] and apps["ou_id"].startswith("ou-")
    eu = api.ou("eu", apps["ou_id"])
    assert eu["path"] == f"{apps['path']}{eu['ou_id']}/"
    billing = api.ou("billing")

    assert [o["name"] for o in api.get("/v1/mgmt/ous")["items"]] == ["apps", "billing"]
    assert api.get("/v1/mgmt/ous", params={"parent_id": apps["ou_id"]})["items"] == [eu]
    tree = api.get("/v1/mgmt/ous", params={"tree": "true"})["items"]
    assert tree[0] == root
    assert {o["ou_id"] for o in tree} == {o["ou_id"] for o in (root, apps, eu, billing)}
    assert api.get(f"/v1/mgmt/ous/{eu['ou_id']}") == eu


def test_rename_conflicts_and_delete(api: Api) -> None:
    root = api.get("/v1/mgmt/ous/root")
    apps = api.ou("apps")
    api.ou("web")
    renamed = api.patch(f"/v1/mgmt/ous/{apps['ou_id']}", {"name": "applications"})
    assert renamed["name"] == "applications" and renamed["ou_id"] == apps["ou_id"]
    assert api.patch(f"/v1/mgmt/ous/{apps['ou_id']}", {"name": "web"}, 409)["code"] == "Conflict"
    assert api.post("/v1/mgmt/ous", {"name": "web"}, 409)["code"] == "Conflict"
    assert api.patch(f"/v1/mgmt/ous/{root['ou_id']}", {"name": "x"}, 409)["code"] == "Conflict"
    assert api.delete(f"/v1/mgmt/ous/{root['ou_id']}", 409)["code"] == "Conflict"

    child = api.ou("child", apps["ou_id"])
    assert "child" in api.delete(f"/v1/mgmt/ous/{apps['ou_id']}", 409)["message"]
    account = api.account("resident", ou_id=child["ou_id"])
    assert "accounts" in api.delete(f"/v1/mgmt/ous/{child['ou_id']}", 409)["message"]
    api.post(f"/v1/mgmt/accounts/{account['account_id']}/move", {"ou_id": root["ou_id"]})
    api.delete(f"/v1/mgmt/ous/{child['ou_id']}")
    api.delete(f"/v1/mgmt/ous/{apps['ou_id']}")
    assert api.get(f"/v1/mgmt/ous/{apps['ou_id']}", 404)["code"] == "NotFound"
    assert api.delete(f"/v1/mgmt/ous/{apps['ou_id']}", 404)["code"] == "NotFound"


def test_depth_is_limited(api: Api) -> None:
    parent_id = None
    for depth in range(5):
        parent_id = api.ou(f"level-{depth}", parent_id)["ou_id"]
    too_deep = api.post("/v1/mgmt/ous", {"name": "level-5", "parent_id": parent_id}, 400)
    assert too_deep["code"] == "ValidationError" and "parent_id" in too_deep["message"]

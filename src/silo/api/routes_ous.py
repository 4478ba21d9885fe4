"""``/v1/mgmt/ous``: the tree of organizational units accounts are placed in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Query, Response

from silo.accounts import OrganizationalUnit
from silo.api.auth import Management
from silo.api.schemas import OuCreate, OuRename, Text
from silo.api.views import ERROR_RESPONSES, OuList, OuView

router = APIRouter(prefix="/v1/mgmt/ous", tags=["ous"], responses=ERROR_RESPONSES)


@router.post("", status_code=201)
def create_ou(body: OuCreate, mgmt: Management) -> OuView:
    """Create an OU under ``parent_id`` (default the root); at most 5 levels deep."""
    return OuView.model_validate(mgmt.create_ou(body.name, body.parent_id))


@router.get("")
def list_ous(
    mgmt: Management,
    parent_id: Annotated[Text | None, Query(description="Children of this OU; default the root.")] = None,
    tree: Annotated[bool, Query(description="The whole tree, root first, ordered by path.")] = False,
) -> OuList:
    if tree:
        return _ous(mgmt.ou_tree())
    return _ous(mgmt.list_ous(parent_id))


@router.get("/root")
def root_ou(mgmt: Management) -> OuView:
    return OuView.model_validate(mgmt.root_ou())


@router.get("/{ou_id}")
def describe_ou(ou_id: str, mgmt: Management) -> OuView:
    return OuView.model_validate(mgmt.describe_ou(ou_id))


@router.patch("/{ou_id}")
def rename_ou(ou_id: str, body: OuRename, mgmt: Management) -> OuView:
    return OuView.model_validate(mgmt.rename_ou(ou_id, body.name))


@router.delete("/{ou_id}", status_code=204, response_class=Response)
def delete_ou(ou_id: str, mgmt: Management) -> Response:
    """Delete an empty OU (no child OUs, no accounts)."""
    mgmt.delete_ou(ou_id)
    return Response(status_code=204)


def _ous(found: Iterable[OrganizationalUnit]) -> OuList:
    return OuList(items=[OuView.model_validate(ou) for ou in found])

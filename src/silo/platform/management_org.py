"""``OrganizationAdmin``: the management plane's audited changes to OUs and guardrails."""

from __future__ import annotations

from silo.accounts import OrganizationalUnit, account_id
from silo.errors import ValidationError
from silo.guardrails import Guardrail
from silo.platform.management_audit import AuditTrail, account_or_none
from silo.platform.services import Services


class OrganizationAdmin:
    """Guardrail changes that can alter what an account may do drop the cached authorization facts."""

    def __init__(self, services: Services, trail: AuditTrail) -> None:
        self._store = services.store
        self._registry = services.registry
        self._ous = services.ous
        self._guardrails = services.guardrails
        self._facts = services.facts
        self._trail = trail

    # --- organizational units ------------------------------------------------------------------
    def create_ou(self, name: str, parent_id: str | None) -> OrganizationalUnit:
        made = self._ous.create(name, parent_id)
        self._trail.now("ous:Create", None, {"ou_id": made.ou_id, "name": name})
        return made

    def rename_ou(self, ou_id: str, name: str) -> OrganizationalUnit:
        renamed = self._ous.rename(ou_id, name)
        self._trail.now("ous:Rename", None, {"ou_id": ou_id, "name": name})
        return renamed

    def delete_ou(self, ou_id: str) -> None:
        self._ous.delete(ou_id)
        with self._store.write() as conn:
            self._guardrails.detach_all(conn, ou_id)
            self._trail.record(conn, "ous:Delete", None, details={"ou_id": ou_id})
        self._facts.invalidate()

    # --- guardrails ----------------------------------------------------------------------------
    def create_guardrail(self, name: str, document: object, description: str) -> Guardrail:
        made = self._guardrails.create(name, document, description)
        self._trail.now("guardrails:Create", None, {"policy_id": made.policy_id, "name": name})
        return made

    def update_guardrail(self, policy_id: str, document: object, description: str | None) -> Guardrail:
        updated = self._guardrails.update(policy_id, document=document, description=description)
        self._facts.invalidate()
        self._trail.now("guardrails:Update", None, {"policy_id": policy_id})
        return updated

    def delete_guardrail(self, policy_id: str) -> None:
        self._guardrails.delete(policy_id)
        self._trail.now("guardrails:Delete", None, {"policy_id": policy_id})

    def attach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        self._check_target(target_id)
        attached = self._guardrails.attach(policy_id, target_id)
        self._record_target("guardrails:Attach", policy_id, target_id)
        return attached

    def detach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        detached = self._guardrails.detach(policy_id, target_id)
        self._record_target("guardrails:Detach", policy_id, target_id)
        return detached

    def _record_target(self, action: str, policy_id: str, target_id: str) -> None:
        self._facts.invalidate()
        with self._store.write() as conn:
            self._trail.record(
                conn,
                action,
                account_or_none(target_id),
                details={"policy_id": policy_id, "target": target_id},
            )

    def _check_target(self, target_id: str) -> None:
        if isinstance(target_id, str) and target_id.isdigit():
            self._registry.get(account_id(target_id, where="target_id"))
        elif isinstance(target_id, str) and (target_id.startswith("ou-") or target_id.startswith("r-")):
            self._ous.get(target_id)
        else:
            raise ValidationError(
                f"target_id: a root, OU or account id, got {target_id!r}", field="target_id"
            )

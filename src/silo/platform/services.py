"""The wired services of one platform, handed to the handles as one bundle."""

from __future__ import annotations

from dataclasses import dataclass

from silo.accounts import AccountRegistry, OrganizationalUnits
from silo.audit import AuditLog
from silo.credentials import AccessKeys
from silo.dlq import DeadLetterQueue
from silo.events.engine import EventsEngine
from silo.fleet import Fleet
from silo.functions import FunctionsEngine
from silo.guardrails import Guardrails
from silo.platform.account_events import AccountEvents
from silo.platform.account_factory import AccountFactory
from silo.platform.authz import AuthorizationFacts
from silo.platform.housekeeping import Housekeeper
from silo.stacks import StacksEngine
from silo.store import Store
from silo.tables.engine import TablesEngine
from silo.workflows.engine import WorkflowsEngine


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    registry: AccountRegistry
    ous: OrganizationalUnits
    keys: AccessKeys
    guardrails: Guardrails
    audit: AuditLog
    facts: AuthorizationFacts
    functions: FunctionsEngine
    dlq: DeadLetterQueue
    housekeeper: Housekeeper
    stacks: StacksEngine
    fleet: Fleet
    events: EventsEngine
    workflows: WorkflowsEngine
    factory: AccountFactory
    tables: TablesEngine
    account_events: AccountEvents

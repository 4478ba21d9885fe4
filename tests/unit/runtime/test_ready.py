"""Claims made ahead: once the zygote runs, the host keeps a few spares claimed (already their own
user, HELLO said), so a first invocation skips the spare's wake-up and drop; used ones are replaced,
dead ones are never handed a function, and none exists before the first invocation."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

from silo.runtime import RuntimeHost
from silo.runtime._uids import kill_users

from .conftest import MakeFunction, spec_for
from .test_claims import WHO, _wait

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="user ids need a root host")


def test_claims_are_made_ahead_after_the_first_invocation_and_replaced(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=30.0, ready=2)
    assert host.ready_claims() == 0  # nothing before the platform is used
    code = make_function(WHO)
    host.invoke(spec_for(code, function_name="first"), "r1", b"{}")
    assert _wait(lambda: host.ready_claims() == 2)
    assert host.environment_count() == 1  # they are no account's environments
    held = host.uids_in_use()
    second = host.invoke(spec_for(code, function_name="second"), "r2", b"{}")
    assert second.cold_start and second.error is None, second.error
    body = json.loads(second.payload or b"")
    if os.geteuid() == 0:
        assert body["uid"] in held  # it ran as a claim made before it was asked for
    assert _wait(lambda: host.ready_claims() == 2)  # replaced
    assert host.environment_count() == 2


@root_only
def test_a_ready_claim_that_died_is_never_handed_a_function(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=30.0, ready=2)
    code = make_function(WHO)
    first = json.loads(host.invoke(spec_for(code, function_name="first"), "r1", b"{}").payload or b"")
    assert _wait(lambda: host.ready_claims() == 2)
    ready_uids = host.uids_in_use() - {first["uid"]}
    assert len(ready_uids) == 2
    assert sum(kill_users(range(uid, uid + 1)) for uid in ready_uids) == 2
    # gone (not merely signalled) before they are taken: a claim that dies while it is being handed
    # a function is a failed invocation, as for any environment that dies at its start
    assert _wait(lambda: sum(kill_users(range(uid, uid + 1)) for uid in ready_uids) == 0)
    for name in ("second", "third", "fourth"):
        result = host.invoke(spec_for(code, function_name=name), name, b"{}")
        assert result.error is None and result.cold_start, result.error
        assert json.loads(result.payload or b"")["uid"] not in ready_uids

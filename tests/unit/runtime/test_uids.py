"""Each environment runs under a user id of its own (root hosts): no environment can signal another,
or reach another's TMPDIR, and an id is handed out again only after its environment is gone."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from silo.runtime import RuntimeHost
from silo.runtime._uids import BLOCK, BLOCKS, UID_BASE, UidAllocator, UidsExhausted, kill_users

from .conftest import MakeFunction, alive, spec_for, wait_gone

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="dedicated user ids need a root host")

PROBE = """
import os, resource, time

def handler(event, context):
    action = event.get("action")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "kill":
        outcome = {}
        for sig in (0, 9):
            try:
                os.kill(event["pid"], sig)
                outcome[str(sig)] = "sent"
            except OSError as exc:
                outcome[str(sig)] = type(exc).__name__
        return outcome
    if action == "touch":
        tmp = os.environ["TMPDIR"]
        with open(os.path.join(tmp, "secret"), "w") as f:
            f.write("mine")
        return tmp
    if action == "peek":
        outcome = {}
        path = event["path"]
        for name, attempt in (
            ("list", lambda: os.listdir(path)),
            ("read", lambda: open(os.path.join(path, "secret")).read()),
            ("write", lambda: open(os.path.join(path, "planted"), "w").close()),
        ):
            try:
                attempt()
                outcome[name] = "allowed"
            except OSError as exc:
                outcome[name] = type(exc).__name__
        return outcome
    return {"uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "pid": os.getpid(),
            "groups": os.getgroups(), "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
            "tmp_owner": os.stat(os.environ["TMPDIR"]).st_uid}
"""


def call(host: RuntimeHost, spec: Any, event: dict[str, Any] | None = None) -> Any:
    result = host.invoke(spec, "r", json.dumps(event or {}).encode())
    assert result.error is None, result.error
    return json.loads(result.payload or b"")


def test_allocator_range_and_reuse() -> None:
    assert UID_BASE + BLOCKS * BLOCK - 1 < 2**31 - 1
    first = UidAllocator(size=4)
    second = UidAllocator(size=4)  # another host on this machine claims another block
    try:
        assert first.block != second.block
        ids = [first.allocate() for _ in range(3)]
        assert len(set(ids)) == 3 and first.probe not in ids
        assert all(UID_BASE < uid < 2**31 - 1 and uid != 65534 for uid in ids)
        assert not {*ids} & {second.allocate()}
        with pytest.raises(UidsExhausted):
            first.allocate()  # every id is held: none is handed out twice
        first.release(ids[1])
        assert first.allocate() == ids[1]  # only once released
        first.retire(ids[0])
        first.release(ids[2])
        assert first.allocate() == ids[2]
        with pytest.raises(UidsExhausted):
            first.allocate()  # a retired id never comes back
    finally:
        first.close()
        second.close()


@root_only
def test_each_environment_has_its_own_user(host: RuntimeHost, make_function: MakeFunction) -> None:
    assert host.sandbox_level() in ("dedicated-user", "bubblewrap")
    code = make_function(PROBE)
    a = call(host, spec_for(code, account_id="111111111111"))
    b = call(host, spec_for(code, account_id="222222222222"))
    for body in (a, b):
        assert body["uid"] == body["euid"] == body["gid"] == body["tmp_owner"]
        assert body["uid"] >= UID_BASE and body["groups"] == []
        assert body["nproc"] == 64
        assert body["uid"] in host.uids_in_use()
    assert a["uid"] != b["uid"]

    same = spec_for(code)  # two concurrent environments of one function
    bodies: list[Any] = []

    def run() -> None:
        bodies.append(call(host, same, {"action": "sleep", "seconds": 0.5}))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 2
    assert bodies[0]["pid"] != bodies[1]["pid"]
    assert bodies[0]["uid"] != bodies[1]["uid"]
    assert not {bodies[0]["uid"], bodies[1]["uid"]} & {a["uid"], b["uid"]}


@root_only
def test_environment_cannot_signal_another(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(PROBE)
    victim = spec_for(code, account_id="222222222222")
    pid = call(host, victim)["pid"]
    outcome = call(host, spec_for(code, account_id="111111111111"), {"action": "kill", "pid": pid})
    assert outcome == {"0": "PermissionError", "9": "PermissionError"}
    same_function = call(host, spec_for(code, account_id="222222222222"), {"action": "kill", "pid": pid})
    assert same_function == {"0": "PermissionError", "9": "PermissionError"}
    assert alive(pid)
    assert call(host, victim)["pid"] == pid  # still warm and well


@root_only
def test_environment_cannot_reach_another_tmpdir(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(PROBE)
    tmp = call(host, spec_for(code, account_id="222222222222"), {"action": "touch"})
    outcome = call(host, spec_for(code, account_id="111111111111"), {"action": "peek", "path": tmp})
    assert outcome == {"list": "PermissionError", "read": "PermissionError", "write": "PermissionError"}
    assert os.listdir(tmp) == ["secret"]


@root_only
def test_user_ids_are_freed_only_after_exit(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=0.3, ready=0)
    code = make_function(PROBE)
    body = call(host, spec_for(code))
    uid, pid = body["uid"], body["pid"]
    assert host.uids_in_use() == {uid}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if uid not in host.uids_in_use():  # freed: its process must be gone by now
            assert not alive(pid)
            break
        time.sleep(0.005)
    assert host.uids_in_use() == set()
    assert call(host, spec_for(code))["uid"] != uid  # round robin: not handed out again at once
    host.close()
    assert host.uids_in_use() == set()


def _uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[2])  # effective
    except FileNotFoundError:
        pass
    return None


@pytest.fixture(scope="module")
def host(new_host: Callable[..., RuntimeHost]) -> RuntimeHost:
    """No claims made ahead (``ready=0``): these tests count user ids and processes exactly."""
    return new_host(idle_timeout_s=30.0, ready=0)


@root_only
def test_spares_wait_as_root(host: RuntimeHost, make_function: MakeFunction) -> None:
    call(host, spec_for(make_function(PROBE)))
    zygote = host.zygote_pid()
    assert zygote is not None
    with open(f"/proc/{zygote}/task/{zygote}/children", "rb") as children:
        kids = {int(part) for part in children.read().split()}
    spares = kids - set(host.environment_pids())
    deadline = time.monotonic() + 2
    while not spares and time.monotonic() < deadline:
        time.sleep(0.02)
    assert spares
    owners = {_uid_of(pid) for pid in spares} - {None}
    assert owners == {0}  # they learn their user id with the request


ESCAPE = """
import os, time

def handler(event, context):
    if event.get("action") == "escape":  # a grandchild in a session of its own, outliving us
        read, write = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.close(read)
                os.write(write, str(os.getpid()).encode())
                os.close(write)
                while True:
                    time.sleep(1)
            os._exit(0)
        os.close(write)
        pid = int(os.read(read, 32))
        os.close(read)
        os.wait()
        return {"uid": os.getuid(), "escaped": pid}
    return {"uid": os.getuid()}
"""


def _wait_released(host: RuntimeHost, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while host.uids_in_use() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert host.uids_in_use() == set()


@root_only
def test_a_reused_user_id_is_swept_first(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=0.2, user_ids=3, ready=0)  # two ids to hand out: reused every other time
    code = make_function(ESCAPE)
    first = call(host, spec_for(code), {"action": "escape"})
    uid, escaped = first["uid"], first["escaped"]
    _wait_released(host)
    assert alive(escaped) and _uid_of(escaped) == uid  # outlived its environment, under its id
    other = call(host, spec_for(code))["uid"]
    assert other != uid and alive(escaped)  # a fresh id: nothing to sweep
    _wait_released(host)
    again = call(host, spec_for(code))["uid"]
    assert again == uid  # the id comes back, and nothing of its last holder runs with it
    assert wait_gone([escaped]) == []


@root_only
def test_a_block_sweep_kills_what_runs_under_its_ids() -> None:
    """What a host does when it claims a block (``UidAllocator.sweep_block``): an earlier host's
    leftover under one of the ids is killed, and nothing else."""
    allocator = UidAllocator(size=3)
    try:
        uid = allocator.probe + 2
        pid = os.fork()
        if pid == 0:  # a leftover: a process running as one of the block's ids
            try:
                os.setgid(uid)
                os.setuid(uid)
                time.sleep(30)
            finally:
                os._exit(0)
        deadline = time.monotonic() + 5
        while _uid_of(pid) != uid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _uid_of(pid) == uid
        assert allocator.sweep_block() == 1
        os.waitpid(pid, 0)
        assert not alive(pid)
        assert kill_users(range(allocator.probe, allocator.probe + 3)) == 0
    finally:
        allocator.close()

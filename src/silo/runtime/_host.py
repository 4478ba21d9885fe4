"""RuntimeHost: the pool of execution environments, keyed by ``EnvironmentSpec.key``.

Threads call ``invoke`` concurrently; each takes an idle environment of its key (most recently used
first) or forks a new one, runs one invocation on it and returns it to the pool. One supervisor
thread does everything periodic: it starts the zygote (so the zygote's parent-death signal is tied
to a thread that lives as long as the host), and it kills environments idle for ``idle_timeout_s``,
sleeping exactly until the next idle deadline, or without a timeout when nothing is idle: an idle
platform has no wake-ups and no environment processes.

Files: ``work_dir/tmp`` (0711) holds one directory per host process, ``h<pid>-<nonce>`` (0711). In it,
each environment has a TMPDIR ``<name>/`` (0700, owned by its own user id) and a log file
``<name>.log`` (0600, created before the privilege drop and written through inherited fds), named by
the spare that became it; ``zygote/`` holds the rehearsal module.

User ids (root hosts): ``_checkout`` allocates one per environment from the host's block (``_uids``);
the environment hands it back from ``destroy`` once its process has exited. The host removes an environment's
files when it discards it, and the directories of hosts that are no longer running when it starts.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import resource
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from time import monotonic

from silo.runtime import _bubblewrap
from silo.runtime._calls import OnCall
from silo.runtime._launcher import SILO_DIR, ZygoteGone, ZygoteProcess
from silo.runtime._limits import resolve_sandbox
from silo.runtime._models import EnvironmentSpec, InvocationResult
from silo.runtime._paths import make_host_dir
from silo.runtime._pool import Pool
from silo.runtime._process import EnvironmentProcess, EnvironmentStale
from silo.runtime._uids import BLOCK as UID_BLOCK
from silo.runtime._uids import UidAllocator, UidsExhausted
from silo.runtime.errors import RuntimeCapacityError, RuntimeStartError

SPARES = 2  # processes the zygote keeps forked and half specialised (see _spare)
READY = 4  # claims kept ready: spares that already run as their user id and said HELLO
REFILL_DELAY_S = 0.01  # a used ready claim is replaced this much later, off the invocation's path
Claim = EnvironmentProcess  # a spare woken for a function that is still being looked up


class RuntimeHost:
    """Runs function invocations in pooled, forked execution environments.

    Args:
        work_dir: where per-environment TMPDIRs and log files live (created if missing).
        idle_timeout_s: an environment idle this long exits (scale to zero).
        max_environments: live environments across all keys; past it the least recently used idle
            environment of another key is evicted, else ``RuntimeCapacityError`` (429).
        sandbox: "auto" (the strongest available), "bubblewrap", "dedicated-user" or "rlimits-only".
        code_roots: (bubblewrap) the directories function code lives in, shown read-only inside the
            sandbox (default ``work_dir/code``); code elsewhere cannot be reached there.
        shared_dirs: (bubblewrap) host directories shown read-write inside the sandbox.
        ready: claims kept ready once the zygote runs (see ``claim``): a first invocation then
            skips the spare's wake-up, its drop to a user id and its HELLO.
        user_ids: (dedicated-user) how many ids of its block the host uses, the probe included
            (fewer in tests, to see them reused).
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        idle_timeout_s: float = 60.0,
        max_environments: int = 1000,
        sandbox: str = "auto",
        user_ids: int = UID_BLOCK,
        code_roots: Sequence[Path] = (),
        shared_dirs: Sequence[Path] = (),
        ready: int = READY,
    ) -> None:
        self._level = resolve_sandbox(sandbox)
        self._uids = UidAllocator(user_ids) if self._level != "rlimits-only" else None
        if self._uids is not None:
            self._uids.sweep_block()  # processes an earlier host of this block may have left
        self._probe = None if self._uids is None else self._uids.probe  # "any environment's uid"
        self._idle_timeout = idle_timeout_s
        self._max = max_environments
        try:
            self._host_dir = make_host_dir(Path(work_dir), self._probe, self._probe)
        except BaseException:
            if self._uids is not None:
                self._uids.close()
            raise
        _raise_nofile(2 * max_environments + 256)
        self._ids = itertools.count(1)
        self._nonce = self._host_dir.name.rsplit("-", 1)[1]
        self._host_str = str(self._host_dir)
        self._code_roots = tuple(code_roots) or (Path(work_dir) / "code",)
        if self._level == "bubblewrap":  # shown in the sandbox from its start: they must exist by then
            for root in self._code_roots:
                if not root.exists():
                    root.mkdir(parents=True, exist_ok=True)
                    root.chmod(0o711)  # as the artifact store makes it: traversable, not listable
        self._shared_dirs = tuple(shared_dirs)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pool = Pool()
        self._claims = 0  # claimed spares not bound to a function yet (they count as environments)
        self._ready: list[EnvironmentProcess] = []  # claims made ahead (not environments until taken)
        self._ready_target = ready
        self._refill = False  # the supervisor makes ready claims up to the target ...
        self._refill_at = 0.0  # ... from then on (not during the invocation that took one)
        self._zygote: ZygoteProcess | None = None
        self._zygote_wanted = False
        self._zygote_error: BaseException | None = None
        self._supervisor: threading.Thread | None = None
        self._reaper_unarmed = False  # the supervisor waits with no deadline (nothing was idle)
        self._closed = False
        atexit.register(self.close)

    # -- public interface ------------------------------------------------------------------------

    def invoke(
        self,
        spec: EnvironmentSpec,
        request_id: str,
        payload: bytes,
        *,
        on_call: OnCall | None = None,
        deadline: float | None = None,
        claim: Claim | None = None,
    ) -> InvocationResult:
        """Run one invocation; function failures come back in ``InvocationResult.error``.

        ``deadline`` is a ``time.monotonic()`` value that caps ``spec.timeout_s``. ``on_call`` serves
        the function's ``silo.runtime.channel.call`` requests in this thread. ``claim`` (from
        ``claim()``) becomes the environment if none of ``spec``'s is idle; it is used up either way.

        Raises:
            RuntimeCapacityError: ``max_environments`` are alive and none is idle.
            RuntimeStartError: the host is closed, or no environment could be started.
        """
        for _ in range(8):
            env, cold = self._checkout(spec, claim)
            claim = None
            try:
                result = env.invoke(request_id, payload, on_call, deadline, cold)
            except EnvironmentStale:
                self._discard(env)
                continue
            except BaseException:
                self._discard(env)
                raise
            if env.alive:
                self._checkin(env)
            else:
                self._discard(env)
            return result
        raise RuntimeStartError("no working environment could be found")

    def claim(self) -> Claim | None:
        """Wake a spare for an environment whose function is not known yet.

        For a caller about to look a function up that has no idle environment here: a claim made
        ahead (``ready``: already its own user, HELLO read) when there is one, else a spare that takes
        its user id and says HELLO meanwhile; ``invoke(..., claim=...)`` hands it the function. None
        when no spare can be had now (``invoke`` then forks as usual). A claim is used up by
        ``invoke``; one that is not must be given to ``release``.
        """
        while True:
            with self._lock:
                if self._closed or self._pool.count() + self._claims >= self._max:
                    return None
                ready = self._take_ready()
                if ready is None:
                    break
                self._claims += 1
            if ready.usable():
                return ready
            self.release(ready)
        with self._lock:
            try:
                env = self._unforked(None)
            except UidsExhausted:
                return None
            self._claims += 1
        try:
            self._fork(env)
        except Exception:  # no spare will take it: nothing to wait for
            with self._lock:
                self._claims -= 1
            env.destroy()
            return None
        return env

    def release(self, claim: Claim) -> None:
        """Let an unused claim go (its process is ended; its user id comes back once it has)."""
        with self._lock:
            self._claims -= 1
            if self._refill:
                self._cond.notify_all()
        claim.destroy(hello_wait=1.0)  # learn its pid, so its user id can be confirmed free

    def has_idle(self, account_id: str, function_name: str, version: str) -> bool:
        """Whether an idle environment of this function version (any revision) is waiting here."""
        return self._pool.has_idle(account_id, function_name, version)

    def start(self) -> None:
        """Start the zygote now instead of on the first invocation (optional; ~0.2 s once)."""
        self._zygote_process()

    def environment_count(self, account_id: str | None = None) -> int:
        """Live environments (starting, busy or idle), of all accounts or of one."""
        with self._lock:
            return self._pool.count(account_id)

    def environment_pids(self) -> list[int]:
        """Pids of the live environments (spares waiting in the zygote's pool are not included)."""
        with self._lock:
            return [env.pid for env in self._pool.live.values() if env.pid is not None]

    def ready_claims(self) -> int:
        """Claims made ahead, waiting for a function (they belong to no account)."""
        with self._lock:
            return len(self._ready)

    def zygote_pid(self) -> int | None:
        """The zygote's pid while one runs (for metrics and tests)."""
        zygote = self._zygote
        return None if zygote is None or zygote.broken else zygote.pid

    def sandbox_level(self) -> str:
        """The isolation actually active: "bubblewrap" (a dedicated user id per environment, in a
        sandbox of namespaces), "dedicated-user" or "rlimits-only" (see ``_limits``)."""
        return self._level

    def close(self) -> None:
        """Kill every environment and the zygote; later invocations raise ``RuntimeStartError``."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            envs = self._pool.drain() + self._ready
            self._ready = []
            zygote, self._zygote = self._zygote, None
            supervisor = self._supervisor
            self._cond.notify_all()
        atexit.unregister(self.close)
        for env in envs:
            env.destroy()
        if zygote is not None:
            zygote.close()
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join()
        shutil.rmtree(self._host_dir, ignore_errors=True)
        if self._uids is not None:
            self._uids.close()

    # -- pool ------------------------------------------------------------------------------------

    def _checkout(self, spec: EnvironmentSpec, claim: Claim | None = None) -> tuple[EnvironmentProcess, bool]:
        victim = None
        with self._lock:
            if self._closed:
                raise RuntimeStartError("the runtime host is closed")
            env = self._pool.take_idle(spec.key)
            if env is None and claim is not None:  # it becomes this environment; already forked
                self._claims -= 1
                claim.bind(spec)
                self._pool.add(claim)
                return claim, True
        if claim is not None:
            self.release(claim)
        if env is not None:
            return env, False
        with self._lock:
            if self._closed:
                raise RuntimeStartError("the runtime host is closed")
            ready = self._take_ready()  # already forked, as its own user
            if self._pool.count() + self._claims >= self._max:
                victim = self._pool.oldest_idle()  # of another key: none of this key is idle
                if victim is None:
                    if ready is not None:
                        self._ready.append(ready)
                    raise RuntimeCapacityError(
                        f"all {self._max} execution environments are busy", limit=self._max
                    )
            if ready is not None:
                env = ready
                env.bind(spec)
            else:
                try:
                    env = self._unforked(spec)
                except UidsExhausted as exc:
                    raise RuntimeCapacityError(str(exc), limit=self._max) from None
            if victim is not None:
                self._pool.remove(victim)
            self._pool.add(env)
        if victim is not None:
            victim.destroy()
        if ready is not None:
            if ready.usable():
                return ready, True
            self._discard(ready)
            return self._checkout(spec)
        try:
            self._fork(env)
        except BaseException:
            self._discard(env)
            raise
        return env, True

    def _unforked(self, spec: EnvironmentSpec | None) -> EnvironmentProcess:
        """(With the lock held.) A new environment with its own user id, not forked yet.

        Raises:
            UidsExhausted: every user id of the host's block is held.
        """
        uid = None
        sweep = False
        if self._uids is not None:
            uid, sweep = self._uids.take()
        return EnvironmentProcess(
            f"{self._nonce}-{next(self._ids)}", spec, self._host_str, uid, self._uid_done, sweep=sweep
        )

    def _take_ready(self) -> EnvironmentProcess | None:
        """(With the lock held.) A claim made ahead, if one is left. The supervisor makes another,
        told when the invocation is over (``_checkin``, ``_discard``, ``release``): waking it now
        would have it compete with this invocation for the interpreter lock."""
        if self._ready_target and not self._refill:
            self._refill = True
            self._refill_at = monotonic() + REFILL_DELAY_S
        return self._ready.pop() if self._ready else None

    def _make_ready(self, count: int) -> None:
        """(Supervisor.) Claim up to ``count`` spares ahead of any request, while the zygote runs."""
        for _ in range(count):
            zygote = self._zygote
            with self._lock:
                if self._closed or zygote is None or zygote.broken:
                    return
                try:
                    env = self._unforked(None)
                except UidsExhausted:
                    return
            request, end = env.fork_request()
            try:
                zygote.fork(request, end)
            except Exception:  # the zygote went away or its queue is full: try when next asked
                env.forked()
                env.destroy()
                return
            env.forked()
            if not env.usable(hello_wait=1.0):  # its HELLO, read here rather than on a request's path
                env.destroy()
                return
            with self._lock:
                if not self._closed:
                    self._ready.append(env)
                    continue
            env.destroy()
            return

    def _fork(self, env: EnvironmentProcess) -> None:
        request, end = env.fork_request()
        try:
            for attempt in range(2):
                zygote = self._zygote_process()
                try:
                    zygote.fork(request, end)
                    return
                except ZygoteGone:
                    if attempt:
                        raise RuntimeStartError("the zygote process is not running") from None
        finally:
            env.forked()

    def _checkin(self, env: EnvironmentProcess) -> None:
        env.last_used = monotonic()
        with self._lock:
            if not self._closed and self._pool.release(env):
                if self._reaper_unarmed or self._refill:  # it sleeps without a deadline, or must refill
                    self._reaper_unarmed = False
                    self._cond.notify_all()
                return
        env.destroy()

    def _uid_done(self, uid: int, exited: bool) -> None:
        """(From ``EnvironmentProcess.destroy``.) Reusable once its process is gone; else retired."""
        with self._lock:
            if self._uids is None:
                return
            if exited:
                self._uids.release(uid)
            else:
                self._uids.retire(uid)

    def uids_in_use(self) -> set[int]:
        """User ids held by live environments (root hosts; for tests and metrics)."""
        with self._lock:
            return set() if self._uids is None else self._uids.held()

    def _discard(self, env: EnvironmentProcess) -> None:
        with self._lock:
            self._pool.remove(env)
            if self._refill:
                self._cond.notify_all()
        env.destroy()

    # -- supervisor: zygote start and idle expiry ---------------------------------------------------

    def _zygote_process(self) -> ZygoteProcess:
        zygote = self._zygote
        if zygote is not None and not zygote.broken:
            return zygote
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeStartError("the runtime host is closed")
                zygote = self._zygote
                if zygote is not None and not zygote.broken:
                    return zygote
                if self._zygote_error is not None:
                    error, self._zygote_error = self._zygote_error, None
                    raise RuntimeStartError(f"could not start the zygote: {error}") from error
                if self._supervisor is None:
                    self._supervisor = threading.Thread(
                        target=self._supervise, name="silo-runtime", daemon=True
                    )
                    self._supervisor.start()
                self._zygote_wanted = True
                self._cond.notify_all()
                self._cond.wait()

    def _supervise(self) -> None:
        while True:
            expired: list[EnvironmentProcess] = []
            old_zygote = None
            make = 0
            with self._cond:
                while not expired and old_zygote is None and not make:
                    if self._closed:
                        return
                    if self._zygote_wanted:
                        self._zygote_wanted = False
                        old_zygote = self._start_zygote()
                        expired, self._ready = self._ready, []  # they were the old zygote's children
                        self._refill = bool(self._ready_target)
                        self._cond.notify_all()
                        continue
                    now = monotonic()
                    if self._refill and now >= self._refill_at:
                        self._refill = False
                        make = self._ready_target - len(self._ready)
                        continue
                    expired = self._pool.expired(now, self._idle_timeout)
                    if expired:
                        break
                    oldest = self._pool.oldest_idle()
                    wait = None if oldest is None else oldest.last_used + self._idle_timeout - now
                    if self._refill:
                        wait = min(wait if wait is not None else REFILL_DELAY_S, self._refill_at - now)
                    self._reaper_unarmed = wait is None
                    self._cond.wait(wait)
                    self._reaper_unarmed = False
            for env in expired:
                env.destroy()
            if old_zygote is not None:
                old_zygote.close()
            if make > 0:
                self._make_ready(make)

    def _start_zygote(self) -> ZygoteProcess | None:
        """(Called with the lock held, in the supervisor thread.) Returns the broken one it replaces."""
        old = self._zygote
        if old is not None and not old.broken:
            return None
        try:
            self._zygote = ZygoteProcess(self._probe, SPARES, self._host_dir, self._sandbox_command())
        except Exception as exc:
            self._zygote = None
            self._zygote_error = exc
        return old

    def _sandbox_command(self) -> list[str] | None:
        bwrap = _bubblewrap.bwrap_path() if self._level == "bubblewrap" else None
        if bwrap is None:
            return None
        return _bubblewrap.command(
            bwrap, writable=[self._host_dir, *self._shared_dirs], readable=self._code_roots, silo_dir=SILO_DIR
        )


def _raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

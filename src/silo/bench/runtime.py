"""``silo bench runtime``: cold start, warm overhead, throughput and scale-to-zero, in-process.

Everything runs in a throwaway embedded platform: a fresh ``python -c pass`` is timed in the same
run as the yardstick, so the cold-start figure can be compared with an interpreter start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from silo.accounts import AccountSpec
from silo.bench.stats import percentile, scratch_settings
from silo.functions import FunctionSettings, InvokeOutcome, zip_directory
from silo.platform import AccountHandle, Platform
from silo.settings import Settings

NOOP = "def handler(event, context):\n    return event\n"


def run(
    *,
    cold_samples: int = 200,
    warm_samples: int = 5000,
    throughput_seconds: float = 3.0,
    threads: int = 4,
    processes: int | None = None,
    registered_accounts: int = 1000,
    functions_per_account: int = 100,
) -> dict[str, Any]:
    """``threads`` invokers in all, spread over ``processes`` platform processes (default: one per
    core) for the throughput figure; everything else runs in this process."""
    processes = max(1, min(processes or os.cpu_count() or 1, threads))
    with scratch_settings(idle_timeout_s=1.0) as settings:
        platform = Platform.open(settings)
        try:
            handle, token = _tenant(platform, limit=max(threads * 2, 10))
            code = _code()
            handle.functions.create("warmup", code, FunctionSettings(handler="app.handler"))
            handle.functions.invoke("warmup")  # unpack the artifact and start the zygote once
            interpreter = _interpreter_start_ms(30)
            cold = _cold_starts(handle, code, cold_samples)
            _settle(platform)
            warm = _warm_invokes(handle, warm_samples)
            throughput = _throughput(settings, token, throughput_seconds, threads, processes)
            idle = _idle_processes(platform)
            memory = _registered_memory(platform, code, registered_accounts, functions_per_account)
        finally:
            platform.close()
    return {
        "cold_start_ms_p50": round(percentile(cold, 50), 3),
        "cold_start_ms_p99": round(percentile(cold, 99), 3),
        "interpreter_start_ms_p50": round(percentile(interpreter, 50), 3),
        "cold_start_vs_interpreter": round(percentile(cold, 50) / percentile(interpreter, 50), 4),
        "warm_invoke_us_p50": round(percentile(warm, 50), 1),
        "warm_invoke_us_p99": round(percentile(warm, 99), 1),
        "throughput_per_s": round(throughput, 1),
        "threads": threads,
        "processes": processes,
        "idle_processes_after_timeout": idle,
        "sandbox": platform.runtime.sandbox_level(),
        **memory,
        "cpus": os.cpu_count(),
    }


def _tenant(platform: Platform, *, limit: int) -> tuple[AccountHandle, str]:
    init = platform.initialise()
    assert init is not None
    mgmt = platform.management(platform.authenticate(init.root_key.token))
    account = mgmt.create_account(AccountSpec("bench", "bench@silo.example", concurrency_limit=limit))
    token = mgmt.issue_account_key(account.account_id, "bench").token
    return platform.account(platform.authenticate(token)), token


def _code() -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "app.py").write_text(NOOP)
        return zip_directory(Path(directory))


def _interpreter_start_ms(samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _cold_starts(handle: AccountHandle, code: bytes, samples: int) -> list[float]:
    """First invocation of a fresh function version, each a new function with the same code."""
    out = []
    for i in range(samples):
        handle.functions.create(f"cold-{i}", code, FunctionSettings(handler="app.handler"))
        started = time.perf_counter()
        outcome = handle.functions.invoke(f"cold-{i}", b'{"i": 1}')
        out.append((time.perf_counter() - started) * 1000)
        assert isinstance(outcome, InvokeOutcome) and outcome.cold_start and outcome.error is None
    return out


def _settle(platform: Platform, timeout: float = 10.0) -> None:
    """Let the cold phase's environments reach their idle timeout and exit before the next phase, so
    that it does not pay for their teardown."""
    deadline = time.monotonic() + timeout
    while platform.runtime.environment_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)


def _warm_invokes(handle: AccountHandle, samples: int) -> list[float]:
    handle.functions.invoke("warmup")
    out = []
    invoke = handle.functions.invoke
    for _ in range(samples):
        started = time.perf_counter()
        invoke("warmup", b"{}")
        out.append((time.perf_counter() - started) * 1e6)
    return out


def _throughput(settings: Settings, token: str, seconds: float, threads: int, processes: int) -> float:
    """No-op invocations per second through the account API, by ``threads`` invokers spread over
    ``processes`` worker processes, each a ``Platform`` of its own on the same home and database
    (as several API workers of one node would be): one Python process is bound by its GIL."""
    env = {
        **os.environ,
        "SILO_HOME": str(settings.home),
        "SILO_RUNTIME_DIR": str(settings.runtime_dir),
        "SILO_IDLE_TIMEOUT_SECONDS": str(settings.idle_timeout_s),
        "SILO_DATABASE_URL": settings.database_url or "",
        "SILO_DATABASE_SCHEMA": settings.database_schema or "",
    }
    shares = [threads // processes + (i < threads % processes) for i in range(processes)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, token, str(share), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for share in shares
    ]
    try:
        for worker in workers:  # each has warmed its own environments
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError("a throughput worker failed to start")
        start_at = time.time() + 0.2
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(f"{start_at}\n")
            worker.stdin.flush()
        total = 0
        for worker in workers:
            out, _ = worker.communicate(timeout=seconds + 60)
            total += int(out.split()[-1])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return total / seconds


_WORKER = "from silo.bench.runtime import throughput_worker; throughput_worker()"


def throughput_worker() -> None:
    """(A throughput worker process.) argv: account key, threads, seconds; SILO_* name the platform.
    Prints "ready" once warm, reads the wall-clock start time, prints how many invocations finished
    in the window."""
    token, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    platform = Platform.open(Settings.from_env())
    try:
        handle = platform.account(platform.authenticate(token))
        counts = [0] * threads
        barrier = threading.Barrier(threads + 1)

        def worker(slot: int) -> None:
            invoke = handle.functions.invoke
            invoke("warmup", b"{}")  # one warm environment per invoker before the clock starts
            barrier.wait()
            barrier.wait()
            time.sleep(max(0.0, start_at - time.time()))
            while time.time() < stop_at:
                invoke("warmup", b"{}")
                counts[slot] += 1

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        print("ready", flush=True)
        start_at = float(sys.stdin.readline())
        stop_at = start_at + seconds
        barrier.wait()
        for t in pool:
            t.join()
        print(sum(counts), flush=True)
    finally:
        platform.close()


def _idle_processes(platform: Platform) -> int:
    """Environments alive 2 s after the last invocation with a 1 s idle timeout (must be 0)."""
    pids = platform.runtime.environment_pids()
    time.sleep(2.0)
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
    return max(platform.runtime.environment_count(), len(alive))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _registered_memory(platform: Platform, code: bytes, accounts: int, per_account: int) -> dict[str, Any]:
    """RSS before and after registering ``accounts x per_account`` functions that are never invoked.

    The rows are written with the bulk path (as a fleet rollout would), not one API call each; the
    point is what the platform keeps resident for functions nobody calls: nothing.
    """
    from silo.functions.packaging import check_archive
    from silo.store import insert_rows, utcnow
    from silo.store.schema import functions

    before = _rss_mb()
    if accounts == 0 or per_account == 0:
        return {
            "registered_functions": 0,
            "rss_mb_before_registering": round(before, 1),
            "rss_mb_after_registering": round(before, 1),
            "resident_function_objects": len(platform.functions.targets),
        }
    archive = check_archive(code)
    init_mgmt = platform.management(
        platform.authenticate(platform.settings.root_key_path.read_text().strip())
    )
    made = init_mgmt.create_accounts([AccountSpec(f"reg-{i:06d}", "r@silo.example") for i in range(accounts)])
    now = utcnow()

    def row(account_id: str, j: int) -> dict[str, Any]:
        return {
            "account_id": account_id,
            "name": f"fn-{j:03d}",
            "handler": "app.handler",
            "runtime": "python3.11",
            "memory_size": 128,
            "timeout": 3,
            "environment": {},
            "description": "",
            "code_sha256": archive.sha256,
            "code_size": archive.size,
            "revision": f"r{j}",
            "reserved_concurrency": None,
            "tags": {},
            "max_retry_attempts": 2,
            "max_event_age": 21600,
            "on_failure": None,
            "last_version": 0,
            "created_at": now,
            "updated_at": now,
        }

    chunk = max(1, 20_000 // per_account)  # accounts per transaction: bounded memory while writing
    for i in range(0, len(made), chunk):
        with platform.store.write() as conn:
            insert_rows(
                conn,
                functions,
                [row(a.account_id, j) for a in made[i : i + chunk] for j in range(per_account)],
            )
    after = _rss_mb()
    return {
        "registered_functions": accounts * per_account,
        "rss_mb_before_registering": round(before, 1),
        "rss_mb_after_registering": round(after, 1),
        "resident_function_objects": len(platform.functions.targets),
    }

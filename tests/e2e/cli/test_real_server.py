"""End to end: `silo server` in a subprocess, then the CLI in another (only SILO_HOME, SILO_ENDPOINT)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SILO_")}
    env["SILO_HOME"] = str(home)
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "silo.cli.main", "server", "--port", str(port)],
        env=_base_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"silo server exited with {proc.returncode}: {(tmp_path / 'server.log').read_text()}"
                )
            try:
                if httpx.get(f"{endpoint}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"silo server did not answer /healthz: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield endpoint, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_cli_against_a_real_server(server: tuple[str, Path]) -> None:
    endpoint, home = server
    assert (home / "root-key").is_file()
    env = _base_env(home) | {"SILO_ENDPOINT": endpoint}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "silo.cli.main",
            "accounts",
            "create",
            "--name",
            "first",
            "--owner-email",
            "a@b.co",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    account = json.loads(done.stdout)
    assert account["name"] == "first"
    assert account["owner_email"] == "a@b.co"
    assert account["status"] == "ACTIVE"
    assert len(account["account_id"]) == 12

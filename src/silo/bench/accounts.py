"""``silo bench accounts``: create N accounts through the bulk HTTP API path."""

from __future__ import annotations

import time
from typing import Any

import httpx

from silo.bench.stats import scratch_settings

CHUNK = 10_000


def run(count: int = 10_000, *, database_url: str | None = None) -> dict[str, Any]:
    """Start a real server on an ephemeral port, POST the accounts in batches, time it end to end."""
    from silo.api import serve_in_thread

    with scratch_settings(database_url=database_url) as settings:
        url, stop = serve_in_thread(settings, port=0)
        try:
            token = settings.root_key_path.read_text().strip()
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
            ) as http:
                started = time.perf_counter()
                made = 0
                for offset in range(0, count, CHUNK):
                    batch = [
                        {
                            "name": f"bench-{i:07d}",
                            "owner_email": "ops@bench.example",
                            "tags": {"tier": "bench"},
                        }
                        for i in range(offset, min(offset + CHUNK, count))
                    ]
                    response = http.post("/v1/mgmt/accounts/batch", json={"accounts": batch})
                    response.raise_for_status()
                    made += int(response.json()["count"])
                elapsed = time.perf_counter() - started
                listed = http.get("/v1/mgmt/accounts", params={"tag": "tier=bench", "limit": 1}).json()
        finally:
            stop()
    return {
        "accounts": made,
        "seconds": round(elapsed, 3),
        "accounts_per_s": round(made / elapsed, 1),
        "backend": "postgresql" if database_url else "sqlite",
        "listed_first": bool(listed["items"]),
    }

"""Standalone restarted on the same store: kept clocks stay, new events are applied."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.live import REPO, free_port

DEFINITIONS = REPO / "examples/live-demo.yaml"


def created(ticket: str, at: str) -> dict[str, Any]:
    return {
        "id": f"created-{ticket}",
        "type": "ticket.created",
        "time": at,
        "source": "test",
        "ticket": {"id": ticket, "status": "open", "priority": "P2", "customer_tier": "gold"},
    }


@contextmanager
def standalone(
    store: Path,
    definitions: Path = DEFINITIONS,
    printed: list[str] | None = None,
    **env_vars: str,
) -> Iterator[str]:
    """A standalone process on ``store``, ready; what it printed is added to ``printed``."""
    port = free_port()
    env = {
        **os.environ,
        "SLAWATCH_PORT": str(port),
        "SLAWATCH_LOG_LEVEL": "warning",
        "SLAWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{store}",
        **env_vars,
    }
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/slawatch"), "standalone", "--definitions", str(definitions)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            raise AssertionError("standalone never became ready")
        yield base
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
        if printed is not None:
            printed += out.splitlines()
        assert proc.returncode == 0, out


def clocks_of(base: str, ticket: str) -> list[dict[str, Any]]:
    for _ in range(80):
        answer = httpx.get(f"{base}/v1/clocks", params={"subject": f"ticket:{ticket}"}, timeout=2)
        if answer.status_code == 200 and answer.json()["clocks"]:
            return list(answer.json()["clocks"])
        time.sleep(0.25)
    return []


def test_events_sent_after_a_restart_are_applied_and_kept_clocks_remain(tmp_path: Path) -> None:
    store = tmp_path / "standalone.db"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with standalone(store) as base:
        batch = [created(f"OLD-{n}", now) for n in range(1, 6)]
        sent = httpx.post(f"{base}/v1/events", json=batch, timeout=10)
        assert sent.status_code == 200, sent.text
        assert sent.json()["accepted"] == 5, sent.text
        assert len(clocks_of(base, "OLD-5")) == 2

    with standalone(store) as base:
        assert len(clocks_of(base, "OLD-1")) == 2
        sent = httpx.post(f"{base}/v1/events", json=[created("NEW-1", now)], timeout=10)
        assert sent.status_code == 200, sent.text
        assert sent.json()["accepted"] == 1, sent.text
        assert len(clocks_of(base, "NEW-1")) == 2

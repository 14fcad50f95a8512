"""``make run``'s command: standalone with the live demo, as a newcomer runs it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.live import REPO, free_port


def notifications_sent(metrics: str) -> float:
    """``slawatch_notifications_total{channel="console",status="sent"}``, 0 when absent."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "slawatch_notifications_total" and sample.labels == {
                "channel": "console",
                "status": "sent",
            }:
                return sample.value
    return 0.0


def start_demo(port: int, exit_after: int, **env: str) -> subprocess.Popen[str]:
    """``make run``'s script on ``port``, stopping by itself after ``exit_after`` seconds."""
    return subprocess.Popen(
        [str(REPO / "deploy/run-demo.sh"), "--exit-after", str(exit_after)],
        env={**os.environ, "SLAWATCH_PORT": str(port), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def poll(attempt: Callable[[], bool], tries: int = 200, pause: float = 0.25) -> bool:
    """Call ``attempt`` until it returns true (HTTP errors count as false); whether it did."""
    for _ in range(tries):
        with contextlib.suppress(httpx.HTTPError):
            if attempt():
                return True
        time.sleep(pause)
    return False


@pytest.fixture
def port() -> Iterator[int]:
    """A free port; the demo store ``make run`` makes for it is removed afterwards."""
    port = free_port()
    yield port
    for path in (REPO / "var").glob(f"standalone-demo-{port}.db*"):
        path.unlink()


def test_demo_shows_clocks_warn_breach_and_notify_within_a_minute(port: int) -> None:
    began = time.monotonic()
    proc = start_demo(port, 45, SLAWATCH_LOG_LEVEL="warning")
    api: dict[str, int] = {}

    def api_answers() -> bool:
        api["ready"] = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code
        clocks = httpx.get(f"http://127.0.0.1:{port}/v1/clocks",
                           params={"subject": "ticket:DEMO-1"}, timeout=1)  # fmt: skip
        if clocks.status_code != 200 or api["ready"] != 200:
            return False
        api["clocks"] = len(clocks.json()["clocks"])
        due = httpx.get(f"http://127.0.0.1:{port}/v1/clocks",
                        params={"due_within": "1h"}, timeout=1).json()["clocks"]  # fmt: skip
        api["due_soon"] = int("ticket:DEMO-1" in {c["subject"] for c in due})
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
        api["metrics"] = int("slawatch_open_clocks" in metrics)
        api["created_series"] = sum("_created" in line for line in metrics.splitlines())
        return True

    poll(api_answers)
    sent = 0.0
    while sent == 0 and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            sent = notifications_sent(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text)
        time.sleep(0.5)
    out, _ = proc.communicate(timeout=120)
    assert sent > 0, out
    assert proc.returncode == 0, out
    assert time.monotonic() - began < 90
    assert api == {"ready": 200, "clocks": 2, "due_soon": 1, "metrics": 1, "created_series": 0}, (
        api,
        out,
    )
    assert "started: goal" in out
    assert "WARNING 0.5" in out
    assert "BREACHED" in out
    assert "stopped, met" in out
    assert "notify step 1 via console to #support: sent" in out
    assert "notify step 2 via console to ann: sent" in out


def test_a_second_run_leaves_the_first_running(port: int) -> None:
    """``make run`` again on the same port stops before touching the first one's store,
    and a standalone pointed at a store in use refuses to start."""
    env = {**os.environ, "SLAWATCH_PORT": str(port)}
    first = start_demo(port, 40)
    try:
        assert poll(
            lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        )
        store = REPO / f"var/standalone-demo-{port}.db"
        assert store.exists()
        again = subprocess.run(
            [str(REPO / "deploy/run-demo.sh")], env=env, capture_output=True, text=True
        )
        assert again.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in again.stderr
        assert "SLAWATCH_PORT=8090 make run" in again.stderr
        other = {**env, "SLAWATCH_PORT": str(free_port()),
                 "SLAWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{store}"}  # fmt: skip
        sharing = subprocess.run(
            [str(REPO / ".venv/bin/slawatch"), "standalone", "--definitions",
             str(REPO / "examples/live-demo.yaml")],
            env=other, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert sharing.returncode == 2
        assert f"is using the store {store}" in sharing.stderr
        assert "Traceback" not in sharing.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        assert store.exists()
    finally:
        first.terminate()
        out, _ = first.communicate(timeout=60)
    assert "partition still unavailable" not in out
    assert "readonly database" not in out

"""Standalone runs the real notifier: acknowledgements stop a chain, and a chain in
progress goes on after a restart on the same store."""

from __future__ import annotations

import html
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from slawatch_notifier.acklinks import ack_url
from tests.standalone.test_restart import created, standalone

DEFINITIONS = """
slas:
  - id: gold
    kind: customer
    escalation: chain
    targets:
      - id: response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 2s, calendar: 24x7}]
escalations:
  chain:
    steps:
      - when: {event: sla.breached}
        notify: [person:lead]
      - after: 6s
        notify: [person:manager]
people:
  lead: {console: lead}
  manager: {console: manager}
channels:
  console: {type: console}
"""


def escalation(base: str, ticket: str, timeout: float = 30) -> dict[str, Any]:
    """The running escalation of ``ticket`` once its first notification was sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for found in httpx.get(f"{base}/v1/escalations", timeout=2).json()["escalations"]:
            sent = [n for n in found["notifications"] if n["status"] == "sent"]
            if found["subject"] == f"ticket:{ticket}" and sent:
                return dict(found)
        time.sleep(0.25)
    raise AssertionError(f"no escalation of {ticket} notified anyone")


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def test_an_acknowledgement_through_the_api_stops_the_chain(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions.yaml"
    definitions.write_text(DEFINITIONS)
    printed: list[str] = []
    with standalone(tmp_path / "s.db", definitions, printed, SLAWATCH_LATENESS="0s") as base:
        assert httpx.post(f"{base}/v1/events", json=[created("T-A", now_text())]).status_code == 200
        found = escalation(base, "T-A")
        for bad in ("ticket:T-A/gold/response/one", "ticket:T-A/gold", "service:api/x/y/soon"):
            refused = httpx.post(f"{base}/v1/escalations/{bad}/ack", json={"by": "lead"})
            assert refused.status_code == 400, (bad, refused.text)
            assert "an escalation id is" in refused.json()["error"]
        other = found["id"].replace("T-A", "T-NOPE")
        unknown = httpx.post(f"{base}/v1/escalations/{other}/ack", json={"by": "lead"})
        assert unknown.status_code == 404, unknown.text
        assert f"no escalation {other} is running" in unknown.json()["error"]
        acked = httpx.post(f"{base}/v1/escalations/{found['id']}/ack", json={"by": "lead"})
        assert acked.status_code == 202, acked.text
        for _ in range(40):
            if not httpx.get(f"{base}/v1/escalations", timeout=2).json()["escalations"]:
                break
            time.sleep(0.25)
        else:
            raise AssertionError("the acknowledged escalation still runs")
        again = httpx.post(f"{base}/v1/escalations/{found['id']}/ack", json={"by": "lead"})
        assert again.status_code == 404, "an escalation already stopped has nothing to stop"
        metrics = httpx.get(f"{base}/metrics", timeout=2).text
        assert "slawatch_escalation_acks_total 1.0" in metrics
        time.sleep(7)
    assert any("notify step 1 via console to lead: sent" in line for line in printed), printed
    assert not any("to manager" in line for line in printed), printed
    assert any("ticket:T-A" in line and "ACKNOWLEDGED by lead" in line for line in printed)


def test_a_chain_in_progress_goes_on_after_a_restart(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions.yaml"
    definitions.write_text(DEFINITIONS)
    store = tmp_path / "s.db"
    first: list[str] = []
    with standalone(store, definitions, first, SLAWATCH_LATENESS="0s") as base:
        assert httpx.post(f"{base}/v1/events", json=[created("T-R", now_text())]).status_code == 200
        escalation(base, "T-R")
    assert not any("to manager" in line for line in first), first
    second: list[str] = []
    with standalone(store, definitions, second, SLAWATCH_LATENESS="0s") as base:
        for _ in range(60):
            lines = httpx.get(f"{base}/metrics", timeout=2).text.splitlines()
            if 'slawatch_notifications_total{channel="console",status="sent"} 1.0' in lines:
                break
            time.sleep(0.25)
        else:
            raise AssertionError("step 2 was never sent after the restart")
    assert any("notify step 2 via console to manager: sent" in line for line in second), second


def test_an_acknowledgement_link_records_who_it_was_sent_to(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions.yaml"
    definitions.write_text(DEFINITIONS)
    store = tmp_path / "s.db"
    env = {"SLAWATCH_LATENESS": "0s", "SLAWATCH_ACK_SECRET": "s3cret"}
    with standalone(store, definitions, None, **env) as base:
        assert httpx.post(f"{base}/v1/events", json=[created("T-L", now_text())]).status_code == 200
        found = escalation(base, "T-L")
        link = ack_url(base, b"s3cret", found["id"], time.time_ns() // 1000 + 10**9, by="lead")
        page = httpx.get(link)
        assert page.status_code == 200 and "<form" in page.text
        forged = httpx.get(link.replace("by=lead", "by=manager"))
        assert forged.status_code == 403
        action = re.search(r'action="([^"]+)"', page.text)
        assert action is not None
        done = httpx.post(base + html.unescape(action.group(1)))
        assert done.status_code == 200 and "Acknowledged" in done.text
        for _ in range(40):
            if not httpx.get(f"{base}/v1/escalations", timeout=2).json()["escalations"]:
                break
            time.sleep(0.25)
        late = httpx.post(base + html.unescape(action.group(1)))
        assert late.status_code == 404 and "Nothing to acknowledge" in late.text
    with sqlite3.connect(store) as db:
        (by,) = db.execute("SELECT by FROM acknowledgements").fetchone()
    assert by == "lead"

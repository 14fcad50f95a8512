"""The notifier as a process on the real broker and database, sending to a real SMTP
server and a real webhook receiver: every notification logged as sent arrives, once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slawatch.settings import Topics
from tests.support.live import Pipeline, Service, decode, pipeline
from tests.support.pipeline import replayed_with_notifications
from tests.support.receivers import SmtpServer, WebhookServer
from tests.support.replaying import versions

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "s3cret"
DEFINITIONS = """
slas:
  - id: gold
    kind: customer
    applies_to: {customer_tier: gold}
    escalation: chain
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 30m, calendar: 24x7}]
        warn_at: [0.5]
escalations:
  chain:
    steps:
      - when: {event: sla.warning}
        notify: [team:desk]
      - when: {event: sla.breached}
        notify: [role:assignee, person:lead]
      - after: 2s
        notify: [person:manager]
people:
  ann: {email: ann@example.com}
  lead: {email: lead@example.com, hook: lead}
  manager: {email: manager@example.com}
teams:
  desk: {hook: desk}
channels:
  email: {type: smtp, host: 127.0.0.1, port: "${TEST_SMTP_PORT}", starttls: false,
          from: slawatch@example.com}
  hook: {type: webhook, url: "${TEST_HOOK_URL}", secret: "${TEST_HOOK_SECRET}"}
"""
VERSIONS = versions((DEFINITIONS, None))


def tickets(count: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    events: list[dict[str, Any]] = []
    for n in range(count):
        t = f"2026-03-02T{8 + n % 10:02d}:{n % 60:02d}:00Z"
        tid = f"N-{seed}-{n}"
        events.append({"id": f"c{seed}-{n}", "type": "ticket.created", "time": t, "source": "t",
                       "ticket": {"id": tid, "status": "open", "customer_tier": "gold",
                                  "assignee": rnd.choice(["ann", "bob"])}})  # fmt: skip
        if rnd.random() < 0.3:
            reply = {
                "id": f"r{seed}-{n}",
                "type": "ticket.commented",
                "source": "t",
                "time": t[:-3] + "30Z",
                "ticket": {"id": tid},
                "comment": {"author_role": "agent", "public": True},
            }
            events.append(reply)
    return events


def raw(events: list[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(str(e["ticket"]["id"]).encode(), orjson.dumps(e)) for e in events]


async def start(
    line: Pipeline, smtp: SmtpServer, hook: WebhookServer, notifiers: int = 1
) -> list[Service]:
    env = {"TEST_SMTP_PORT": str(smtp.port), "TEST_HOOK_URL": hook.url, "TEST_HOOK_SECRET": SECRET,
           "SLAWATCH_NOTIFY_RATE_LIMIT": "1000"}  # fmt: skip
    services = [line.service("ingest"), line.service("evaluator")]
    services += [line.service("notifier", **env) for _ in range(notifiers)]
    for svc in services:
        svc.start()
    for svc in services:
        await svc.ready()
    return services


async def wait_sent(line: Pipeline, expected: int, timeout: float = 120) -> list[dict[str, Any]]:
    rows: list[Any] = []
    for _ in range(int(timeout / 0.5)):
        rows = await line.query(
            "SELECT id, channel, recipient, status, attempts FROM notification_log"
        )
        unpublished = await line.query("SELECT count(*) AS n FROM outbox")
        if (
            len(rows) >= expected
            and all(r["status"] != "pending" for r in rows)
            and unpublished[0]["n"] == 0
        ):
            return [dict(r) for r in rows]
        await asyncio.sleep(0.5)
    logs = "\n".join(f"--- {s.name}\n{s.tail()}" for s in line.services)
    raise AssertionError(f"{len(rows)} of {expected} notifications logged, or some pending\n{logs}")


async def expected(line: Pipeline) -> list[dict[str, Any]]:
    canonical = await line.read_all(Topics.CANONICAL)
    notes = replayed_with_notifications(VERSIONS, canonical, after=60 * 1_000_000)
    return [n for n in notes if n["type"] == "notification"]


def received(smtp: SmtpServer, hook: WebhookServer) -> Counter[str]:
    ids: Counter[str] = Counter()
    for message_id in smtp.box.message_ids():
        ids[message_id.strip("<>").split("@")[0]] += 1
    for request in hook.inbox.requests:
        body, headers = request["body"], request["headers"]
        stamp = headers["x-slawatch-timestamp"]
        digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["x-slawatch-signature"] == f"sha256={digest}", (
            request["path"],
            headers,
            body,
        )
        ids[headers["x-slawatch-notification-id"]] += 1
    return ids


def notifications_counted(notifier: Service) -> dict[tuple[str, str], float]:
    """``slawatch_notifications_total`` as the notifier's ``/metrics`` serves it."""
    text = httpx.get(f"http://127.0.0.1:{notifier.port}/metrics", timeout=5).text
    return {
        (sample.labels["channel"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "slawatch_notifications_total"
    }


async def test_every_notification_logged_as_sent_arrives_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp, WebhookServer() as hook:
        async with pipeline(tmp_path, DEFINITIONS) as line:
            notifier = (await start(line, smtp, hook))[-1]
            await line.produce(Topics.TICKETS, raw(tickets(12, seed=1)))
            await line.wait_evaluated()
            want = await expected(line)
            rows = await wait_sent(line, len(want))
            logged = Counter((r["channel"] or "none", r["status"]) for r in rows)
            assert logged[("none", "failed")] > 0  # bob is no one's address
            assert notifications_counted(notifier) == {
                **dict.fromkeys([(c, s) for c in ("email", "hook") for s in
                                 ("sent", "failed", "suppressed")] + [("none", "failed")], 0),
                **logged,
            }  # fmt: skip
            assert {r["id"] for r in rows} == {n["id"] for n in want}
            sent = {r["id"] for r in rows if r["status"] == "sent"}
            assert sent == {n["id"] for n in want if n["status"] == "simulated"}
            got = received(smtp, hook)
            assert set(got) == sent
            assert max(got.values()) == 1
            records = decode(await line.read_all(Topics.NOTIFICATIONS))
            assert {r["id"] for r in records if r["status"] == "sent"} == sent


KILLS = int(os.environ.get("SLAWATCH_CHAOS_KILLS", "5"))


async def test_notifier_killed_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    """``kill -9`` while chains run (5 times; ``make chaos`` does 50)."""
    rnd = random.Random(3)
    with SmtpServer() as smtp, WebhookServer() as hook:
        async with pipeline(tmp_path, DEFINITIONS) as line:
            services = await start(line, smtp, hook)
            notifier = services[-1]
            for chunk in range(KILLS):
                await line.produce(Topics.TICKETS, raw(tickets(6, seed=10 + chunk)))
                await asyncio.sleep(rnd.uniform(0.3, 1.5))
                notifier.kill()
                notifier.start()
            await notifier.ready()
            await line.wait_evaluated()
            want = await expected(line)
            rows = await wait_sent(line, len(want), timeout=180)
            sent = {r["id"] for r in rows if r["status"] == "sent"}
            assert sent == {n["id"] for n in want if n["status"] == "simulated"}
            got = received(smtp, hook)
            assert set(got) == sent
            repeats = sum(n - 1 for n in got.values())
            print(f"{KILLS} kills: {repeats} notifications delivered twice (same message id)")


async def test_two_notifier_replicas_never_send_a_step_twice(tmp_path: Path) -> None:
    with SmtpServer() as smtp, WebhookServer() as hook:
        async with pipeline(tmp_path, DEFINITIONS) as line:
            await start(line, smtp, hook, notifiers=2)
            await line.produce(Topics.TICKETS, raw(tickets(20, seed=4)))
            await line.wait_evaluated()
            want = await expected(line)
            rows = await wait_sent(line, len(want))
            senders = {
                r["sent_by"]
                for r in await line.query(
                    "SELECT sent_by FROM notification_log WHERE status = 'sent'"
                )
            }
            assert len(senders) == 2
            got = received(smtp, hook)
            assert set(got) == {r["id"] for r in rows if r["status"] == "sent"}
            assert max(got.values()) == 1


async def test_smtp_down_then_up_delivers_late_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp, WebhookServer() as hook:
        smtp.box.refuse = True
        async with pipeline(tmp_path, DEFINITIONS) as line:
            await start(line, smtp, hook)
            await line.produce(Topics.TICKETS, raw(tickets(3, seed=5)))
            await line.wait_evaluated()
            await asyncio.sleep(4)
            smtp.box.refuse = False
            want = await expected(line)
            rows = await wait_sent(line, len(want), timeout=120)
            email_rows = [r for r in rows if r["channel"] == "email"]
            assert email_rows and all(r["status"] == "sent" for r in email_rows)
            assert any(r["attempts"] > 1 for r in email_rows)
            got = received(smtp, hook)
            assert all(got[r["id"]] == 1 for r in email_rows)


async def test_acknowledging_through_the_api_stops_the_chain(tmp_path: Path) -> None:
    slow = DEFINITIONS.replace("after: 2s", "after: 8s")
    with SmtpServer() as smtp, WebhookServer() as hook:
        async with pipeline(tmp_path, slow) as line:
            services = await start(line, smtp, hook)
            notifier = services[-1]
            two = [
                {"id": f"c-{n}", "type": "ticket.created", "time": "2026-03-02T09:00:00Z",
                 "source": "t", "ticket": {"id": f"A-{n}", "status": "open",
                                           "customer_tier": "gold", "assignee": "ann"}}
                for n in (1, 2)
            ]  # fmt: skip
            await line.produce(Topics.TICKETS, raw(two))
            await line.wait_evaluated()
            base = f"http://127.0.0.1:{notifier.port}"
            async with httpx.AsyncClient(timeout=10) as client:
                running: list[dict[str, Any]] = []
                for _ in range(60):
                    running = (await client.get(f"{base}/v1/escalations")).json()["escalations"]
                    if len(running) == 2 and all(e["due"] for e in running):
                        break
                    await asyncio.sleep(0.25)
                assert sorted(e["subject"] for e in running) == ["ticket:A-1", "ticket:A-2"]
                first = next(e for e in running if e["subject"] == "ticket:A-1")
                assert [d["step"] for d in first["due"]] == [3]
                assert {n["recipient"] for n in first["notifications"]} >= {"ann@example.com"}
                answer = await client.post(f"{base}/v1/escalations/{first['id']}/ack",
                                           json={"by": "person:lead", "note": "on it"})  # fmt: skip
                assert answer.status_code == 202
            await asyncio.sleep(12)
            rows = await line.query("SELECT subject, step, status FROM notification_log")
            steps = {(r["subject"], r["step"]) for r in rows}
            assert ("ticket:A-2", 3) in steps
            assert ("ticket:A-1", 3) not in steps
            acks = await line.query("SELECT subject, by, note FROM acknowledgements")
            assert [(a["subject"], a["by"], a["note"]) for a in acks] == [
                ("ticket:A-1", "person:lead", "on it")
            ]


REASSIGNED = """
slas:
  - id: gold
    kind: customer
    escalation: chain
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 30m, calendar: 24x7}]
escalations:
  chain:
    steps:
      - when: {event: sla.breached}
        notify: [role:assignee]
      - after: 10s
        notify: [role:assignee]
people:
  ann: {email: ann@example.com}
  bob: {email: bob@example.com}
channels:
  email: {type: smtp, host: 127.0.0.1, port: "${TEST_SMTP_PORT}", starttls: false,
          from: slawatch@example.com}
"""


def recipients(smtp: SmtpServer) -> list[str]:
    return smtp.box.recipients()


async def test_role_assignee_follows_a_reassignment_that_made_no_sla_event(
    tmp_path: Path,
) -> None:
    """Rule 29: ``role:assignee`` resolves the ticket as it is when the step fires."""
    created = {
        "id": "c1",
        "type": "ticket.created",
        "time": "2026-03-02T08:00:00Z",
        "source": "t",
        "ticket": {"id": "R-1", "status": "open", "assignee": "ann"},
    }
    reassigned = {"id": "u1", "type": "ticket.updated", "time": "2026-03-02T09:00:00Z",
                  "source": "t", "ticket": {"id": "R-1", "assignee": "bob"}}  # fmt: skip
    with SmtpServer() as smtp, WebhookServer() as hook:
        async with pipeline(tmp_path, REASSIGNED) as line:
            await start(line, smtp, hook)
            await line.produce(Topics.TICKETS, raw([created]))
            for _ in range(120):
                if recipients(smtp):
                    break
                await asyncio.sleep(0.1)
            assert recipients(smtp) == ["ann@example.com"]
            await line.produce(Topics.TICKETS, raw([reassigned]))
            for _ in range(300):
                if len(recipients(smtp)) == 2:
                    break
                await asyncio.sleep(0.1)
    assert recipients(smtp) == ["ann@example.com", "bob@example.com"]

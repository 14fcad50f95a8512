"""Metrics and alert rules on a real Prometheus (Debian's package, from deploy/prometheus)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from tests.evaluator.test_availability_metrics import UPTIME
from tests.support.live import REPO, decode, free_port, pipeline
from tests.support.streams import DESK, tickets

from slawatch.settings import Topics
from slawatch.timeutil import format_time, from_datetime

HERE = Path(__file__).parent
PROM = REPO / "deploy/prometheus"
RULES = PROM / "rules/slawatch.rules.yml"
RULE_TESTS = sorted(HERE.glob("*.test.yml"))
DASHBOARD = REPO / "deploy/grafana/slawatch.json"
OPERATIONS = REPO / "docs/operations.md"
SEVERITIES = {"page", "ticket"}
RUNBOOKS = "https://github.com/slawatch/slawatch/blob/main/docs/operations.md#"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run deploy/prometheus/install.sh (make test does)")
    return found


def run_promtool(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [promtool(), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def dashboard_queries() -> list[str]:
    """Every query of the Grafana dashboard, its variables as "All" and the rate window."""
    board = orjson.loads(DASHBOARD.read_bytes())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", ())]
    return [e.replace("$sla", ".*").replace("$__rate_interval", "5m") for e in exprs]


def rule_tests() -> list[dict[str, Any]]:
    return [case for path in RULE_TESTS for case in yaml.safe_load(path.read_text())["tests"]]


@pytest.mark.prometheus
def test_alert_rules_are_valid_and_fire_as_specified() -> None:
    assert "SUCCESS" in run_promtool("check", "rules", "--lint=all", "--lint-fatal", RULES)
    unit = run_promtool("test", "rules", *(p.name for p in RULE_TESTS), cwd=HERE)
    assert unit.count("SUCCESS") == len(RULE_TESTS), unit


@pytest.mark.prometheus
@pytest.mark.parametrize("config", ["slawatch.yml", "prometheus.yml"])
def test_shipped_prometheus_configs_are_valid(config: str) -> None:
    assert "SUCCESS" in run_promtool("check", "config", "--lint=all", PROM / config)


def test_the_operator_config_loads_the_rules_and_scrapes_every_service() -> None:
    config = yaml.safe_load((PROM / "slawatch.yml").read_text())
    assert config["rule_files"] == ["rules/slawatch.rules.yml"]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {f"slawatch-{s}" for s in ("ingest", "evaluator", "notifier")}
    assert "# - job_name: slawatch-standalone" in (PROM / "slawatch.yml").read_text()


def test_every_rule_has_a_case_that_fires_and_one_that_does_not() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    recorded: set[str] = set()
    for case in rule_tests():
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
        for check in case.get("promql_expr_test", []):
            if check.get("exp_samples"):
                recorded.add(re.split(r"[{\[ ]", check["expr"])[0])
    names = [rule["alert"] for rule in alerts()]
    records = [rule["record"] for rule in rules() if "record" in rule]
    assert len(set(names)) == len(names) and len(set(records)) == len(records)
    assert [n for n in names if n not in fired] == []
    assert [n for n in names if n not in quiet] == []
    assert [r for r in records if r not in recorded] == []


def test_every_alert_is_routable_and_documented() -> None:
    docs = OPERATIONS.read_text()
    anchors = {
        re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in docs.splitlines()
        if line.startswith("#")
    }
    for rule in alerts():
        name = rule["alert"]
        severity = rule["labels"]["severity"]
        assert severity in SEVERITIES, name
        assert rule["annotations"]["summary"], name
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(RUNBOOKS) and url.removeprefix(RUNBOOKS) in anchors, name
        assert re.search(rf"^\| `{name}` \| {severity} \|", docs, re.MULTILINE), name


async def query(client: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    r = await client.get(f"{base}/api/v1/query", params={"query": expr})
    r.raise_for_status()
    return list(r.json()["data"]["result"])


def test_the_dashboard_reads_only_metrics_and_rules_slawatch_has() -> None:
    from tests.observability.test_metrics_doc import documented

    names = set(documented()) | {r["record"] for r in rules() if "record" in r}
    for expr in dashboard_queries():
        for name in re.findall(r"\bslawatch_[a-z0-9_:]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in names or base in names, (name, expr)


@pytest.mark.prometheus
@pytest.mark.kafka
@pytest.mark.postgres
async def test_prometheus_scrapes_the_evaluator_and_loads_the_rules(tmp_path: Path) -> None:
    async with pipeline(tmp_path, DESK + UPTIME + "    stale_after: 1h\n") as line:
        ingest, evaluator = line.service("ingest"), line.service("evaluator")
        for svc in (ingest, evaluator):
            svc.start()
        for svc in (ingest, evaluator):
            await svc.ready()
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: [{RULES}]\n"
            "scrape_configs:\n"
            "  - job_name: slawatch-evaluator\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{evaluator.port}']}}]\n"
            "  - job_name: slawatch-ingest\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{ingest.port}']}}]\n"
        )
        env = {**os.environ, "SLAWATCH_PROM_DIR": str(tmp_path / "prom")}
        subprocess.run([REPO / "deploy/prometheus/start.sh", config, tmp_path / "prom" / "data",
                        str(port)], check=True, env=env)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                for _ in range(30):
                    if len(await query(client, base, 'up{job=~"slawatch-.*"} == 1')) == 2:
                        break
                    await asyncio.sleep(0.5)
                events = tickets(40, seed=21)
                records = [(str(e["ticket"]["id"]).encode(), orjson.dumps(e)) for e in events]
                await line.produce(Topics.TICKETS, [*records, (b"x", b"not json")])
                up = {"id": "u-1", "type": "uptime.status", "service": "api", "status": "up",
                      "time": format_time(from_datetime(datetime.now(UTC)))}  # fmt: skip
                await line.produce(Topics.UPTIME, [(b"api", orjson.dumps(up))])
                await line.wait_evaluated()
                outputs = decode(await line.read_all(Topics.SLA_EVENTS))
                breaches = sum(1 for o in outputs if o["type"] == "sla.breached")

                def value(result: list[dict[str, Any]]) -> float | None:
                    return float(result[0]["value"][1]) if result else None

                for _ in range(60):
                    found = await query(client, base, "sum(slawatch_sla_breaches_total)")
                    dead = await query(client, base, "sum(slawatch_ingest_deadletters_total)")
                    if value(found) == breaches and value(dead) == 1:
                        break
                    await asyncio.sleep(1)
                assert found and float(found[0]["value"][1]) == breaches  # type: ignore[index]
                assert float(dead[0]["value"][1]) == 1  # type: ignore[index]
                scraped = await query(client, base, 'up{job=~"slawatch-.*"}')
                assert sorted(float(u["value"][1]) for u in scraped) == [1.0, 1.0]  # type: ignore[index]
                measured = 'slawatch_availability_status{sla="api-uptime"} == 1'
                for _ in range(30):
                    status = await query(client, base, measured)
                    if status:
                        break
                    await asyncio.sleep(1)
                assert [s["metric"]["status"] for s in status] == ["up"]
                info = await query(client, base, 'slawatch_sla_info{service="api"}')
                assert [(i["metric"]["sla"], i["metric"]["window"]) for i in info] == [
                    ("api-uptime", "month")
                ]
                groups = (await client.get(f"{base}/api/v1/rules")).json()["data"]["groups"]
                health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
                assert set(health) == {r.get("alert", r.get("record")) for r in rules()}
                assert set(health.values()) == {"ok"}, health
                expected = {"SlaBreached", "SlawatchIngestDeadLetters"}
                for _ in range(30):
                    alerts = (await client.get(f"{base}/api/v1/alerts")).json()["data"]["alerts"]
                    # the objective is unmeasured (pending) until its status is scraped
                    active = {a["labels"]["alertname"] for a in alerts}
                    if expected <= active and "SlaAvailabilityNotMeasured" not in active:
                        break
                    await asyncio.sleep(1)
                firing = [a for a in alerts if a["labels"]["alertname"] == "SlaBreached"]
                assert {a["labels"]["sla"] for a in firing} == {"gold", "l2"}
                assert all(a["state"] == "firing" for a in firing)
                names = [(a["labels"]["alertname"], a["labels"].get("reason")) for a in alerts]
                assert ("SlawatchIngestDeadLetters", "not_json") in names
                # 40 tickets make many breaches (SlaBreachRateHigh and SlaBreachRatioHigh,
                # pending), and no notifier runs here (SlawatchNotifierMetricsAbsent,
                # pending), but a healthy pipeline raises nothing else: no stall, no absent
                # evaluator, no burn
                tolerated = {
                    "SlaBreachRateHigh",
                    "SlaBreachRatioHigh",
                    "SlawatchNotifierMetricsAbsent",
                }
                raised = {a["labels"]["alertname"] for a in alerts} - tolerated
                assert raised == expected, alerts
                for expr in dashboard_queries():
                    answer = await client.get(f"{base}/api/v1/query", params={"query": expr})
                    assert answer.json()["status"] == "success", (expr, answer.text)
                opened = await query(client, base, dashboard_queries()[2])
                assert opened, "the dashboard's open clocks panel shows nothing"
        finally:
            subprocess.run([REPO / "deploy/prometheus/stop.sh"], check=False, env=env)

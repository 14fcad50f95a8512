"""Metrics and alert rules on a real Prometheus (Debian's package, from deploy/prometheus)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.support.live import REPO, decode, free_port, pipeline
from tests.support.streams import DESK, tickets

from slawatch.settings import Topics

HERE = Path(__file__).parent
RULES = REPO / "deploy/prometheus/rules/slawatch.rules.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run deploy/prometheus/install.sh (make test does)")
    return found


@pytest.mark.prometheus
def test_alert_rules_are_valid_and_fire_as_specified() -> None:
    check = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run(
        [promtool(), "test", "rules", "slawatch.rules.test.yml"],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "SUCCESS" in unit.stdout


async def query(client: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    r = await client.get(f"{base}/api/v1/query", params={"query": expr})
    r.raise_for_status()
    return list(r.json()["data"]["result"])


@pytest.mark.prometheus
@pytest.mark.kafka
@pytest.mark.postgres
async def test_prometheus_scrapes_the_evaluator_and_loads_the_rules(tmp_path: Path) -> None:
    async with pipeline(tmp_path, DESK) as line:
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
                up = await query(client, base, 'up{job=~"slawatch-.*"}')
                assert sorted(float(u["value"][1]) for u in up) == [1.0, 1.0]  # type: ignore[index]
                rules = (await client.get(f"{base}/api/v1/rules")).json()["data"]["groups"]
                names = {r["name"]: r["health"] for g in rules for r in g["rules"]}
                assert "SlawatchTimersOverdue" in names and "SlaBreached" in names
                assert set(names.values()) == {"ok"}, names
                for _ in range(30):
                    alerts = (await client.get(f"{base}/api/v1/alerts")).json()["data"]["alerts"]
                    if any(a["labels"]["alertname"] == "SlaBreached" for a in alerts):
                        break
                    await asyncio.sleep(1)
                firing = [a for a in alerts if a["labels"]["alertname"] == "SlaBreached"]
                assert {a["labels"]["sla"] for a in firing} == {"gold", "l2"}
                assert all(a["state"] == "firing" for a in firing)
        finally:
            subprocess.run([REPO / "deploy/prometheus/stop.sh"], check=False, env=env)

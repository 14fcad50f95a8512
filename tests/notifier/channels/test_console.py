"""The console channel writes one line per message."""

from __future__ import annotations

import io

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch_notifier.channels import build_channels
from tests.notifier.channels.making import ACK, message, notification


async def test_one_line_per_message(settings: Settings) -> None:
    out = io.StringIO()
    definition = ChannelDefinition(id="console", type="console")
    channel = build_channels({"console": definition}, {}, settings=settings, stream=out)["console"]
    record = notification(channel="console", recipient="ops")
    await channel.send(message("console", record=record))
    await channel.send(message("console", record=record, ack_url=None))
    await channel.close()
    first, second = out.getvalue().splitlines()
    assert first.startswith("2026-03-02 17:40:00 NOTIFY console -> ops: [slawatch] SLA breached")
    assert f"[{record['id']}]" in first and first.endswith(f"ack: {ACK}")
    assert "ack:" not in second

"""The console channel: one line per message on a stream, for ``make run`` and trials.

Settings (``type: console``): ``stream``, ``stdout`` (the default) or ``stderr``; the
stream :func:`~slawatch_notifier.channels.base.build_channels` is given replaces both.
A line reads ``<time> NOTIFY <channel> -> <recipient>: <subject> [<notification id>]``,
with the acknowledgement link appended when there is one. Writing never fails a send.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TextIO

from slawatch_notifier.channels.base import ChannelType
from slawatch_notifier.channels.config import BuildContext, SettingsReader
from slawatch_notifier.messages import Message

__all__ = ["ConsoleChannel", "Stream", "build", "console_line"]


class Stream(StrEnum):
    """The ``stream`` setting."""

    STDOUT = "stdout"
    STDERR = "stderr"


def console_line(message: Message) -> str:
    """The line written for one message, without the newline."""
    when = str(message.record.get("time") or "-").replace("T", " ").replace("Z", "")[:19]
    line = (
        f"{when} NOTIFY {message.channel} -> {message.recipient}: {message.subject}"
        f" [{message.notification_id}]"
    )
    if message.ack_url:
        line += f" ack: {message.ack_url}"
    return " ".join(line.split())


class ConsoleChannel:
    """Writes each message as one line; ``stream=None`` is standard output when writing."""

    type = ChannelType.CONSOLE.value

    def __init__(self, name: str, stream: TextIO | None = None, *, stderr: bool = False) -> None:
        self.name = name
        self._stream = stream
        self._stderr = stderr

    async def send(self, message: Message) -> None:
        """Write the line and flush."""
        out = self._stream or (sys.stderr if self._stderr else sys.stdout)
        out.write(console_line(message) + "\n")
        out.flush()

    async def close(self) -> None:
        """Nothing to release; the stream is not closed."""


def build(
    name: str, kind: ChannelType, read: SettingsReader, context: BuildContext
) -> ConsoleChannel:
    """A console channel from its settings; problems go to the reader."""
    chosen = read.text("stream", default=Stream.STDOUT.value)
    if chosen not in tuple(Stream):
        read.problem("stream", "must be stdout or stderr")
    return ConsoleChannel(name, context.stream, stderr=chosen == Stream.STDERR.value)

"""Delivery channels of the notifier: smtp, slack, teams, mattermost, webhook and console.

- :mod:`~slawatch_notifier.channels.base`: the :class:`Channel` port,
  :class:`ChannelError` and :func:`build_channels` (the exception tree is drawn there);
- :mod:`~slawatch_notifier.channels.config`: ``${VAR}`` expansion and typed settings;
- :mod:`~slawatch_notifier.channels.smtp`: email (aiosmtplib);
- :mod:`~slawatch_notifier.channels.http`: the JSON POST and its failure classes;
- :mod:`~slawatch_notifier.channels.chat`: Slack, Teams and Mattermost webhooks;
- :mod:`~slawatch_notifier.channels.webhook`: the signed generic webhook;
- :mod:`~slawatch_notifier.channels.console`: one line per message on a stream;
- :mod:`~slawatch_notifier.channels.retry`: backoff and :func:`deliver`.
"""

from slawatch_notifier.channels.base import (
    Channel,
    ChannelError,
    ChannelSettingsError,
    ChannelType,
    FailureReason,
    build_channels,
)
from slawatch_notifier.channels.retry import Delivery, RetryPolicy, deliver

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelSettingsError",
    "ChannelType",
    "Delivery",
    "FailureReason",
    "RetryPolicy",
    "build_channels",
    "deliver",
]

"""build_channels: ${VAR} expansion from the environment given, typed settings, and one
error that lists every problem of every channel."""

from __future__ import annotations

from typing import Any

import pytest

from slawatch.definitions import load_definitions
from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.errors import ConfigurationError
from slawatch.settings import Settings
from slawatch_notifier.channels import ChannelSettingsError, build_channels
from slawatch_notifier.channels.smtp import SmtpChannel


def define(**channels: dict[str, Any]) -> dict[str, ChannelDefinition]:
    out = {}
    for name, values in channels.items():
        kind = values.pop("type")
        out[name] = ChannelDefinition(id=name, type=kind, settings=tuple(values.items()))
    return out


def problems(
    settings: Settings, environ: dict[str, str] | None = None, **channels: Any
) -> list[str]:
    with pytest.raises(ChannelSettingsError) as caught:
        build_channels(define(**channels), environ or {}, settings=settings)
    assert isinstance(caught.value, ConfigurationError)
    return caught.value.problems


def test_the_example_channels_build_with_their_variables(settings: Settings) -> None:
    environ = {
        "SMTP_HOST": "mail.example.com",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x",
        "SMTP_PORT": "2525",
    }
    channels = build_channels(
        define(
            email={
                "type": "smtp",
                "host": "${SMTP_HOST}",
                "port": "${SMTP_PORT}",
                "starttls": True,
                "from": "slawatch@example.com",
            },
            chat={"type": "slack", "webhook_url": "${SLACK_WEBHOOK_URL}"},
            console={"type": "console"},
        ),
        environ,
        settings=settings,
    )
    assert {n: (c.name, c.type) for n, c in channels.items()} == {
        "email": ("email", "smtp"),
        "chat": ("chat", "slack"),
        "console": ("console", "console"),
    }
    email = channels["email"]
    assert isinstance(email, SmtpChannel)
    assert (email.config.host, email.config.port, email.config.starttls) == (
        "mail.example.com",
        2525,
        True,
    )
    assert "hooks.slack.com/x" not in repr(channels["chat"])


def test_ports_default_by_tls_mode(settings: Settings) -> None:
    def port(**values: Any) -> int:
        channel = build_channels(
            define(e={"type": "smtp", "host": "h", "from": "a@b.c", **values}),
            {},
            settings=settings,
        )["e"]
        assert isinstance(channel, SmtpChannel)
        return channel.config.port

    assert port() == 587
    assert port(ssl=True) == 465
    assert port(use_tls="yes") == 465
    assert port(starttls=False) == 25


def test_every_unset_variable_and_bad_setting_is_listed(settings: Settings) -> None:
    found = problems(
        settings,
        {"SET": "x"},
        email={
            "type": "smtp",
            "host": "${SMTP_HOST}",
            "from": "${SET}@${MAIL_DOMAIN}",
            "port": 70000,
            "starttls": "maybe",
            "usename": "u",
            "password": "${SMTP_PASSWORD}",
        },
        chat={"type": "mattermost", "webhook_url": "${MM_URL}", "timeout": -1},
        other={"type": "pager"},
    )
    text = "\n".join(found)
    for expected in (
        "channels.email.host: environment variable SMTP_HOST is not set",
        "channels.email.from: environment variable MAIL_DOMAIN is not set",
        "channels.email.password: environment variable SMTP_PASSWORD is not set",
        "channels.email.port: must be a whole number from 1 to 65535, not 70000",
        "channels.email.starttls: must be true or false, not 'maybe'",
        "channels.email.usename: unknown setting (did you mean 'username'?)",
        "channels.chat.webhook_url: environment variable MM_URL is not set",
        "channels.chat.timeout: must be a positive number of seconds",
        "channels.other.type: unknown type 'pager'",
    ):
        assert expected in text, (expected, text)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"type": "smtp", "from": "a@b.c"}, "channels.c.host: is required"),
        ({"type": "smtp", "host": " ", "from": "a@b.c"}, "channels.c.host: is empty"),
        ({"type": "smtp", "host": "h", "from": "nobody"}, "channels.c.from: must be an email"),
        ({"type": "smtp", "host": "h", "from": "a@b.c", "username": "u"}, "go together"),
        (
            {"type": "smtp", "host": "h", "from": "a@b.c", "ssl": True, "starttls": True},
            "cannot be used with ssl",
        ),
        (
            {"type": "smtp", "host": "h", "from": "a@b.c", "ca_file": "/nonexistent.pem"},
            "no such file",
        ),
        ({"type": "slack"}, "channels.c.webhook_url: is required"),
        ({"type": "teams", "webhook_url": "not a url"}, "http:// or https://"),
        ({"type": "slack", "webhook_url": "https://h/x", "verify": 2}, "true or false"),
        ({"type": "console", "stream": "printer"}, "stdout or stderr"),
        ({"type": "webhook", "url": "https://h/x"}, "channels.c.secret: is required"),
        (
            {"type": "webhook", "url": "https://h/x", "secret": "${EMPTY}"},
            "channels.c.secret: is empty",
        ),
    ],
)
def test_bad_settings(settings: Settings, values: dict[str, Any], expected: str) -> None:
    found = problems(settings, {"EMPTY": ""}, c=values)
    assert any(expected in p for p in found), found


def test_secrets_are_never_quoted(settings: Settings) -> None:
    found = problems(
        settings,
        email={"type": "smtp", "host": "h", "from": "a@b.c", "password": True, "username": "u"},
        hook={
            "type": "webhook",
            "url": "https://h/x",
            "secret": "hunter2",
            "header_X": True,
            "timeout": "hunter3",
        },
    )
    text = "\n".join(found)
    assert "hunter2" not in text and "hunter3" in text
    assert "channels.email.password: must be a string" in text


def test_null_is_absent(settings: Settings) -> None:
    channels = build_channels(
        define(e={"type": "smtp", "host": "h", "from": "a@b.c", "port": None, "username": None}),
        {},
        settings=settings,
    )
    email = channels["e"]
    assert isinstance(email, SmtpChannel) and email.config.port == 587


def test_a_variable_in_a_person_or_team_address_must_be_set(settings: Settings) -> None:
    directory = load_definitions(
        'people: {oncall: {email: "${ONCALL_EMAIL}"}}\n'
        'teams: {sre: {email: "sre@${MAIL_DOMAIN}"}}\n'
        "channels: {email: {type: smtp, host: h, from: a@b.c}}\n"
    )
    with pytest.raises(ChannelSettingsError) as refused:
        build_channels(directory.channels, {}, settings=settings, directory=directory)
    assert refused.value.problems == [
        "people.oncall.email: environment variable ONCALL_EMAIL is not set",
        "teams.sre.email: environment variable MAIL_DOMAIN is not set",
    ]
    environ = {"ONCALL_EMAIL": "oncall@example.com", "MAIL_DOMAIN": "example.com"}
    assert build_channels(directory.channels, environ, settings=settings, directory=directory)

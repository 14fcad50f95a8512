"""Acknowledgement links: a token verifies for its escalation until it expires, and any
change to the escalation, the expiry, the MAC or the secret is rejected."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slawatch_notifier.acklinks import ack_url, sign_ack, verify_ack

SECRET = b"ack-secret"
ESCALATION = "ticket:T-1/gold-support/time_to_resolution/1"
EXPIRES = 1_772_557_200_000_000


def test_a_token_verifies_until_it_expires() -> None:
    token = sign_ack(SECRET, ESCALATION, EXPIRES)
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", token)
    assert verify_ack(SECRET, ESCALATION, token, EXPIRES - 1)
    assert not verify_ack(SECRET, ESCALATION, token, EXPIRES)
    assert not verify_ack(SECRET, ESCALATION, token, EXPIRES + 1)


def test_a_token_for_a_recipient_names_them_and_no_one_else() -> None:
    token = sign_ack(SECRET, ESCALATION, EXPIRES, by="lead@example.com")
    assert verify_ack(SECRET, ESCALATION, token, 0, by="lead@example.com")
    assert not verify_ack(SECRET, ESCALATION, token, 0, by="intruder@example.com")
    assert not verify_ack(SECRET, ESCALATION, token, 0)
    url = ack_url("https://n.example", SECRET, ESCALATION, EXPIRES, by="lead@example.com")
    assert parse_qs(urlsplit(url).query)["by"] == ["lead@example.com"]


def test_tampering_is_rejected() -> None:
    token = sign_ack(SECRET, ESCALATION, EXPIRES)
    stamp, mac = token.split(".")
    later = f"{EXPIRES + 10**9}.{mac}"
    flipped = f"{stamp}.{('A' if mac[0] != 'A' else 'B')}{mac[1:]}"
    assert not verify_ack(SECRET, ESCALATION, later, 0)
    assert not verify_ack(SECRET, ESCALATION, flipped, 0)
    assert not verify_ack(SECRET, ESCALATION.replace("/1", "/2"), token, 0)
    assert not verify_ack(b"another secret", ESCALATION, token, 0)
    assert not verify_ack(b"", ESCALATION, token, 0)


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "1.",
        f"{EXPIRES}",
        f"-1.{'A' * 43}",
        f"+5.{'A' * 43}",
        f"05.{'A' * 43}",
        f"٣.{'A' * 43}",
        f"{EXPIRES}.{'é' * 43}",
        f"{EXPIRES}.{'A' * 44}",
    ],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    assert not verify_ack(SECRET, ESCALATION, token, 0)


@given(escalation=st.text(min_size=1, max_size=80), expires=st.integers(0, 2**63))
def test_a_token_round_trips_for_any_escalation(escalation: str, expires: int) -> None:
    """sign, then verify before the expiry accepts and at the expiry rejects, for any id."""
    token = sign_ack(SECRET, escalation, expires)
    assert verify_ack(SECRET, escalation, token, expires - 1)
    assert not verify_ack(SECRET, escalation, token, expires)


def test_ack_url() -> None:
    url = ack_url("https://slawatch.example/", SECRET, ESCALATION, EXPIRES)
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "slawatch.example"
    assert parts.path == f"/v1/escalations/{ESCALATION}/ack"
    (token,) = parse_qs(parts.query)["token"]
    assert verify_ack(SECRET, ESCALATION, token, EXPIRES - 1)
    odd = ack_url("https://x", SECRET, "ticket:T 1?#/a", EXPIRES)
    path = urlsplit(odd).path
    assert "?" not in path and " " not in path
    assert unquote(path) == "/v1/escalations/ticket:T 1?#/a/ack"


def test_an_empty_secret_cannot_sign() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        sign_ack(b"", ESCALATION, EXPIRES)
    with pytest.raises(ValueError, match="must not be negative"):
        sign_ack(SECRET, ESCALATION, -1)

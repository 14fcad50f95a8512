"""Signed, expiring acknowledgement links: whoever holds one may acknowledge one escalation.

A token is ``<expires_at>.<mac>``: the expiry as a decimal integer, and the unpadded
URL-safe base64 of HMAC-SHA256, keyed with the secret, over
``slawatch-ack|<escalation id>|<expires_at>``, followed by ``|<by>`` when the link
names who it was sent to (``by``, the recipient's address, recorded as who
acknowledged). The token binds the escalation, the expiry and ``by``, so none can be
changed without the secret; :func:`verify_ack` recomputes
the MAC and compares in constant time, and rejects a token at or after its expiry,
malformed, or made for another escalation or with another secret. ``expires_at`` and
``now`` are integers in one unit of your choosing (the notifier uses microseconds,
like every instant in slawatch); nothing here reads a clock.

:func:`ack_url` puts the token in ``{base}/v1/escalations/{id}/ack?token=...&by=...``;
the id is percent-encoded except for ``/`` and ``:`` (escalation ids look like
``ticket:T-1/gold-support/time_to_resolution/1``).

Errors::

    ValueError    sign_ack or ack_url with an empty secret or a negative expiry
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

__all__ = ["ack_url", "sign_ack", "verify_ack"]

_DOMAIN = b"slawatch-ack"
_MAC_CHARS = 43


def _mac(secret: bytes, escalation_id: str, expires_at: int, by: str = "") -> str:
    parts = [_DOMAIN, escalation_id.encode(), str(expires_at).encode()]
    if by:
        parts.append(by.encode())
    signed = b"|".join(parts)
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_ack(secret: bytes, escalation_id: str, expires_at: int, by: str = "") -> str:
    """A URL-safe token acknowledging ``escalation_id`` until ``expires_at``, as ``by``."""
    if not secret:
        raise ValueError("an acknowledgement secret must not be empty")
    if expires_at < 0:
        raise ValueError(f"expires_at must not be negative, not {expires_at}")
    return f"{expires_at}.{_mac(secret, escalation_id, expires_at, by)}"


def ack_url(base_url: str, secret: bytes, escalation_id: str, expires_at: int, by: str = "") -> str:
    """``{base}/v1/escalations/{id}/ack?token=...`` (and ``&by=...`` when given)."""
    token = sign_ack(secret, escalation_id, expires_at, by)
    path = quote(escalation_id, safe="/:")
    url = f"{base_url.rstrip('/')}/v1/escalations/{path}/ack?token={token}"
    return f"{url}&{urlencode({'by': by})}" if by else url


def verify_ack(secret: bytes, escalation_id: str, token: str, now: int, by: str = "") -> bool:
    """Whether ``token`` acknowledges ``escalation_id`` as ``by`` at ``now``; never raises."""
    if not secret or not isinstance(token, str):
        return False
    stamp, dot, mac = token.partition(".")
    if not dot or not stamp.isascii() or not stamp.isdigit() or len(mac) != _MAC_CHARS:
        return False
    expires_at = int(stamp)
    if str(expires_at) != stamp:
        return False
    expected = _mac(secret, escalation_id, expires_at, by)
    if not hmac.compare_digest(expected.encode(), mac.encode("ascii", "replace")):
        return False
    return now < expires_at

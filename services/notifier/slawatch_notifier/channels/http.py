"""One JSON POST to a URL, with its failures classified: shared by chat and webhook channels.

Settings common to every HTTP channel: ``timeout`` (seconds for connecting, writing
and waiting for the answer; default 10), ``verify`` (check the server's certificate;
default true), ``ca_file`` (a PEM file of certificates to trust instead of the
system's) and ``proxy`` (a proxy URL; the process environment's proxy variables are
not read). Redirects are not followed.

A 2xx answer is acceptance. 429 is ``rate_limited`` and 408 or 5xx ``server_error``,
both retryable (429 keeps the server's ``Retry-After``); 3xx is ``redirected`` and any
other 4xx ``rejected``, neither retryable. A timeout or connection failure is retryable;
a TLS failure is not. Error details name the URL's host only: a Slack or Teams webhook
URL is itself a secret.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from slawatch_notifier.channels.base import ChannelError, FailureReason
from slawatch_notifier.channels.config import SettingsReader

__all__ = ["HttpTarget", "JsonPoster", "read_target"]

_DEFAULT_TIMEOUT = 10.0
_USER_AGENT = "slawatch-notifier"


@dataclass(frozen=True)
class HttpTarget:
    """Where and how to POST."""

    url: str
    timeout: float = _DEFAULT_TIMEOUT
    verify: ssl.SSLContext | bool = True
    proxy: str | None = None

    @property
    def host(self) -> str:
        """The URL's host, the only part of it errors show."""
        return urlsplit(self.url).hostname or "?"

    def __repr__(self) -> str:
        return f"HttpTarget(host={self.host!r}, timeout={self.timeout})"


def read_target(read: SettingsReader, url_key: str) -> HttpTarget:
    """The URL in ``url_key`` and the common HTTP settings."""
    url = read.url(url_key)
    timeout = read.seconds("timeout", _DEFAULT_TIMEOUT)
    check = read.flag("verify", True)
    ca_file = read.text("ca_file")
    proxy = read.url("proxy", required=False) or None
    verify: ssl.SSLContext | bool = check
    if ca_file is not None:
        context = ssl.create_default_context()
        if not Path(ca_file).is_file():
            read.problem("ca_file", f"no such file: {ca_file}")
        else:
            try:
                context.load_verify_locations(cafile=ca_file)
            except (ssl.SSLError, OSError) as error:
                read.problem("ca_file", f"not a PEM file of certificates ({error})")
        if not check:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        verify = context
    return HttpTarget(url=url, timeout=timeout, verify=verify, proxy=proxy)


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _tls_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class JsonPoster:
    """POSTs JSON bodies to one target over a client created on first use.

    ``clock`` (Unix seconds) reads an HTTP-date ``Retry-After``.
    """

    def __init__(self, target: HttpTarget, *, clock: Callable[[], float] = time.time) -> None:
        self.target = target
        self._clock = clock
        self._client: httpx.AsyncClient | None = None

    def _connect(self) -> httpx.AsyncClient:
        if self._client is None:
            t = self.target.timeout
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(t, connect=t),
                verify=self.target.verify,
                proxy=self.target.proxy,
                trust_env=False,
                follow_redirects=False,
                headers={"User-Agent": _USER_AGENT},
            )
        return self._client

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST ``body``; return the 2xx response or raise ChannelError."""
        host = self.target.host
        try:
            response = await self._connect().post(
                self.target.url,
                content=body,
                headers={"Content-Type": "application/json", **headers},
            )
        except httpx.TimeoutException as error:
            raise ChannelError(
                FailureReason.TIMEOUT,
                f"{host} did not answer in time ({type(error).__name__})",
                retryable=True,
            ) from error
        except httpx.TransportError as error:
            if _tls_failure(error):
                raise ChannelError(
                    FailureReason.TLS, f"TLS with {host} failed: {error}", retryable=False
                ) from error
            raise ChannelError(
                FailureReason.CONNECTION, f"{host}: {type(error).__name__} {error}", retryable=True
            ) from error
        status = response.status_code
        if 200 <= status < 300:
            return response
        said = f"{host} answered {status}: {response.text[:200]}".strip()
        if status == 429:
            wait = _retry_after(response.headers.get("Retry-After"), self._clock())
            raise ChannelError(FailureReason.RATE_LIMITED, said, retryable=True, retry_after=wait)
        if status == 408 or status >= 500:
            raise ChannelError(FailureReason.SERVER_ERROR, said, retryable=True)
        if 300 <= status < 400:
            raise ChannelError(FailureReason.REDIRECTED, said, retryable=False)
        raise ChannelError(FailureReason.REJECTED, said, retryable=False)

    async def close(self) -> None:
        """Close the client, if one was created."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

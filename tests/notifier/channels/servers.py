"""Real servers for the channel tests, on ephemeral ports in the test's own event loop.

- :class:`HttpRecorder`: a small HTTP/1.1 server that records each request and answers
  from a script (a status, headers, a body, an optional delay before answering);
- :class:`SmtpSink`: an aiosmtpd handler that keeps each accepted message, or answers
  MAIL, RCPT or DATA with a scripted reply (``451 ...``, ``550 ...``);
- :func:`smtp_server`: aiosmtpd's SMTP protocol served with optional STARTTLS, implicit
  TLS and AUTH;
- :func:`self_signed`: a certificate for ``localhost`` and ``127.0.0.1``, made with
  ``cryptography`` when it is installed, else with the ``openssl`` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email
import email.policy
import importlib
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


# --- certificates -----------------------------------------------------------------


def _with_cryptography(cert: Path, key: Path) -> bool:
    try:
        x509 = importlib.import_module("cryptography.x509")
        hashes = importlib.import_module("cryptography.hazmat.primitives.hashes")
        serialization = importlib.import_module("cryptography.hazmat.primitives.serialization")
        ec = importlib.import_module("cryptography.hazmat.primitives.asymmetric.ec")
    except ImportError:
        return False
    NameOID = x509.oid.NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return True


def _with_openssl(cert: Path, key: Path) -> bool:
    command = shutil.which("openssl")
    if command is None:
        return False
    subprocess.run(
        [
            command,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            f"subjectAltName=DNS:localhost,IP:{HOST}",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return True


def self_signed(directory: Path) -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` for localhost and 127.0.0.1, valid for a day."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if _with_cryptography(cert, key) or _with_openssl(cert, key):
        return cert, key
    pytest.fail(
        "cannot make a test certificate: install the `cryptography` package "
        "or put the `openssl` command on PATH"
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context with the test certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


# --- HTTP -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    """One recorded request; ``headers`` keys are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


_REASONS = {
    200: "OK",
    202: "Accepted",
    301: "Moved",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Unavailable",
}


@dataclass
class HttpRecorder:
    """Records requests; answers with ``script`` in order, then with ``default``."""

    tls: ssl.SSLContext | None = None
    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{HOST}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connected, HOST, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Request(method, path, headers, body))
                reply = self.script.pop(0) if self.script else self.default
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers)
                head = (
                    f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
                    f"Content-Length: {len(reply.body)}\r\n{extra}\r\n"
                )
                writer.write(head.encode("latin-1") + reply.body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def http_server(tls: ssl.SSLContext | None = None) -> AsyncIterator[HttpRecorder]:
    """A started :class:`HttpRecorder`, stopped on exit."""
    recorder = HttpRecorder(tls=tls)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()


# --- SMTP -------------------------------------------------------------------------


@dataclass
class Received:
    """One accepted message and how it came."""

    sender: str
    recipients: list[str]
    mail: EmailMessage
    raw: bytes
    authenticated: bool
    tls: bool


@dataclass
class SmtpSink:
    """An aiosmtpd handler: keeps messages, or answers a command from ``replies``."""

    replies: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "MAIL" in self.replies:
            return self.replies["MAIL"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "RCPT" in self.replies:
            return self.replies["RCPT"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if "DATA" in self.replies:
            return self.replies["DATA"]
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                mail=parsed,
                raw=raw,
                authenticated=bool(session.authenticated),
                tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted"


def _authenticator(users: dict[str, str]) -> Any:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


@contextlib.asynccontextmanager
async def smtp_server(
    sink: SmtpSink,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit: ssl.SSLContext | None = None,
    users: dict[str, str] | None = None,
) -> AsyncIterator[int]:
    """An SMTP server on an ephemeral port (yielded); STARTTLS is required when given."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            sink,
            hostname="localhost",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=_authenticator(users) if users is not None else None,
            auth_require_tls=True,
            loop=loop,
        )

    server = await loop.create_server(protocol, HOST, 0, ssl=implicit)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts and never says anything (a hung SMTP server)."""
    held: list[asyncio.StreamWriter] = []

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(connected, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])

"""Real receivers for notifier tests: an SMTP server (aiosmtpd) and an HTTP webhook server.

Both run in threads of the test process, record what they receive and can be told
to refuse for a while (SMTP 451, HTTP 500).
"""

from __future__ import annotations

import email
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def recipients(self) -> list[str]:
        with self.lock:
            return [str(m["To"]) for m in self.messages]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.box.refuse:
            return "451 4.3.0 try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        with self.box.lock:
            self.box.messages.append(email.message_from_bytes(content))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 (no TLS, no auth)."""

    def __init__(self) -> None:
        self.box = Mailbox()
        self.port = free_port()
        self.controller = Controller(_Handler(self.box), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Inbox:
    """What the webhook server received."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notification_ids(self) -> list[str]:
        with self.lock:
            return [r["headers"].get("x-slawatch-notification-id", "") for r in self.requests]


class WebhookServer:
    """A real HTTP server on 127.0.0.1 recording POSTs (answers 500 while ``refuse``)."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        inbox = self.inbox

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender went away mid-request (a test kills it): a real receiver
                    # never sees such a request as delivered, so it is not recorded.
                    self.send_response(400)
                    self.end_headers()
                    return
                if inbox.refuse:
                    self.send_response(500)
                    self.end_headers()
                    return
                with inbox.lock:
                    inbox.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "json": json.loads(body or b"null"),
                        }
                    )
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Email through an SMTP server (aiosmtplib): one message per recipient, text and HTML.

Settings (``type: smtp``):

===============  ===========================================================  ==========
``host``         the server                                                   required
``from``         the sender, ``addr@domain`` or ``Name <addr@domain>``        required
``ssl``          implicit TLS from the first byte (``use_tls`` is the same)   false
``starttls``     upgrade with STARTTLS, refusing a server that cannot         not ``ssl``
``port``         465 with ``ssl``, else 587 with ``starttls``, else 25
``username``     with ``password``: AUTH after the TLS upgrade                none
``timeout``      seconds for connecting and for each reply                    30
``verify``       check the server's certificate and host name                 true
``ca_file``      a PEM file of certificates to trust instead of the system's  none
===============  ===========================================================  ==========

Each send opens a connection, delivers one message to one recipient and closes it.
The message is ``multipart/alternative`` (text, then HTML when the message has it).
Its ``Message-ID`` is ``<NOTIFICATION_ID@DOMAIN>``, ``DOMAIN`` being the domain of
``from``, so a repeated send repeats the Message-ID and mail systems can drop it;
``Date`` is the notification's ``time`` and the MIME boundary derives from the id, so
a repeated send is the same bytes. Headers
``X-Slawatch-Notification`` (the id), ``X-Slawatch-Subject`` (``ticket:T-1``),
``X-Slawatch-Escalation`` (the chain) and ``Auto-Submitted: auto-generated`` (RFC 3834,
so auto-responders stay quiet) are added. A retraction notice is a reply
(``In-Reply-To``, ``References``) to the notification it withdraws, whose id it
recomputes from its cause, step and repeat, so mail clients thread the two.

Failures: an SMTP 4xx reply (421, 450, 451, 452, 454) is ``smtp_temporary`` and
retryable; a 5xx reply is ``smtp_permanent`` (``auth`` for refused credentials) and
not; a timeout or lost connection is retryable; a TLS failure, a server without
STARTTLS or AUTH, and a malformed address are not.
"""

from __future__ import annotations

import email.policy
import email.utils
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from slawatch.escalation.notifications import Notice, notification_id
from slawatch.timeutil import TimeFormatError, parse_time, to_datetime
from slawatch_notifier.channels.base import ChannelError, ChannelType, FailureReason
from slawatch_notifier.channels.config import BuildContext, SettingsReader
from slawatch_notifier.messages import Message

__all__ = ["SmtpChannel", "SmtpConfig", "build", "build_email", "classify"]

_DEFAULT_TIMEOUT = 30.0
_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""CRLF lines; headers folded only past RFC 5322's 998 characters, since Python folds a
long subject that starts with ``[`` before its first word. The email is sent as these
bytes: aiosmtplib would flatten an EmailMessage with its own policy."""


@dataclass(frozen=True)
class SmtpConfig:
    """The checked settings of one SMTP channel."""

    host: str
    port: int
    sender: str
    implicit_tls: bool = False
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    timeout: float = _DEFAULT_TIMEOUT
    tls_context: ssl.SSLContext | None = None

    @property
    def envelope_sender(self) -> str:
        """The address part of ``from``."""
        return email.utils.parseaddr(self.sender)[1]

    @property
    def domain(self) -> str:
        """The Message-ID's right-hand side: the domain of ``from``."""
        return self.envelope_sender.rpartition("@")[2] or "slawatch"

    def __repr__(self) -> str:
        return f"SmtpConfig(host={self.host!r}, port={self.port}, sender={self.sender!r})"


def _message_id(notification: str, domain: str) -> str:
    return f"<{notification}@{domain}>"


def _withdrawn_id(record: dict[str, object]) -> str | None:
    """The id of the step notification a retraction notice withdraws."""
    cause, step, repeat = record.get("cause"), record.get("step"), record.get("repeat")
    if not isinstance(cause, str) or not isinstance(step, int) or not isinstance(repeat, int):
        return None
    channel, recipient = record.get("channel"), record.get("recipient")
    return notification_id(
        cause,
        step,
        repeat,
        Notice.STEP.value,
        channel if isinstance(channel, str) else None,
        recipient if isinstance(recipient, str) else None,
    )


def _date(record: dict[str, object], clock: Callable[[], float]) -> str:
    text = record.get("time")
    if isinstance(text, str):
        try:
            return email.utils.format_datetime(to_datetime(parse_time(text)))
        except TimeFormatError:
            pass
    return email.utils.formatdate(clock(), usegmt=True)


def build_email(message: Message, config: SmtpConfig, clock: Callable[[], float]) -> EmailMessage:
    """The email of one message; raises ValueError for a header that cannot be written."""
    record = message.record
    mail = EmailMessage(policy=_POLICY)
    mail["Subject"] = message.subject
    mail["From"] = config.sender
    mail["To"] = message.recipient
    mail["Date"] = _date(record, clock)
    mail["Message-ID"] = _message_id(message.notification_id, config.domain)
    if record.get("notice") == Notice.RETRACTION.value:
        withdrawn = _withdrawn_id(record)
        if withdrawn is not None:
            mail["In-Reply-To"] = _message_id(withdrawn, config.domain)
            mail["References"] = _message_id(withdrawn, config.domain)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Slawatch-Notification"] = message.notification_id
    for header, key in (("X-Slawatch-Subject", "subject"), ("X-Slawatch-Escalation", "escalation")):
        value = record.get(key)
        if isinstance(value, str) and value:
            mail[header] = value
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
        mail.set_boundary(f"=_slawatch_{message.notification_id}")
    return mail


def classify(error: Exception, host: str) -> ChannelError:
    """The ChannelError of an exception raised while talking to an SMTP server."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        said = f"{host} answered {error.code} {error.message}"[:300]
        if 400 <= error.code < 500:
            return ChannelError(FailureReason.SMTP_TEMPORARY, said, retryable=True)
        if isinstance(error, aiosmtplib.SMTPAuthenticationError):
            return ChannelError(FailureReason.AUTH, said, retryable=False)
        return ChannelError(FailureReason.SMTP_PERMANENT, said, retryable=False)
    if isinstance(error, ssl.SSLError) or isinstance(error.__cause__, ssl.SSLError):
        return ChannelError(FailureReason.TLS, f"TLS with {host} failed: {error}", retryable=False)
    if isinstance(error, aiosmtplib.SMTPNotSupported) or type(error) is aiosmtplib.SMTPException:
        return ChannelError(FailureReason.UNSUPPORTED, f"{host}: {error}", retryable=False)
    if isinstance(error, TimeoutError):
        return ChannelError(FailureReason.TIMEOUT, f"{host}: {error}", retryable=True)
    return ChannelError(FailureReason.CONNECTION, f"{host}: {error}", retryable=True)


class SmtpChannel:
    """Sends each message as one email to its recipient."""

    type = ChannelType.SMTP.value

    def __init__(
        self, name: str, config: SmtpConfig, *, clock: Callable[[], float] | None = None
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock or time.time

    async def send(self, message: Message) -> None:
        """Deliver the email; raise ChannelError (see the module docstring)."""
        c = self.config
        try:
            mail = build_email(message, c, self._clock)
        except ValueError as error:
            raise ChannelError(
                FailureReason.REJECTED, f"cannot write the email: {error}", retryable=False
            ) from error
        if "@" not in message.recipient:
            raise ChannelError(
                FailureReason.REJECTED, "the recipient is not an email address", retryable=False
            )
        try:
            await aiosmtplib.send(
                mail.as_bytes(),
                sender=c.envelope_sender,
                recipients=[message.recipient],
                hostname=c.host,
                port=c.port,
                use_tls=c.implicit_tls,
                start_tls=c.starttls,
                username=c.username,
                password=c.password,
                timeout=c.timeout,
                tls_context=c.tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise classify(error, c.host) from error

    async def close(self) -> None:
        """Nothing to release: each send has its own connection."""

    def __repr__(self) -> str:
        return f"SmtpChannel({self.name!r}, {self.config!r})"


def _tls_context(read: SettingsReader, *, verify: bool, ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file is not None:
        if not Path(ca_file).is_file():
            read.problem("ca_file", f"no such file: {ca_file}")
        else:
            try:
                context.load_verify_locations(cafile=ca_file)
            except (ssl.SSLError, OSError) as error:
                read.problem("ca_file", f"not a PEM file of certificates ({error})")
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def build(name: str, kind: ChannelType, read: SettingsReader, context: BuildContext) -> SmtpChannel:
    """An SMTP channel from its settings; problems go to the reader."""
    host = read.required("host")
    sender = read.required("from")
    local, at, domain = email.utils.parseaddr(sender)[1].rpartition("@")
    if sender and not (local and at and domain):
        read.problem("from", "must be an email address (addr@domain or Name <addr@domain>)")
    implicit = read.flag("ssl", False) | read.flag("use_tls", False)
    starttls = read.flag("starttls", not implicit)
    if implicit and starttls:
        read.problem("starttls", "cannot be used with ssl/use_tls (TLS is already on)")
    default_port = 465 if implicit else 587 if starttls else 25
    port = read.integer("port", default_port, low=1, high=65535)
    username = read.text("username")
    password = read.text("password")
    if (username is None) != (password is None):
        missing = "username" if username is None else "password"
        read.problem(missing, "username and password go together")
    timeout = read.seconds("timeout", _DEFAULT_TIMEOUT)
    verify = read.flag("verify", True)
    ca_file = read.text("ca_file")
    tls = _tls_context(read, verify=verify, ca_file=ca_file) if implicit or starttls else None
    config = SmtpConfig(
        host=host,
        port=port,
        sender=sender,
        implicit_tls=implicit,
        starttls=starttls,
        username=username,
        password=password,
        timeout=timeout,
        tls_context=tls,
    )
    return SmtpChannel(name, config, clock=context.clock)

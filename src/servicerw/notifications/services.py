"""The email outbox: queueing in the caller's transaction, and a first sender (SMTP or the log).
The notifications issue adds SendGrid/SES, failover and a circuit breaker."""

from __future__ import annotations

import asyncio
import random
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from urllib.parse import unquote, urlsplit

import structlog

from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.settings import EmailSettings


async def queue_email(conn, *, to: str, subject: str, body: str, language: str, kind: str, html: str = "") -> int:
    """Insert an email into the outbox on `conn`, inside the caller's transaction: if that transaction
    rolls back, the email never existed."""
    return await conn.fetchval(
        """INSERT INTO email_outbox (to_address, subject, body_text, body_html, language, kind)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        to,
        subject[:200],
        body,
        html,
        language,
        kind,
    )


# --- sending ------------------------------------------------------------------------------------
# A first sender so that sign-up and password-reset emails reach people now: SMTP (Mailpit for
# self-hosters) or the log. The notifications issue adds SendGrid/SES, failover and a circuit breaker.

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 8


class SendError(Exception):
    pass


class SmtpSender:
    name = "smtp"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self.url = urlsplit(settings.smtp_url)

    def _send(self, message: MimeMessage) -> None:
        host, port = self.url.hostname or "localhost", self.url.port
        try:
            if self.url.scheme == "smtps":
                client = smtplib.SMTP_SSL(
                    host, port or 465, timeout=self.settings.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port or 587, timeout=self.settings.timeout)
            with client:
                if self.url.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                if self.url.username:
                    client.login(unquote(self.url.username), unquote(self.url.password or ""))
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(repr(error)) from error

    async def send(self, message: MimeMessage) -> None:
        await asyncio.to_thread(self._send, message)


class LogSender:
    name = "log"

    async def send(self, message: MimeMessage) -> None:
        log.info("email_not_sent_no_smtp", to=message["To"], subject=message["Subject"], body=message.get_content())


def build_sender(settings: EmailSettings) -> SmtpSender | LogSender:
    return SmtpSender(settings) if settings.smtp_url else LogSender()


class OutboxSender:
    """Sends pending outbox rows (FOR UPDATE SKIP LOCKED), retrying with exponential backoff and jitter;
    after MAX_ATTEMPTS a row is marked dead. The idempotency key travels as the Message-ID."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self.sender = build_sender(settings)

    def _message(self, row) -> MimeMessage:
        message = MimeMessage()
        message["From"] = self.settings.sender
        message["To"] = row["to_address"]
        message["Subject"] = row["subject"]
        message["Message-ID"] = f"<{row['idempotency_key']}@servicerw>"
        message["Content-Language"] = row["language"]
        message.set_content(row["body_text"])
        if row["body_html"]:
            message.add_alternative(row["body_html"], subtype="html")
        return message

    async def send_pending(self, limit: int = 20) -> int:
        sent = 0
        async with db.engine().pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT * FROM email_outbox WHERE status = 'pending' AND send_after <= now()
                   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
                limit,
            )
            for row in rows:
                try:
                    await self.sender.send(self._message(row))
                except SendError as error:
                    attempts = row["attempts"] + 1
                    delay = min(3600, 2**attempts * 5) * random.uniform(0.8, 1.2)
                    await conn.execute(
                        """UPDATE email_outbox SET attempts = $2, last_error = $3,
                               status = CASE WHEN $2 >= $4 THEN 'dead' ELSE 'pending' END,
                               send_after = now() + make_interval(secs => $5) WHERE id = $1""",
                        row["id"],
                        attempts,
                        str(error)[:500],
                        MAX_ATTEMPTS,
                        delay,
                    )
                    continue
                await conn.execute(
                    """UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1,
                           provider = $2 WHERE id = $1""",
                    row["id"],
                    self.sender.name,
                )
                sent += 1
        return sent


def outbox_worker(settings: EmailSettings) -> PollingWorker:
    """Sends the outbox; started by the app (and by `servicerw worker`)."""
    return PollingWorker("outbox_worker", OutboxSender(settings).send_pending)

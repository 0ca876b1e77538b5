"""Delivery providers behind one small interface, for email and SMS.

A provider has a `name`, a `channel` ("email" or "sms") and `send(outgoing)`,
which returns the provider's message id or raises SendError (refused, failed or timed out: another
provider, or a later attempt, may succeed). `close()` releases its connections; the next send reopens them.

The outbox row's idempotency key goes to every provider (an `Idempotency-Key` HTTP header, SendGrid
custom_args, an SES email tag, the SMTP Message-ID), so that a retry after a crash carries the same key.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlencode, urlsplit

import httpx
import structlog
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from servicerw.settings import EmailSettings, SmsSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver, whatever the channel."""

    to: str
    subject: str
    text: str
    idempotency_key: str
    html: str = ""
    language: str = "rw"
    kind: str = ""
    channel: str = "email"


class SendError(Exception):
    """The provider refused, failed or timed out; retrying (elsewhere or later) may succeed."""


class Provider(Protocol):
    name: str
    channel: str

    async def send(self, outgoing: Outgoing) -> str: ...

    async def close(self) -> None: ...


class _HttpProvider:
    """An HTTP API provider: one httpx client (keep-alive, `EMAIL_CONCURRENCY` connections) made on first use."""

    name = ""
    channel = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    async def _post(self, url: str, body: bytes | str, headers: dict[str, str]) -> httpx.Response:
        if self._client is None:
            slots = max(1, self.settings.concurrency)
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.timeout),
                limits=httpx.Limits(max_connections=slots, max_keepalive_connections=slots),
            )
        try:
            return await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise SendError(f"{self.name}: no answer within {self.settings.timeout:g} s") from error
        except httpx.HTTPError as error:
            raise SendError(f"{self.name}: {error!r}") from error

    def _refused(self, response: httpx.Response) -> SendError:
        return SendError(f"{self.name}: HTTP {response.status_code} {response.text[:300]}")

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


class SendGridProvider(_HttpProvider):
    """SendGrid v3 mail send: 202 means accepted, the message id is in X-Message-Id."""

    name = "sendgrid"

    def __init__(self, settings: EmailSettings) -> None:
        if not settings.sendgrid_api_key:
            raise ValueError("EMAIL_PROVIDERS lists sendgrid but SENDGRID_API_KEY is not set")
        super().__init__(settings)
        self.url = f"{settings.sendgrid_url}/v3/mail/send"
        display, address = parseaddr(settings.sender)
        self.sender = {"email": address, **({"name": display} if display else {})}

    async def send(self, outgoing: Outgoing) -> str:
        content = [{"type": "text/plain", "value": outgoing.text}]
        if outgoing.html:
            content.append({"type": "text/html", "value": outgoing.html})
        custom_args = {"idempotency_key": outgoing.idempotency_key}
        if outgoing.kind:
            custom_args["kind"] = outgoing.kind
        payload = {
            "personalizations": [{"to": [{"email": outgoing.to}]}],
            "from": self.sender,
            "subject": outgoing.subject,
            "content": content,
            "custom_args": custom_args,
        }
        headers = {
            "Authorization": f"Bearer {self.settings.sendgrid_api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": outgoing.idempotency_key,
        }
        response = await self._post(self.url, json.dumps(payload).encode(), headers)
        if response.status_code != 202:
            raise self._refused(response)
        return response.headers.get("x-message-id", "")


class SesProvider(_HttpProvider):
    """Amazon SES v2 SendEmail, signed with SigV4 by botocore's signer: 200 means accepted."""

    name = "ses"

    def __init__(self, settings: EmailSettings) -> None:
        if not (settings.ses_access_key_id and settings.ses_secret_access_key):
            raise ValueError("EMAIL_PROVIDERS lists ses but SES_ACCESS_KEY_ID or SES_SECRET_ACCESS_KEY is not set")
        super().__init__(settings)
        self.url = f"{settings.ses_endpoint_url}/v2/email/outbound-emails"
        self.credentials = Credentials(settings.ses_access_key_id, settings.ses_secret_access_key)

    def signed_request(self, outgoing: Outgoing) -> tuple[bytes, dict[str, str]]:
        body = {"Text": {"Data": outgoing.text, "Charset": "UTF-8"}}
        if outgoing.html:
            body["Html"] = {"Data": outgoing.html, "Charset": "UTF-8"}
        tags = [{"Name": "idempotency_key", "Value": outgoing.idempotency_key}]
        if outgoing.kind:
            tags.append({"Name": "kind", "Value": outgoing.kind})
        payload = {
            "FromEmailAddress": self.settings.sender,
            "Destination": {"ToAddresses": [outgoing.to]},
            "Content": {"Simple": {"Subject": {"Data": outgoing.subject, "Charset": "UTF-8"}, "Body": body}},
            "EmailTags": tags,
        }
        data = json.dumps(payload).encode()
        request = AWSRequest(
            method="POST",
            url=self.url,
            data=data,
            headers={"Content-Type": "application/json", "Idempotency-Key": outgoing.idempotency_key},
        )
        SigV4Auth(self.credentials, "ses", self.settings.ses_region).add_auth(request)
        return data, dict(request.headers.items())

    async def send(self, outgoing: Outgoing) -> str:
        response = await self._post(self.url, *self.signed_request(outgoing))
        if response.status_code != 200:
            raise self._refused(response)
        try:
            return str(response.json().get("MessageId", ""))
        except ValueError:
            return ""  # accepted all the same


class SmtpProvider:
    """SMTP through smtplib in threads of its own (one per concurrency slot) and connections that are
    kept open and reused (at most one per slot): a TLS handshake and login per email would cost more than
    the email."""

    name = "smtp"
    channel = "email"
    IDLE_CHECK = 5.0  # seconds; an idle connection older than this is checked with NOOP before reuse

    def __init__(self, settings: EmailSettings) -> None:
        if not settings.smtp_url:
            raise ValueError("EMAIL_PROVIDERS lists smtp but SMTP_URL is not set")
        self.settings = settings
        self.url = urlsplit(settings.smtp_url)
        display, self.envelope_from = parseaddr(settings.sender)
        self.from_header = formataddr((display, self.envelope_from), charset="utf-8")
        self._executor: ThreadPoolExecutor | None = None
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()

    def message(self, outgoing: Outgoing) -> Message:
        # The compat32 classes: EmailMessage (policy.default) spends ~4 ms of CPU per email parsing its own
        # headers, which capped a worker at ~150 emails/s (~1 ms here). compat32 writes header values as
        # given, so line breaks are removed first (no header injection).
        text = MIMEText(outgoing.text, "plain", "utf-8")
        if outgoing.html:
            message: Message = MIMEMultipart("alternative")
            message.attach(text)
            message.attach(MIMEText(outgoing.html, "html", "utf-8"))
        else:
            message = text
        subject = _one_line(outgoing.subject)
        message["From"] = self.from_header
        message["To"] = _one_line(outgoing.to)
        message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{outgoing.idempotency_key}@servicerw>"
        message["Content-Language"] = _one_line(outgoing.language)
        return message

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self.url.hostname or "localhost", self.url.port, self.settings.timeout
        if self.url.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, port or 465, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port or 587, timeout=timeout)
        try:
            if self.url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            client.close()
            raise
        return client

    def _checkout(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                if not self._idle:
                    break
                client, since = self._idle.pop()
            if time.monotonic() - since < self.IDLE_CHECK:
                return client
            try:  # servers drop idle connections: check before trusting it with an email
                if client.noop()[0] == 250:
                    return client
            except (OSError, smtplib.SMTPException):
                pass
            client.close()
        return self._connect()

    def _send(self, message: Message) -> None:
        try:
            client = self._checkout()
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(f"smtp: cannot connect: {error!r}") from error
        try:
            client.sendmail(self.envelope_from, [message["To"]], message.as_bytes(policy=_CRLF))
        except (OSError, smtplib.SMTPException, UnicodeError) as error:  # UnicodeError: a non-ASCII address
            client.close()
            raise SendError(f"smtp: {error!r}") from error
        with self._lock:
            self._idle.append((client, time.monotonic()))

    async def send(self, outgoing: Outgoing) -> str:
        message = self.message(outgoing)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max(1, self.settings.concurrency), thread_name_prefix="smtp")
        await asyncio.get_running_loop().run_in_executor(self._executor, self._send, message)
        return message["Message-ID"]

    def _quit_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for client, _since in idle:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
        await asyncio.to_thread(self._quit_all)


_TOKEN = re.compile(r"([?&]token=)[^\s&#]+")


def redact_tokens(text: str) -> str:
    """The text with the secret of every `?token=` link replaced: logs are read by more people than the
    recipient (a reset or claim link in a log would let any reader take the account or the listing)."""
    return _TOKEN.sub(r"\1[redacted]", text)


class LogProvider:
    """Development without any provider: the email goes to the log, its links' tokens redacted (production
    refuses to start with only this provider: settings.check_production)."""

    name = "log"
    channel = "email"

    async def send(self, outgoing: Outgoing) -> str:
        log.info(
            "email_not_sent_no_provider",
            to=outgoing.to,
            subject=outgoing.subject,
            body=redact_tokens(outgoing.text),
        )
        return f"log:{outgoing.idempotency_key}"

    async def close(self) -> None:
        return None


_CRLF = compat32.clone(linesep="\r\n")  # sendmail() sends bytes as they are: SMTP wants CRLF line ends


def _one_line(value: str) -> str:
    return " ".join(value.splitlines())


PROVIDERS: dict[str, type] = {
    "sendgrid": SendGridProvider,
    "ses": SesProvider,
    "smtp": SmtpProvider,
    "log": LogProvider,
}


def build_providers(settings: EmailSettings) -> list[Provider]:
    """The providers of EMAIL_PROVIDERS, in order; a clear error for an unknown or unconfigured one."""
    unknown = [name for name in settings.providers if name not in PROVIDERS]
    if unknown:
        raise ValueError(f"EMAIL_PROVIDERS: unknown provider {unknown} (known: {', '.join(PROVIDERS)})")
    return [PROVIDERS[name]() if name == "log" else PROVIDERS[name](settings) for name in settings.providers]


# --- SMS ------------------------------------------------------------------------------------------


class PindoProvider(_HttpProvider):
    """Pindo (Rwanda): POST {PINDO_URL}/v1/sms/ with JSON {to, text, sender} and `Authorization: Bearer
    TOKEN`; 201 (or 200) with the message's `sms_id` in the JSON answer. Delivery reports come later to the
    organisation's webhook (our /webhooks/sms/pindo/...). Relied on: Pindo's API usage and response codes
    as published with pindo-cli (https://pypi.org/project/pindo-cli/): 201 sent, 401 unauthorized, 409
    unsupported country or network."""

    name = "pindo"
    channel = "sms"

    def __init__(self, settings: EmailSettings, sms: SmsSettings) -> None:
        if not sms.pindo_token:
            raise ValueError("SMS_PROVIDERS lists pindo but PINDO_API_TOKEN is not set")
        super().__init__(settings)
        self.sms = sms
        self.url = f"{sms.pindo_url}/v1/sms/"

    async def send(self, outgoing: Outgoing) -> str:
        payload = {"to": outgoing.to, "text": outgoing.text, "sender": self.sms.sender}
        headers = {
            "Authorization": f"Bearer {self.sms.pindo_token}",
            "Content-Type": "application/json",
            "Idempotency-Key": outgoing.idempotency_key,
        }
        response = await self._post(self.url, json.dumps(payload).encode(), headers)
        if response.status_code not in (200, 201):
            raise self._refused(response)
        try:
            return str(response.json().get("sms_id", ""))
        except ValueError:
            return ""  # accepted all the same; its delivery report cannot be matched


class AfricasTalkingProvider(_HttpProvider):
    """Africa's Talking bulk SMS: form POST {AFRICASTALKING_URL}/version1/messaging (username, to, message,
    from) with the `apiKey` header and `Accept: application/json`; the answer's
    SMSMessageData.Recipients[] carries each number's `status` ("Success" when accepted) and `messageId`.
    Relied on: Africa's Talking SMS API reference (developers.africastalking.com/docs/sms/sending)."""

    name = "africastalking"
    channel = "sms"

    def __init__(self, settings: EmailSettings, sms: SmsSettings) -> None:
        if not (sms.africastalking_username and sms.africastalking_api_key):
            raise ValueError(
                "SMS_PROVIDERS lists africastalking but AFRICASTALKING_USERNAME or AFRICASTALKING_API_KEY is not set"
            )
        super().__init__(settings)
        self.sms = sms
        self.url = f"{sms.africastalking_url}/version1/messaging"

    async def send(self, outgoing: Outgoing) -> str:
        body = urlencode(
            {
                "username": self.sms.africastalking_username,
                "to": outgoing.to,
                "message": outgoing.text,
                "from": self.sms.sender,
            }
        )
        headers = {
            "apiKey": self.sms.africastalking_api_key,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": outgoing.idempotency_key,
        }
        response = await self._post(self.url, body, headers)
        if response.status_code not in (200, 201):
            raise self._refused(response)
        try:
            recipients = response.json()["SMSMessageData"]["Recipients"]
            recipient = recipients[0]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise SendError(f"{self.name}: unexpected answer {response.text[:300]}") from error
        if recipient.get("status") != "Success":
            raise SendError(f"{self.name}: {recipient.get('status')} ({recipient.get('statusCode')})")
        return str(recipient.get("messageId", ""))


_CODE = re.compile(r"\b\d{6}\b")


class SmsLogProvider:
    """Development without an SMS provider: the SMS goes to the log, verification codes hidden like the
    email log's link tokens (a code in a log would let its readers verify a number that is not theirs;
    in development read it from the outbox row)."""

    name = "sms-log"
    channel = "sms"

    async def send(self, outgoing: Outgoing) -> str:
        log.info("sms_not_sent_no_provider", to=outgoing.to, text=_CODE.sub("[code]", outgoing.text))
        return f"log:{outgoing.idempotency_key}"

    async def close(self) -> None:
        return None


SMS_PROVIDERS: dict[str, type] = {
    "pindo": PindoProvider,
    "africastalking": AfricasTalkingProvider,
    "log": SmsLogProvider,
}


def build_sms_providers(settings: EmailSettings, sms: SmsSettings) -> list[Provider]:
    """The providers of SMS_PROVIDERS, in order (timeouts and connections from the email settings: one worker
    sends both); a clear error for an unknown or unconfigured one."""
    unknown = [name for name in sms.providers if name not in SMS_PROVIDERS]
    if unknown:
        raise ValueError(f"SMS_PROVIDERS: unknown provider {unknown} (known: {', '.join(SMS_PROVIDERS)})")
    return [SmsLogProvider() if name == "log" else SMS_PROVIDERS[name](settings, sms) for name in sms.providers]

"""SMS alerts for owners: a verified Rwandan mobile number, the opt-in, the new-message alert queued in the
inquiry's own transaction, opt-out words and the providers' delivery reports.

The SMS themselves go through the outbox (`queue_sms`, channel 'sms'): the same worker, retries and
failover as email. Codes are 6 digits, stored as an HMAC (SECRET_KEY) bound to the account and the number,
valid 10 minutes, 5 tries; a new code at most once a minute and 5 an hour. Alerts: at most one SMS per
owner every SMS_ALERT_MINUTES (messages arriving meanwhile are counted into the waiting one) and
SMS_DAILY_CAP a day; the email and the inbox have every message anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

from servicerw.core import db, i18n
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.core.i18n import ngettext
from servicerw.notifications.services import queue_sms
from servicerw.settings import Settings

CODE_TTL_MINUTES = 10
CODE_MAX_TRIES = 5
RESEND_SECONDS = 60
CODES_PER_HOUR = 5
SMS_MAX = 160  # one GSM-7 SMS
NAME_MAX = 24  # characters of the customer's name in an alert
STOP_WORDS = frozenset({"STOP", "HAGARIKA", "HAGARIKA UBUTUMWA", "ARRET"})

# Rwandan mobile numbers: MTN 078/079, Airtel 072/073, then 7 digits.
_MOBILE = re.compile(r"7[2389]\d{7}")
_SEPARATORS = re.compile(r"[\s().-]")

# GSM 03.38: the basic set (1 septet each) and the extension table (2 septets: escape + character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€")
_LOOKALIKES = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "«": '"', "»": '"'}
)


def normalise_phone(raw: str) -> str | None:
    """The number as +2507 and 8 digits (e.g. +250788123456) from the ways people write a Rwandan mobile
    number (078…, 78…, 250…, +250…, 00250…), None for anything else."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("250"):
            return None
    elif digits.startswith("00250"):
        digits = digits[2:]
    if digits.startswith("250") and len(digits) == 12:
        digits = digits[3:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return f"+250{digits}" if _MOBILE.fullmatch(digits) else None


def to_gsm7(text: str) -> str:
    """The text in GSM-7 (so one SMS holds 160 characters, not 70): typographic quotes and dashes to plain
    ones, accents dropped where GSM-7 lacks the letter (ê → e), other characters (emoji…) left out; line
    breaks and runs of spaces become one space."""
    out = []
    for ch in text.translate(_LOOKALIKES):
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(" " if ch in "\r\n" else ch)
            continue
        if ch.isspace():
            out.append(" ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append("".join(c for c in base if c in GSM7_BASIC or c in GSM7_EXTENDED))
    return " ".join("".join(out).split())


def gsm7_length(text: str) -> int:
    """Septets the (GSM-7) text takes: extension characters count twice."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def _shorten(text: str, budget: int) -> str:
    """The text within `budget` septets, cut at a word and marked with "..." when it had to be cut."""
    if gsm7_length(text) <= budget:
        return text
    if budget < 4:
        return ""
    cut = ""
    for ch in text:
        if gsm7_length(cut + ch) > budget - 3:
            break
        cut += ch
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "..."


def alert_text(count: int, name: str, message: str, link: str) -> str:
    """The new-message SMS in the current language, one GSM-7 SMS (≤ 160): the preview of the message gets
    what the sentence, the name and the link leave."""
    name = _shorten(to_gsm7(name), NAME_MAX)
    link = to_gsm7(link)

    def sentence(preview: str) -> str:
        if count > 1:
            return ngettext(
                "%(count)s new message on ServiceRW, the latest from %(name)s: %(preview)s %(link)s",
                "%(count)s new messages on ServiceRW, the latest from %(name)s: %(preview)s %(link)s",
                count,
                count=count,
                name=name,
                preview=preview,
                link=link,
            )
        return _("New message from %(name)s on ServiceRW: %(preview)s %(link)s", name=name, preview=preview, link=link)

    fixed = gsm7_length(to_gsm7(sentence("")))
    preview = _shorten(to_gsm7(message), SMS_MAX - fixed)
    text = to_gsm7(sentence(preview))
    return text if gsm7_length(text) <= SMS_MAX else _shorten(text, SMS_MAX)  # a very long link: cut anyway


def is_stop_word(text: str) -> bool:
    """STOP, HAGARIKA, HAGARIKA UBUTUMWA, ARRET/ARRÊT, in any case and spacing, trailing dot or ! allowed."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text or "") if not unicodedata.combining(c))
    return " ".join(plain.upper().strip(" .!").split()) in STOP_WORDS


def webhook_secret(settings: Settings) -> str:
    """The secret in the providers' callback URLs: SMS_WEBHOOK_SECRET, else derived from SECRET_KEY."""
    if settings.sms.webhook_secret:
        return settings.sms.webhook_secret
    return hmac.new(settings.server.secret_key.encode(), b"sms-webhook", hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PhoneStatus:
    """An owner's SMS settings as the settings page shows them."""

    phone: str = ""  # the verified number, "" when none
    alerts: bool = False
    stopped: bool = False  # turned off by an opt-out word sent from the phone
    pending_phone: str = ""  # a code was sent to this number and not entered yet


_LOCK_OWNER = """
SELECT p.*, extract(epoch FROM now() - p.code_sent_at) AS since_sent,
       coalesce(p.code_window_start > now() - interval '1 hour', false) AS in_window,
       coalesce(p.code_expires_at <= now(), true) AS expired
FROM sms_phones p WHERE p.user_id = $1 FOR UPDATE
"""


class SmsAlerts:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.server.secret_key.encode()

    def _hash(self, user_id: int, phone: str, code: str) -> str:
        return hmac.new(self.secret, f"{user_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def status(self, user_id: int) -> PhoneStatus:
        row = await db.fetchrow(
            """SELECT phone, alerts, stopped_at IS NOT NULL AS stopped,
                      CASE WHEN code_hash <> '' AND code_expires_at > now() THEN pending_phone ELSE '' END AS pending
               FROM sms_phones WHERE user_id = $1""",
            user_id,
        )
        if row is None:
            return PhoneStatus()
        return PhoneStatus(row["phone"], row["alerts"], row["stopped"] and not row["alerts"], row["pending"])

    async def send_code(self, user_id: int, raw_phone: str, language: str) -> str:
        """Sends a new code by SMS to the number (queued in this transaction); returns the number.
        FormErrors for a number that is not a Rwandan mobile, or when codes are asked too often."""
        phone = normalise_phone(raw_phone)
        if phone is None:
            raise FormErrors(
                {"phone": _("Enter a Rwandan mobile number, for example 078 123 4567 or +250 731 234 567.")}
            )
        refused = None
        async with db.engine().pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO sms_phones (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id)
            row = await conn.fetchrow(_LOCK_OWNER, user_id)
            sends = row["code_sends"] if row["in_window"] else 0
            if row["since_sent"] is not None and row["since_sent"] < RESEND_SECONDS:
                refused = _("A code was sent less than a minute ago. Wait a moment before asking for another one.")
            elif sends >= CODES_PER_HOUR:
                refused = _("Too many codes were asked for in the last hour. Try again later.")
            else:
                code = f"{secrets.randbelow(10**6):06d}"
                await conn.execute(
                    """UPDATE sms_phones SET pending_phone = $2, code_hash = $3,
                           code_expires_at = now() + make_interval(mins => $4), code_attempts = 0,
                           code_sent_at = now(), code_sends = $5::int,
                           code_window_start = CASE WHEN $5::int = 1 THEN now() ELSE code_window_start END
                       WHERE user_id = $1""",
                    user_id,
                    phone,
                    self._hash(user_id, phone, code),
                    CODE_TTL_MINUTES,
                    sends + 1,
                )
                with i18n.using(language):
                    text = _(
                        "Your ServiceRW code is %(code)s. It expires in %(minutes)s minutes. Never share it.",
                        code=code,
                        minutes=CODE_TTL_MINUTES,
                    )
                await queue_sms(conn, to=phone, text=to_gsm7(text), language=language, kind="sms_code")
        if refused:
            raise FormErrors({"phone": refused}, 429)
        return phone

    async def confirm(self, user_id: int, raw_code: str) -> str:
        """The code entered: the number becomes the verified one. Returns it; FormErrors otherwise (a wrong
        try is counted, the 5th wrong one ends the code)."""
        code = _SEPARATORS.sub("", raw_code or "")
        if not re.fullmatch(r"\d{6}", code):
            raise FormErrors({"code": _("Enter the 6 digits of the code we sent you.")})
        error, status = "", 422
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_LOCK_OWNER, user_id)
            if row is None or not row["code_hash"]:
                error, status = _("Ask for a code first."), 409
            elif row["expired"]:
                error = _("This code has expired. Ask for a new one.")
            elif not hmac.compare_digest(row["code_hash"], self._hash(user_id, row["pending_phone"], code)):
                tries = row["code_attempts"] + 1
                if tries >= CODE_MAX_TRIES:
                    error, status = _("Too many wrong codes. Ask for a new one."), 429
                else:
                    error = _("This code is not right. Check the SMS and try again.")
                await conn.execute(
                    """UPDATE sms_phones SET code_attempts = $2::int,
                           code_hash = CASE WHEN $2::int >= $3::int THEN '' ELSE code_hash END WHERE user_id = $1""",
                    user_id,
                    tries,
                    CODE_MAX_TRIES,
                )
            else:
                await conn.execute(
                    """UPDATE sms_phones SET alerts = alerts AND phone = pending_phone, phone = pending_phone,
                           verified_at = now(), stopped_at = NULL, pending_phone = '', code_hash = '',
                           code_expires_at = NULL, code_attempts = 0
                       WHERE user_id = $1""",
                    user_id,
                )
                return row["pending_phone"]
        raise FormErrors({"code": error}, status)

    async def set_alerts(self, user_id: int, on: bool) -> None:
        """The "text me" checkbox; only with a verified number."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            user = await conn.fetchval(
                """UPDATE sms_phones SET alerts = $2, stopped_at = CASE WHEN $2 THEN NULL ELSE stopped_at END
                   WHERE user_id = $1 AND phone <> '' AND verified_at IS NOT NULL RETURNING user_id""",
                user_id,
                on,
            )
            if user is not None and not on:
                await _cancel_waiting(conn, [user_id])
        if user is None:
            raise FormErrors({"alerts": _("Verify a phone number first.")}, 409)

    async def remove(self, user_id: int) -> None:
        """Forget the number (and any alert still waiting)."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            await _cancel_waiting(conn, [user_id])
            await conn.execute("DELETE FROM sms_phones WHERE user_id = $1", user_id)

    async def inbound(self, raw_from: str, text: str) -> bool:
        """An SMS to our number: an opt-out word from a verified number turns its alerts off. True when it did."""
        phone = normalise_phone(raw_from)
        if phone is None or not is_stop_word(text):
            return False
        async with db.engine().pool.acquire() as conn, conn.transaction():
            users = await conn.fetch(
                """UPDATE sms_phones SET alerts = false, stopped_at = now()
                   WHERE phone = $1 AND verified_at IS NOT NULL RETURNING user_id""",
                phone,
            )
            await _cancel_waiting(conn, [row["user_id"] for row in users])
        return bool(users)

    async def queue_inquiry_alert(
        self, conn, *, business_id: int, customer_name: str, message: str, link: str, inbox_link: str
    ) -> bool:
        """In the inquiry's transaction (`conn`): the owner's new-message SMS when they opted in on a verified
        number. Within SMS_ALERT_MINUTES of the last one, the alert waiting in the outbox is rewritten to
        count this message too; past SMS_DAILY_CAP a day, none. True when an SMS was queued or updated."""
        owner = await conn.fetchrow(
            """SELECT p.user_id, p.phone, p.pending_alert_id, p.pending_count,
                      coalesce(u.preferred_language, 'rw') AS language,
                      greatest(now(), p.last_alert_at + make_interval(mins => $2)) AS send_after
               FROM businesses b JOIN users u ON u.id = b.owner_id AND u.is_active
               JOIN sms_phones p ON p.user_id = u.id
               WHERE b.id = $1 AND p.alerts AND p.phone <> '' AND p.verified_at IS NOT NULL
               FOR UPDATE OF p""",
            business_id,
            self.settings.sms.alert_minutes,
        )
        if owner is None:
            return False
        language = owner["language"] if owner["language"] in ("rw", "en", "fr") else "rw"
        if owner["pending_alert_id"]:
            count = owner["pending_count"] + 1
            with i18n.using(language):
                text = alert_text(count, customer_name, message, inbox_link)
            # Only while no worker has claimed it (a claimed row is 'sending' and locked by the claim).
            updated = await conn.fetchval(
                """UPDATE email_outbox SET body_text = $2
                   WHERE id = $1 AND channel = 'sms' AND status = 'pending' AND attempts = 0 RETURNING id""",
                owner["pending_alert_id"],
                text,
            )
            if updated is not None:
                await conn.execute(
                    "UPDATE sms_phones SET pending_count = $2 WHERE user_id = $1", owner["user_id"], count
                )
                return True
        today = await conn.fetchval(
            """SELECT count(*) FROM email_outbox
               WHERE channel = 'sms' AND kind = 'sms_inquiry' AND to_address = $1
                 AND created_at >= (date_trunc('day', now() AT TIME ZONE 'Africa/Kigali')
                                    AT TIME ZONE 'Africa/Kigali')""",
            owner["phone"],
        )
        if today >= self.settings.sms.daily_cap:
            return False
        with i18n.using(language):
            text = alert_text(1, customer_name, message, link)
        alert_id = await queue_sms(
            conn, to=owner["phone"], text=text, language=language, kind="sms_inquiry", send_after=owner["send_after"]
        )
        await conn.execute(
            "UPDATE sms_phones SET last_alert_at = $2, pending_alert_id = $3, pending_count = 1 WHERE user_id = $1",
            owner["user_id"],
            owner["send_after"],
            alert_id,
        )
        return True


async def _cancel_waiting(conn, user_ids: list[int]) -> None:
    """Alerts turned off: the alert still waiting in the outbox is not sent."""
    if user_ids:
        await conn.execute(
            """UPDATE email_outbox o SET status = 'dead', last_error = 'SMS alerts turned off'
               FROM sms_phones p
               WHERE p.user_id = ANY($1::int[]) AND o.id = p.pending_alert_id AND o.status = 'pending'
                 AND o.attempts = 0""",
            user_ids,
        )

"""Inquiries: a customer's message to a business (no account needed), and the owner's inbox.

A message and its two emails (notification to the business, confirmation to the customer) are written in
one transaction; the idempotency key from the form makes a double tap or a retry return the first one.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from servicerw.accounts.services import PHONE_RE
from servicerw.core import db, i18n
from servicerw.core.addresses import valid_email
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.core.metrics import INQUIRIES
from servicerw.core.replicas import lag_tolerant
from servicerw.notifications.compose import queue_message
from servicerw.notifications.sms import SmsAlerts

CONTACT_METHODS = ("phone", "whatsapp", "email")
INBOX_STATUSES = ("new", "read", "replied", "closed")
NAME_MIN, NAME_MAX = 2, 120
MESSAGE_MIN, MESSAGE_MAX = 10, 2000
REPLY_MIN, REPLY_MAX = 2, 4000
PAGE_SIZE = 20
RESPONSE_WINDOW = timedelta(days=90)  # the median response time covers the replies of the last 90 days
RESPONSE_MIN_REPLIES = 3  # fewer replies than this: no median shown


@dataclass(frozen=True)
class InquiryForm:
    name: str
    phone: str
    email: str
    message: str
    preferred_contact: str
    key: uuid.UUID


@dataclass(frozen=True)
class SentInquiry:
    """What the confirmation of a sent inquiry shows (the page after sending, and the htmx fragment that
    replaces the form). Built by `sent_inquiry` only."""

    business_name: str
    slug: str
    customer_email: str
    message: str
    method: str  # how the business will answer, already translated ("phone call", "WhatsApp", "email")


def sent_inquiry(business_name: str, slug: str, email: str, message: str, contact: str) -> SentInquiry:
    """The confirmation of an inquiry: from the stored row, or from the form just sent (no second query)."""
    return SentInquiry(
        business_name=business_name, slug=slug, customer_email=email, message=message, method=method_label(contact)
    )


def method_label(method: str) -> str:
    return {"phone": _("phone call"), "whatsapp": _("WhatsApp"), "email": _("email")}.get(method, method)


def parse_key(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw.strip()[:36])
    except ValueError:
        return None


def contact_method(chosen: str, *, phone: str, email: str) -> str:
    """How the business answers: what the customer can be reached by. Only an email → email; only a phone →
    their phone choice (call or WhatsApp; "email" or nothing → call); both or neither → their choice (call by
    default). The form says "a phone number, an email address, or both": giving one never contradicts it."""
    if email and not phone:
        return "email" if chosen in CONTACT_METHODS or not chosen else chosen
    if phone and not email and chosen in ("email", ""):
        return "phone"
    return chosen or "phone"


def validate(data: dict[str, str]) -> InquiryForm:
    """Per-field messages, already translated; raises FormErrors."""
    name = " ".join(data.get("name", "").split())
    phone = data.get("phone", "").strip()
    email = data.get("email", "").strip().lower()
    message = data.get("message", "").strip().replace("\r\n", "\n")
    preferred = contact_method(data.get("preferred_contact", ""), phone=phone, email=email)
    key = parse_key(data.get("key", ""))
    errors: dict[str, str] = {}
    if not NAME_MIN <= len(name) <= NAME_MAX:
        errors["name"] = _("Write your name (%(min)d to %(max)d characters).", min=NAME_MIN, max=NAME_MAX)
    if not phone and not email:
        errors["phone"] = _("Give a phone number or an email address, so that the business can answer you.")
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = _("Write a phone number with 9 to 16 digits, like 0788 123 456.")
    if email:
        checked = valid_email(email)
        if checked is None:
            errors["email"] = _("Write an email address like name@example.com.")
        else:
            email = checked
    if not MESSAGE_MIN <= len(message) <= MESSAGE_MAX:
        errors["message"] = _(
            "Write a message of %(min)d to %(max)d characters (now %(n)d).",
            min=MESSAGE_MIN,
            max=MESSAGE_MAX,
            n=len(message),
        )
    if preferred not in CONTACT_METHODS:
        errors["preferred_contact"] = _("Choose how the business should contact you.")
    if key is None:
        errors["form"] = _("This form has expired. Please send it again.")
    if errors:
        raise FormErrors(errors)
    assert key is not None
    return InquiryForm(name, phone, email, message, preferred, key)


def _contact_lines(form: InquiryForm | dict) -> str:
    get = form.get if isinstance(form, dict) else lambda k: getattr(form, k)  # noqa: E731
    lines = []
    if get("phone"):
        lines.append(_("Phone: %(phone)s", phone=get("phone")))
    if get("email"):
        lines.append(_("Email: %(email)s", email=get("email")))
    return "\n".join(lines)


class InquiryService:
    def __init__(self, sms_alerts: SmsAlerts | None = None) -> None:
        """`sms_alerts`: the owners' new-message SMS, queued in the inquiry's transaction (None: no SMS)."""
        self.sms_alerts = sms_alerts

    # --- the customer's side ---------------------------------------------------------------------

    async def business_for_inquiry(self, slug: str) -> dict | None:
        """A public business that accepts messages."""
        row = await db.fetchrow(
            """SELECT id, slug, business_name FROM businesses
               WHERE slug = $1 AND status = 'approved' AND is_active""",
            slug,
        )
        return dict(row) if row else None

    async def create(self, business: dict, form: InquiryForm, language: str, base_url: str) -> tuple[dict, bool]:
        """The inquiry and its emails in one transaction. Returns (inquiry, created); a key seen before
        returns the first inquiry and writes nothing."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """INSERT INTO customer_inquiries (business_id, customer_name, customer_phone, customer_email,
                       message, preferred_contact, language, idempotency_key)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (idempotency_key) DO NOTHING
                   RETURNING id, business_id, created_at""",
                business["id"],
                form.name,
                form.phone,
                form.email,
                form.message,
                form.preferred_contact,
                language,
                form.key,
            )
            if row is None:  # the same form sent again: the first one stands
                existing = await conn.fetchrow(
                    "SELECT id, business_id, created_at FROM customer_inquiries WHERE idempotency_key = $1", form.key
                )
                if existing is None or existing["business_id"] != business["id"]:
                    raise FormErrors({"form": _("This form has expired. Please send it again.")})
                return dict(existing), False
            owner = await conn.fetchrow(
                """SELECT coalesce(nullif(u.email, ''), b.email) AS email,
                          coalesce(u.preferred_language, 'rw') AS language
                   FROM businesses b LEFT JOIN users u ON u.id = b.owner_id AND u.is_active WHERE b.id = $1""",
                business["id"],
            )
            inbox_link = f"{base_url}/dashboard/{business['id']}/inbox/{row['id']}"
            if owner and owner["email"]:
                with i18n.using(owner["language"]):
                    body = _(
                        "Hello,\n\n%(name)s sent a message to %(business)s on ServiceRW:\n\n%(text)s\n\n"
                        "%(contact)s\nPreferred contact: %(method)s\n\nAnswer from your inbox: %(link)s",
                        name=form.name,
                        business=business["business_name"],
                        text=form.message,
                        contact=_contact_lines(form),
                        method=method_label(form.preferred_contact),
                        link=inbox_link,
                    )
                    await queue_message(
                        conn,
                        to=owner["email"],
                        language=owner["language"],
                        kind="inquiry_business",
                        subject=_("New message from %(name)s", name=form.name),
                        body=body,
                    )
            if self.sms_alerts is not None:
                await self.sms_alerts.queue_inquiry_alert(
                    conn,
                    business_id=business["id"],
                    customer_name=form.name,
                    message=form.message,
                    link=inbox_link,
                    inbox_link=f"{base_url}/dashboard/{business['id']}/inbox",
                )
            if form.email:
                body = _(
                    "Hello %(name)s,\n\nYour message was sent to %(business)s:\n\n%(text)s\n\n"
                    "They will contact you by %(method)s. The business page: %(link)s",
                    name=form.name,
                    business=business["business_name"],
                    text=form.message,
                    method=method_label(form.preferred_contact),
                    link=f"{base_url}/b/{business['slug']}",
                )
                await queue_message(
                    conn,
                    to=form.email,
                    language=language,
                    kind="inquiry_customer",
                    subject=_("Your message to %(business)s was sent", business=business["business_name"]),
                    body=body,
                )
        INQUIRIES.inc()  # committed
        return dict(row), True

    async def sent(self, slug: str, key: uuid.UUID) -> SentInquiry | None:
        """The confirmation page of a sent inquiry (found by its unguessable key)."""
        row = await db.fetchrow(
            """SELECT i.customer_email, i.message, i.preferred_contact, b.business_name, b.slug
               FROM customer_inquiries i JOIN businesses b ON b.id = i.business_id
               WHERE i.idempotency_key = $1 AND b.slug = $2""",
            key,
            slug,
        )
        if row is None:
            return None
        return sent_inquiry(
            row["business_name"], row["slug"], row["customer_email"], row["message"], row["preferred_contact"]
        )

    # --- the owner's inbox -----------------------------------------------------------------------

    async def counts(self, business_id: int) -> dict[str, int]:
        rows = await db.fetch(
            "SELECT status, count(*) AS n FROM customer_inquiries WHERE business_id = $1 GROUP BY status",
            business_id,
        )
        counts = dict.fromkeys(INBOX_STATUSES, 0)
        counts.update({r["status"]: r["n"] for r in rows})
        counts["all"] = sum(counts[s] for s in INBOX_STATUSES)
        return counts

    async def unread(self, business_ids: list[int]) -> dict[int, int]:
        rows = await db.fetch(
            """SELECT business_id, count(*) AS n FROM customer_inquiries
               WHERE business_id = ANY($1::int[]) AND status = 'new' GROUP BY business_id""",
            business_ids,
        )
        return {r["business_id"]: r["n"] for r in rows}

    async def inbox(self, business_id: int, status: str, page: int) -> list[dict]:
        """One page of messages, newest first; status '' = all."""
        statuses = [status] if status in INBOX_STATUSES else list(INBOX_STATUSES)
        rows = await db.fetch(
            """SELECT id, customer_name, left(message, 140) AS preview, status, preferred_contact,
                      customer_phone, customer_email, created_at, replied_at
               FROM customer_inquiries
               WHERE business_id = $1 AND status = ANY($2::varchar[])
               ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4""",
            business_id,
            statuses,
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [dict(r) for r in rows]

    async def open(self, business_id: int, inquiry_id: int) -> dict | None:
        """One message; opening a new one marks it read."""
        async with db.engine().pool.acquire() as conn:
            row = await conn.fetchrow(
                """UPDATE customer_inquiries SET status = 'read', updated_at = now()
                   WHERE id = $1 AND business_id = $2 AND status = 'new'
                   RETURNING *""",
                inquiry_id,
                business_id,
            ) or await conn.fetchrow(
                "SELECT * FROM customer_inquiries WHERE id = $1 AND business_id = $2", inquiry_id, business_id
            )
        return dict(row) if row else None

    async def set_status(self, business_id: int, inquiry_id: int, status: str) -> bool:
        if status not in INBOX_STATUSES:
            return False
        result = await db.execute(
            "UPDATE customer_inquiries SET status = $3, updated_at = now() WHERE id = $1 AND business_id = $2",
            inquiry_id,
            business_id,
            status,
        )
        return result.endswith(" 1")

    async def reply(self, business: dict, inquiry_id: int, text: str, base_url: str) -> dict:
        """Email the reply to the customer (in the customer's language) and mark the message replied, in one
        transaction. Without a customer email there is nothing to send: the owner calls instead."""
        text = text.strip().replace("\r\n", "\n")
        if not REPLY_MIN <= len(text) <= REPLY_MAX:
            raise FormErrors(
                {"reply": _("Write a reply of %(min)d to %(max)d characters.", min=REPLY_MIN, max=REPLY_MAX)}
            )
        async with db.engine().pool.acquire() as conn, conn.transaction():
            inquiry = await conn.fetchrow(
                "SELECT * FROM customer_inquiries WHERE id = $1 AND business_id = $2 FOR UPDATE",
                inquiry_id,
                business["id"],
            )
            if inquiry is None:
                raise LookupError(inquiry_id)
            if not inquiry["customer_email"]:
                raise FormErrors({"reply": _("This customer left no email address: call or message them on WhatsApp.")})
            contact = await conn.fetchrow("SELECT phone, email FROM businesses WHERE id = $1", business["id"])
            with i18n.using(inquiry["language"]):
                body = _(
                    "Hello %(name)s,\n\n%(business)s answered your message:\n\n%(reply)s\n\n"
                    "Your message:\n%(text)s\n\n%(contact)s\nThe business page: %(link)s",
                    name=inquiry["customer_name"],
                    business=business["business_name"],
                    reply=text,
                    text="> " + inquiry["message"].replace("\n", "\n> "),
                    contact=_contact_lines(dict(contact)),
                    link=f"{base_url}/b/{business['slug']}",
                )
                await queue_message(
                    conn,
                    to=inquiry["customer_email"],
                    language=inquiry["language"],
                    kind="inquiry_reply",
                    subject=_("%(business)s answered your message", business=business["business_name"]),
                    body=body,
                )
            row = await conn.fetchrow(
                """UPDATE customer_inquiries SET status = 'replied', reply_text = $2, updated_at = now(),
                       replied_at = coalesce(replied_at, now())
                   WHERE id = $1 RETURNING *""",
                inquiry_id,
                text,
            )
        return dict(row)

    async def mark_replied(self, business_id: int, inquiry_id: int) -> bool:
        """The owner answered by phone or WhatsApp: count it as a reply (for the response time)."""
        result = await db.execute(
            """UPDATE customer_inquiries SET status = 'replied', updated_at = now(),
                   replied_at = coalesce(replied_at, now())
               WHERE id = $1 AND business_id = $2""",
            inquiry_id,
            business_id,
        )
        return result.endswith(" 1")

    # --- for the business profile --------------------------------------------------------------------

    @lag_tolerant
    async def median_response_minutes(self, business_id: int) -> float | None:
        """Median time to the first reply, in minutes, over the last 90 days (None with fewer than 3
        replies). The business profile shows it ("Usually replies within 3 hours")."""
        row = await db.fetchrow(
            """SELECT count(*) AS n,
                      extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY replied_at - created_at)) / 60
                          AS minutes
               FROM customer_inquiries
               WHERE business_id = $1 AND created_at >= now() - $2::interval AND replied_at IS NOT NULL""",
            business_id,
            RESPONSE_WINDOW,
        )
        if row is None or row["n"] < RESPONSE_MIN_REPLIES:
            return None
        return float(row["minutes"])


def response_time_text(minutes: float | None) -> str:
    """ "Usually replies within 3 hours", like Yelp's response time; empty without enough replies."""
    if minutes is None:
        return ""
    if minutes < 60:
        return _("Usually replies within an hour")
    hours = minutes / 60
    if hours < 24:
        return i18n.ngettext(
            "Usually replies within %(num)d hour", "Usually replies within %(num)d hours", math.ceil(hours)
        )
    return i18n.ngettext(
        "Usually replies within %(num)d day", "Usually replies within %(num)d days", math.ceil(hours / 24)
    )

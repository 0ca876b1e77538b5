"""Operators decide about listings: approve or reject new ones, apply or refuse edits to live ones, feature,
suspend and reactivate. Every decision is written with its audit entry (core/audit.py) and the owner's email
(the outbox) in one transaction, and the caches are invalidated once it has committed.

Listing states: `pending` (new, or resubmitted after a rejection: then `status_reason` still holds the
reason it was rejected for) → `approved` or `rejected`; `approved`/`pending` → `suspended` → `approved`.
Featuring has an end date (`featured_until`, the end of the chosen day in Kigali); a listing featured
until a past date is no longer featured anywhere (`BusinessService.featured` ignores it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from servicerw.core import audit, db, i18n
from servicerw.core.cache import Cache
from servicerw.core.forms import FormErrors, has_control_characters
from servicerw.core.i18n import gettext as _
from servicerw.core.i18n import pick
from servicerw.notifications.compose import queue_message

KIGALI = ZoneInfo("Africa/Kigali")
PAGE_SIZE = 30
REASON_MAX = 1000
MAX_FEATURE_DAYS = 366


# --- what leaves this domain ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChange:
    business_id: int
    slug: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class QueueCounts:
    new_listings: int
    changes: int


@dataclass(frozen=True, slots=True)
class PendingListing:
    """One listing in the queue of new listings."""

    id: int
    name: str
    category: str
    place: str
    owner_email: str
    created_at: datetime
    resubmitted: bool  # rejected before, corrected and sent again by the owner
    previous_reason: str


@dataclass(frozen=True, slots=True)
class ListingDecision:
    """What the operator's listing page shows above the preview."""

    id: int
    name: str
    slug: str
    status: str
    status_reason: str
    is_featured: bool
    featured_until: datetime | None
    featured_now: bool  # featured, and the end date (if any) not past
    owner_name: str
    owner_email: str
    created_at: datetime
    pending_change_id: int | None


@dataclass(frozen=True, slots=True)
class PendingChange:
    """One edit of a live listing waiting in the queue."""

    id: int
    business_id: int
    business_name: str
    fields: list[str]  # business_name / category / place
    owner_email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DiffRow:
    field: str  # business_name / category / place
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ChangeReview:
    """An edit of a live listing, old → new in words a person reads (names, not ids)."""

    id: int
    business_id: int
    business_name: str
    slug: str
    business_status: str
    status: str  # pending / approved / rejected / superseded
    owner_email: str
    created_at: datetime
    rows: list[DiffRow]


# --- input checks -----------------------------------------------------------------------------------


def clean_reason(value: object, field: str = "reason") -> str:
    """A reason an operator gives (shown to the owner): required, plain text without control characters."""
    text = value.strip() if isinstance(value, str) else ""
    if has_control_characters(text):
        raise FormErrors({field: _("Remove the control characters from the text.")}, 400)
    if len(text) < 3:
        raise FormErrors({field: _("Give the reason: the owner reads it.")})
    if len(text) > REASON_MAX:
        raise FormErrors({field: _("Keep the reason under %(n)d characters.", n=REASON_MAX)})
    return text


def parse_until(value: object, today: date | None = None) -> date:
    """The last day a listing is featured (YYYY-MM-DD): from today up to a year ahead."""
    today = today or datetime.now(KIGALI).date()
    try:
        if not isinstance(value, str) or not value.isascii():
            raise ValueError
        until = date.fromisoformat(value.strip())
    except ValueError:
        raise FormErrors({"until": _("Choose the last day, like %(example)s.", example=today.isoformat())}) from None
    if until < today:
        raise FormErrors({"until": _("The end date must be today or later.")})
    if until > today + timedelta(days=MAX_FEATURE_DAYS):
        raise FormErrors({"until": _("Feature a listing for a year at most.")})
    return until


def end_of_day(day: date) -> datetime:
    """Midnight after `day` in Kigali: featured through the whole of that day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=KIGALI)


# --- the service ------------------------------------------------------------------------------------

_BUSINESS_FOR_UPDATE = """
SELECT b.id, b.slug, b.business_name, b.status, b.status_reason, b.is_featured, b.featured_until,
       coalesce(nullif(u.email, ''), b.email) AS owner_email, coalesce(u.preferred_language, 'rw') AS language
FROM businesses b LEFT JOIN users u ON u.id = b.owner_id AND u.is_active
WHERE b.id = $1 FOR UPDATE OF b
"""


class ModerationService:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    # --- queues ---------------------------------------------------------------------------------

    async def counts(self) -> QueueCounts:
        row = await db.fetchrow(
            """SELECT (SELECT count(*) FROM businesses WHERE status = 'pending') AS listings,
                      (SELECT count(*) FROM business_changes WHERE status = 'pending') AS changes"""
        )
        return QueueCounts(row["listings"], row["changes"])

    async def pending_listings(self, lang: str, page: int = 1) -> list[PendingListing]:
        """Oldest first; one page (PAGE_SIZE, plus one more to tell whether there is a next page)."""
        rows = await db.fetch(
            """SELECT b.id, b.business_name, b.created_at, b.status_reason, l.name AS place, d.name AS district,
                      c.name_en, c.name_rw, c.name_fr, coalesce(u.email, b.email) AS owner_email
               FROM businesses b
               JOIN categories c ON c.id = b.category_id
               JOIN locations l ON l.id = b.location_id
               LEFT JOIN locations d ON d.id = l.district_id
               LEFT JOIN users u ON u.id = b.owner_id
               WHERE b.status = 'pending'
               ORDER BY b.created_at, b.id
               LIMIT $1 OFFSET $2""",
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [
            PendingListing(
                id=r["id"],
                name=r["business_name"],
                category=pick(lang, r["name_en"], r["name_rw"], r["name_fr"]),
                place=f"{r['place']}, {r['district']}" if r["district"] else r["place"],
                owner_email=r["owner_email"],
                created_at=r["created_at"],
                resubmitted=bool(r["status_reason"]),
                previous_reason=r["status_reason"],
            )
            for r in rows
        ]

    async def listing(self, business_id: int) -> ListingDecision | None:
        row = await db.fetchrow(
            """SELECT b.id, b.business_name, b.slug, b.status, b.status_reason, b.is_featured, b.featured_until,
                      b.is_featured AND (b.featured_until IS NULL OR b.featured_until > now()) AS featured_now,
                      b.created_at, coalesce(u.full_name, '') AS owner_name, coalesce(u.email, b.email) AS owner_email,
                      (SELECT min(id) FROM business_changes c WHERE c.business_id = b.id AND c.status = 'pending')
                          AS pending_change_id
               FROM businesses b LEFT JOIN users u ON u.id = b.owner_id
               WHERE b.id = $1""",
            business_id,
        )
        if row is None:
            return None
        return ListingDecision(
            id=row["id"],
            name=row["business_name"],
            slug=row["slug"],
            status=row["status"],
            status_reason=row["status_reason"],
            is_featured=row["is_featured"],
            featured_until=row["featured_until"],
            featured_now=row["featured_now"],
            owner_name=row["owner_name"],
            owner_email=row["owner_email"],
            created_at=row["created_at"],
            pending_change_id=row["pending_change_id"],
        )

    # --- decisions about a listing ----------------------------------------------------------------

    async def approve(self, business_id: int, actor_id: int, base_url: str) -> StatusChange | None:
        """A new (or resubmitted, or earlier rejected) listing goes public: in search, browse and its profile."""

        def email(b) -> tuple[str, str]:
            return (
                _("%(business)s is now on ServiceRW", business=b["business_name"]),
                _(
                    "Hello,\n\nGood news: %(business)s was approved and customers can now find it on ServiceRW:\n"
                    "%(link)s\n\nKeep your hours and photos up to date from your dashboard: %(dashboard)s",
                    business=b["business_name"],
                    link=f"{base_url}/b/{b['slug']}",
                    dashboard=f"{base_url}/dashboard",
                ),
            )

        return await self._set_status(
            business_id, actor_id, "approved", "", ("pending", "rejected"), "business.approve", email
        )

    async def reject(self, business_id: int, actor_id: int, reason: str, base_url: str) -> StatusChange | None:
        reason = clean_reason(reason)

        def email(b) -> tuple[str, str]:
            return (
                _("%(business)s was not approved yet", business=b["business_name"]),
                _(
                    "Hello,\n\nWe checked %(business)s and could not publish it yet, for this reason:\n\n"
                    "%(reason)s\n\nCorrect the listing and save it: it will be checked again.\n%(link)s",
                    business=b["business_name"],
                    reason=reason,
                    link=f"{base_url}/dashboard/{b['id']}/edit",
                ),
            )

        return await self._set_status(business_id, actor_id, "rejected", reason, ("pending",), "business.reject", email)

    async def suspend(self, business_id: int, actor_id: int, reason: str, base_url: str = "") -> StatusChange | None:
        """A suspended listing leaves search, browse and suggestions at once; its profile answers 410. The reason
        is required (FormErrors otherwise: the owner is emailed it); None if the listing does not exist or is
        neither approved nor pending."""
        reason = clean_reason(reason)

        def email(b) -> tuple[str, str]:
            return (
                _("%(business)s is suspended", business=b["business_name"]),
                _(
                    "Hello,\n\n%(business)s is suspended: customers no longer find it on ServiceRW. The reason:\n\n"
                    "%(reason)s\n\nAnswer this email if you think this is a mistake.",
                    business=b["business_name"],
                    reason=reason,
                ),
            )

        return await self._set_status(
            business_id, actor_id, "suspended", reason, ("approved", "pending"), "business.suspend", email
        )

    async def reactivate(
        self, business_id: int, actor_id: int, note: str = "", base_url: str = ""
    ) -> StatusChange | None:
        def email(b) -> tuple[str, str]:
            return (
                _("%(business)s is listed again", business=b["business_name"]),
                _(
                    "Hello,\n\n%(business)s is listed on ServiceRW again:\n%(link)s",
                    business=b["business_name"],
                    link=f"{base_url}/b/{b['slug']}",
                ),
            )

        return await self._set_status(
            business_id, actor_id, "approved", "", ("suspended",), "business.reactivate", email, note=note
        )

    async def _set_status(
        self,
        business_id: int,
        actor_id: int,
        status: str,
        reason: str,
        allowed_from: tuple[str, ...],
        action: str,
        email: Callable | None = None,
        note: str = "",
    ) -> StatusChange | None:
        """Move a business from one of `allowed_from` to `status`, with the audit entry and the owner's email
        in the same transaction. None (and nothing written) if it does not exist or is in another state."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_BUSINESS_FOR_UPDATE, business_id)
            if row is None or row["status"] not in allowed_from:
                return None
            await conn.execute(
                "UPDATE businesses SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1",
                business_id,
                status,
                reason,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action=action,
                target_type="business",
                target_id=business_id,
                before={"status": row["status"], "status_reason": row["status_reason"]},
                after={"status": status, "status_reason": reason},
                note=reason or note,
            )
            if email is not None:
                await _tell_owner(conn, row, action.replace(".", "_"), email)
        await self.cache.invalidate_business(row["slug"])
        return StatusChange(business_id, row["slug"], row["status"], status)

    async def feature(self, business_id: int, actor_id: int, until: str) -> StatusChange | None:
        """Featured on the home page through the end of `until` (YYYY-MM-DD, Kigali); published listings only."""
        last_day = parse_until(until)
        ends = end_of_day(last_day)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_BUSINESS_FOR_UPDATE, business_id)
            if row is None:
                return None
            if row["status"] != "approved":
                raise FormErrors({"until": _("Only a published listing can be featured.")}, 409)
            await conn.execute(
                "UPDATE businesses SET is_featured = true, featured_until = $2, updated_at = now() WHERE id = $1",
                business_id,
                ends,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="business.feature",
                target_type="business",
                target_id=business_id,
                before={"is_featured": row["is_featured"], "featured_until": row["featured_until"]},
                after={"is_featured": True, "featured_until": ends},
            )
        await self.cache.invalidate_business(row["slug"])
        return StatusChange(business_id, row["slug"], row["status"], row["status"])

    async def unfeature(self, business_id: int, actor_id: int) -> StatusChange | None:
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_BUSINESS_FOR_UPDATE, business_id)
            if row is None:
                return None
            await conn.execute(
                "UPDATE businesses SET is_featured = false, featured_until = NULL, updated_at = now() WHERE id = $1",
                business_id,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="business.unfeature",
                target_type="business",
                target_id=business_id,
                before={"is_featured": row["is_featured"], "featured_until": row["featured_until"]},
                after={"is_featured": False, "featured_until": None},
            )
        await self.cache.invalidate_business(row["slug"])
        return StatusChange(business_id, row["slug"], row["status"], row["status"])

    # --- edits of live listings -----------------------------------------------------------------

    async def pending_changes(self, page: int = 1) -> list[PendingChange]:
        """Oldest first; one page (PAGE_SIZE, plus one more to tell whether there is a next page)."""
        rows = await db.fetch(
            """SELECT c.id, c.business_id, c.changes, c.created_at, b.business_name, u.email AS owner_email
               FROM business_changes c JOIN businesses b ON b.id = c.business_id JOIN users u ON u.id = c.user_id
               WHERE c.status = 'pending'
               ORDER BY c.created_at, c.id
               LIMIT $1 OFFSET $2""",
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [
            PendingChange(
                id=r["id"],
                business_id=r["business_id"],
                business_name=r["business_name"],
                fields=[_FIELD_NAMES[k] for k in _changes(r["changes"]) if k in _FIELD_NAMES],
                owner_email=r["owner_email"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def change(self, change_id: int, lang: str) -> ChangeReview | None:
        row = await db.fetchrow(
            """SELECT c.id, c.business_id, c.changes, c.status, c.created_at, b.business_name, b.slug,
                      b.status AS business_status, b.category_id, b.location_id, u.email AS owner_email
               FROM business_changes c JOIN businesses b ON b.id = c.business_id JOIN users u ON u.id = c.user_id
               WHERE c.id = $1""",
            change_id,
        )
        if row is None:
            return None
        changes = _changes(row["changes"])
        rows = []
        if "business_name" in changes:
            rows.append(DiffRow("business_name", row["business_name"], str(changes["business_name"])))
        if "category_id" in changes:
            rows.append(
                DiffRow(
                    "category",
                    await _category_name(row["category_id"], lang),
                    await _category_name(changes["category_id"], lang),
                )
            )
        if "location_id" in changes:
            rows.append(
                DiffRow("place", await _place_name(row["location_id"]), await _place_name(changes["location_id"]))
            )
        return ChangeReview(
            id=row["id"],
            business_id=row["business_id"],
            business_name=row["business_name"],
            slug=row["slug"],
            business_status=row["business_status"],
            status=row["status"],
            owner_email=row["owner_email"],
            created_at=row["created_at"],
            rows=rows,
        )

    async def approve_change(self, change_id: int, actor_id: int, base_url: str) -> StatusChange | None:
        """Applies the edit: the business row updated and the change marked approved in one transaction (with
        the audit entry and the owner's email); profile and search caches dropped once committed."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            change = await _lock_pending_change(conn, change_id)
            if change is None:
                return None
            business = await conn.fetchrow(_BUSINESS_FOR_UPDATE, change["business_id"])
            new = {k: v for k, v in _changes(change["changes"]).items() if k in _FIELD_NAMES}
            before = dict(
                await conn.fetchrow(
                    "SELECT business_name, category_id, location_id FROM businesses WHERE id = $1", business["id"]
                )
            )
            if new.get("category_id") is not None and not await conn.fetchval(
                "SELECT 1 FROM categories WHERE id = $1 AND parent_id IS NOT NULL", new["category_id"]
            ):
                raise FormErrors({"form": _("The new category no longer exists.")}, 409)
            if new.get("location_id") is not None and not await conn.fetchval(
                "SELECT 1 FROM locations WHERE id = $1", new["location_id"]
            ):
                raise FormErrors({"form": _("The new place no longer exists.")}, 409)
            if new:
                columns = list(new)
                await conn.execute(
                    f"""UPDATE businesses SET {", ".join(f"{k} = ${i}" for i, k in enumerate(columns, start=2))},
                               updated_at = now() WHERE id = $1""",
                    business["id"],
                    *[new[k] for k in columns],
                )
            await conn.execute(
                """UPDATE business_changes SET status = 'approved', reviewed_at = now(), reviewed_by = $2
                   WHERE id = $1""",
                change_id,
                actor_id,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="business_change.approve",
                target_type="business",
                target_id=business["id"],
                before={k: before[k] for k in new},
                after=new,
                note=f"change {change_id}",
            )
            name = new.get("business_name", business["business_name"])

            def email(b) -> tuple[str, str]:
                return (
                    _("Your changes to %(business)s are published", business=name),
                    _(
                        "Hello,\n\nWe checked your changes to %(business)s: they are now on ServiceRW.\n%(link)s",
                        business=name,
                        link=f"{base_url}/b/{b['slug']}",
                    ),
                )

            await _tell_owner(conn, business, "change_approved", email)
        await self.cache.invalidate_business(business["slug"])
        return StatusChange(business["id"], business["slug"], "pending", "approved")

    async def reject_change(self, change_id: int, actor_id: int, reason: str, base_url: str) -> StatusChange | None:
        reason = clean_reason(reason)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            change = await _lock_pending_change(conn, change_id)
            if change is None:
                return None
            business = await conn.fetchrow(_BUSINESS_FOR_UPDATE, change["business_id"])
            await conn.execute(
                """UPDATE business_changes SET status = 'rejected', reviewed_at = now(), reviewed_by = $2
                   WHERE id = $1""",
                change_id,
                actor_id,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="business_change.reject",
                target_type="business",
                target_id=business["id"],
                before={"change": change_id, "status": "pending"},
                after={"change": change_id, "status": "rejected"},
                note=reason,
            )

            def email(b) -> tuple[str, str]:
                return (
                    _("Your changes to %(business)s were not published", business=b["business_name"]),
                    _(
                        "Hello,\n\nWe checked the new name, category or place you gave %(business)s and could not "
                        "publish it, for this reason:\n\n%(reason)s\n\nYour listing keeps its current details. "
                        "You can edit it again from your dashboard: %(link)s",
                        business=b["business_name"],
                        reason=reason,
                        link=f"{base_url}/dashboard/{b['id']}/edit",
                    ),
                )

            await _tell_owner(conn, business, "change_rejected", email)
        return StatusChange(business["id"], business["slug"], "pending", "rejected")


_FIELD_NAMES = {"business_name": "business_name", "category_id": "category", "location_id": "place"}


def _changes(value) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})


async def _lock_pending_change(conn, change_id: int):
    """The change row, locked; None if it does not exist, FormErrors (409) if it was decided already."""
    change = await conn.fetchrow(
        "SELECT id, business_id, changes, status FROM business_changes WHERE id = $1 FOR UPDATE", change_id
    )
    if change is None:
        return None
    if change["status"] != "pending":
        raise FormErrors({"form": _("This change was already decided or replaced by a newer one.")}, 409)
    return change


async def _category_name(category_id, lang: str) -> str:
    row = await db.fetchrow(
        """SELECT c.name_en, c.name_rw, c.name_fr, p.name_en AS pen, p.name_rw AS prw, p.name_fr AS pfr
           FROM categories c LEFT JOIN categories p ON p.id = c.parent_id WHERE c.id = $1""",
        category_id if isinstance(category_id, int) else None,
    )
    if row is None:
        return "—"
    name = pick(lang, row["name_en"], row["name_rw"], row["name_fr"])
    parent = pick(lang, row["pen"], row["prw"], row["pfr"]) if row["pen"] else ""
    return f"{parent} › {name}" if parent else name


async def _place_name(location_id) -> str:
    row = await db.fetchrow(
        """SELECT l.name, s.name AS sector, d.name AS district
           FROM locations l LEFT JOIN locations s ON s.id = l.sector_id AND l.level = 'cell'
           LEFT JOIN locations d ON d.id = l.district_id WHERE l.id = $1""",
        location_id if isinstance(location_id, int) else None,
    )
    if row is None:
        return "—"
    return ", ".join(part for part in (row["name"], row["sector"], row["district"]) if part)


async def _tell_owner(conn, business, kind: str, compose: Callable) -> None:
    """The owner's email, in their language, written to the outbox in the caller's transaction (no email
    when the listing has neither an owner's nor its own address)."""
    if not business["owner_email"]:
        return
    with i18n.using(business["language"]):
        subject, body = compose(business)
        await queue_message(
            conn, to=business["owner_email"], subject=subject, body=body, language=business["language"], kind=kind
        )

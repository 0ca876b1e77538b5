"""Abuse reports: anyone (logged in or not) reports a public listing or one of its published reviews, with a
reason from a fixed list and a few words; operators work through the queue and resolve each report by
hiding the review, suspending the listing, or dismissing it.

A resolution marks the report (and, if asked, every other open report about the same review or listing)
resolved — by whom, when, how — and writes an audit entry per report in the same transaction. Hiding a
review happens in that transaction too (`ReviewService.hide`, which recomputes the rating with the business
row locked); the cached profile is dropped once it has committed. Suspending goes through
`ModerationService.suspend`, which commits the listing's new status with its own audit entry first; the
reports are resolved right after. Should that second step fail, the listing is suspended and the report
still open: resolving it again finds the listing suspended and completes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from servicerw.core import audit, db
from servicerw.core.cache import Cache
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.moderation.services import ModerationService
from servicerw.reviews.services import ReviewService

REASONS = ("spam", "wrong_info", "offensive", "fraud", "closed", "other")
KINDS = ("business", "review")
DETAILS_MAX = 1000
OTHER_MIN = 10  # "other" needs a few words saying what is wrong
NOTE_MAX = 500
PAGE_SIZE = 20
ACTIONS = {"hide": "hidden", "suspend": "suspended", "dismiss": "dismissed"}
QUEUE_STATUSES = ("open", "resolved")
_ALLOWED_CONTROLS = {"\n", "\t"}


def reason_label(reason: str) -> str:
    return {
        "spam": _("Spam or advertising"),
        "wrong_info": _("Wrong information"),
        "offensive": _("Offensive or abusive"),
        "fraud": _("Fraud or scam"),
        "closed": _("Closed or does not exist"),
        "other": _("Something else"),
    }.get(reason, reason)


def resolution_label(resolution: str | None) -> str:
    return {
        "hidden": _("Resolved: review hidden"),
        "suspended": _("Resolved: listing suspended"),
        "dismissed": _("Resolved: dismissed"),
    }.get(resolution or "", "")


def has_control_characters(text: str) -> bool:
    """NUL and other control characters (PostgreSQL text cannot even hold NUL): refused, never stored."""
    return any((ord(c) < 32 and c not in _ALLOWED_CONTROLS) or ord(c) == 127 for c in text)


def clean_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@dataclass(frozen=True, slots=True)
class ReportForm:
    reason: str
    details: str


def validate(reason: str, details: str) -> ReportForm:
    """Per-field messages, already translated; raises FormErrors (422)."""
    details = clean_text(details)
    errors: dict[str, str] = {}
    if reason not in REASONS:
        errors["reason"] = _("Choose what is wrong.")
    if has_control_characters(details):
        errors["details"] = _("Remove the invisible control characters from the text.")
    elif len(details) > DETAILS_MAX:
        errors["details"] = _("Write at most %(max)d characters (now %(n)d).", max=DETAILS_MAX, n=len(details))
    elif reason == "other" and len(details) < OTHER_MIN:
        errors["details"] = _("Say in a few words what is wrong (at least %(min)d characters).", min=OTHER_MIN)
    if errors:
        raise FormErrors(errors)
    return ReportForm(reason, details)


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """What a visitor is reporting: a public listing, or one of its published reviews."""

    kind: str  # business | review
    business_id: int
    slug: str
    business_name: str
    review_id: int | None = None
    review_author: str = ""
    review_rating: int = 0
    review_body: str = ""

    @property
    def path(self) -> str:
        """The report form's address."""
        if self.review_id is None:
            return f"/b/{self.slug}/report"
        return f"/b/{self.slug}/reviews/{self.review_id}/report"


@dataclass(frozen=True, slots=True)
class ReportCounts:
    open_business: int
    open_review: int
    resolved: int

    @property
    def open(self) -> int:
        return self.open_business + self.open_review


@dataclass(frozen=True, slots=True)
class Report:
    """A report as operators see it, with its target's current state."""

    id: int
    kind: str
    reason: str
    details: str
    created_at: datetime
    status: str
    resolution: str | None
    resolution_note: str
    resolved_at: datetime | None
    resolved_by: str  # the operator's email
    reporter: str  # the reporter's email; "" when anonymous
    business_id: int
    business_name: str
    slug: str
    business_status: str
    review_id: int | None
    review_body: str
    review_rating: int
    review_status: str
    review_author: str
    same_target_open: int = 0  # other open reports about the same review or listing (detail only)

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

    @property
    def resolution_label(self) -> str:
        return resolution_label(self.resolution)


@dataclass(frozen=True, slots=True)
class Resolution:
    report_id: int
    resolution: str
    resolved: int  # reports resolved (this one and the others about the same target)
    slug: str


_REPORT_COLUMNS = """r.id, r.kind, r.reason, r.details, r.created_at, r.status, r.resolution, r.resolution_note,
    r.resolved_at, coalesce(op.email, '') AS resolved_by, coalesce(rep.email, '') AS reporter,
    b.id AS business_id, b.business_name, b.slug, b.status AS business_status, r.review_id,
    coalesce(rv.body, '') AS review_body, coalesce(rv.rating, 0) AS review_rating,
    coalesce(rv.status, '') AS review_status, coalesce(ru.full_name, '') AS review_author"""
_REPORT_JOINS = """FROM reports r JOIN businesses b ON b.id = r.business_id
    LEFT JOIN reviews rv ON rv.id = r.review_id LEFT JOIN users ru ON ru.id = rv.user_id
    LEFT JOIN users rep ON rep.id = r.reporter_id LEFT JOIN users op ON op.id = r.resolved_by_id"""


async def _value(sql: str, *args):
    row = await db.fetchrow(sql, *args)
    return None if row is None else row[0]


def _report(row, same_target_open: int = 0) -> Report:
    return Report(**dict(row), same_target_open=same_target_open)


class ReportService:
    def __init__(self, cache: Cache, reviews: ReviewService, moderation: ModerationService) -> None:
        self.cache = cache
        self.reviews = reviews
        self.moderation = moderation

    # --- the visitor's side -----------------------------------------------------------------------

    async def target(self, slug: str, review_id: int | None = None) -> ReportTarget | None:
        """A public listing, or a published review of it; None for anything else."""
        if "\x00" in slug:
            return None
        business = await db.fetchrow(
            "SELECT id, slug, business_name FROM businesses WHERE slug = $1 AND status = 'approved' AND is_active",
            slug,
        )
        if business is None:
            return None
        if review_id is None:
            return ReportTarget("business", business["id"], business["slug"], business["business_name"])
        review = await db.fetchrow(
            """SELECT r.id, r.rating, r.body,
                      split_part(u.full_name, ' ', 1)
                      || coalesce(' ' || nullif(left(split_part(u.full_name, ' ', 2), 1), '') || '.', '') AS author
               FROM reviews r JOIN users u ON u.id = r.user_id
               WHERE r.id = $1 AND r.business_id = $2 AND r.status = 'approved'""",
            review_id,
            business["id"],
        )
        if review is None:
            return None
        return ReportTarget(
            "review",
            business["id"],
            business["slug"],
            business["business_name"],
            review["id"],
            review["author"],
            review["rating"],
            review["body"],
        )

    async def create(self, target: ReportTarget, form: ReportForm, reporter_id: int | None, language: str) -> int:
        return await _value(
            """INSERT INTO reports (kind, business_id, review_id, reason, details, reporter_id, language, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') RETURNING id""",
            target.kind,
            target.business_id,
            target.review_id,
            form.reason,
            form.details,
            reporter_id,
            language,
        )

    # --- the operators' queue ---------------------------------------------------------------------

    async def counts(self) -> ReportCounts:
        row = await db.fetchrow(
            """SELECT count(*) FILTER (WHERE status = 'open' AND kind = 'business') AS open_business,
                      count(*) FILTER (WHERE status = 'open' AND kind = 'review') AS open_review,
                      count(*) FILTER (WHERE status = 'resolved') AS resolved
               FROM reports"""
        )
        return ReportCounts(row["open_business"], row["open_review"], row["resolved"])

    async def open_count(self) -> int:
        return await _value("SELECT count(*) FROM reports WHERE status = 'open'")

    async def queue(self, status: str, kind: str, page: int) -> list[Report]:
        """One page (plus one more: tells whether there is a next page). Open reports oldest first (the
        longest waiting on top); resolved ones most recently resolved first."""
        order = "r.created_at, r.id" if status == "open" else "r.resolved_at DESC, r.id DESC"
        rows = await db.fetch(
            f"""SELECT {_REPORT_COLUMNS} {_REPORT_JOINS}
                WHERE r.status = $1 AND ($2 = '' OR r.kind = $2)
                ORDER BY {order} LIMIT $3 OFFSET $4""",
            status,
            kind,
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [_report(r) for r in rows]

    async def get(self, report_id: int) -> Report | None:
        row = await db.fetchrow(f"SELECT {_REPORT_COLUMNS} {_REPORT_JOINS} WHERE r.id = $1", report_id)
        if row is None:
            return None
        others = await _value(
            """SELECT count(*) FROM reports
               WHERE status = 'open' AND id <> $1 AND business_id = $2 AND kind = $3
                 AND review_id IS NOT DISTINCT FROM $4""",
            report_id,
            row["business_id"],
            row["kind"],
            row["review_id"],
        )
        return _report(row, others)

    async def resolve(self, report_id: int, action: str, actor_id: int, note: str, same_target: bool) -> Resolution:
        """Hide the review, suspend the listing or dismiss; `same_target` resolves the other open reports
        about the same review (or listing) the same way. LookupError for an unknown report; FormErrors for
        one already resolved (409) or an action that does not fit it (422)."""
        note = clean_text(note)
        if has_control_characters(note) or len(note) > NOTE_MAX:
            raise FormErrors(
                {"note": _("Write a note of at most %(max)d characters, without control characters.", max=NOTE_MAX)}
            )
        resolution = ACTIONS[action]
        report = await self.get(report_id)
        if report is None:
            raise LookupError(report_id)
        if report.status != "open":
            raise FormErrors({"form": _("This report was already resolved.")}, status=409)
        if action == "hide" and report.kind != "review":
            raise FormErrors({"form": _("Only a report about a review can hide a review.")})
        if action == "suspend":
            if not note:
                raise FormErrors({"note": _("Give the reason for suspending the listing: its owner will see it.")})
            change = await self.moderation.suspend(report.business_id, actor_id, note)
            if change is None and await self._business_status(report.business_id) != "suspended":
                raise FormErrors({"form": _("This listing cannot be suspended in its present state.")}, status=409)
        hidden = None
        async with db.engine().pool.acquire() as conn, conn.transaction():
            if action == "hide":
                # Business row, then review, then reports: the order ReviewService.moderate locks in too.
                hidden = await self.reviews.hide(conn, report.review_id)
                if hidden is None:
                    raise LookupError(report_id)
                if hidden.before != "hidden":
                    await audit.record(
                        conn,
                        actor_id=actor_id,
                        action="review.hide",
                        target_type="review",
                        target_id=hidden.review_id,
                        before={"status": hidden.before},
                        after={"status": "hidden"},
                        note=note or f"report {report_id}",
                    )
            resolved = await self._mark_resolved(conn, report, resolution, actor_id, note, same_target)
        if hidden is not None:
            await self.cache.invalidate_business(hidden.slug)
        return Resolution(report_id, resolution, resolved, report.slug)

    @staticmethod
    async def _business_status(business_id: int) -> str | None:
        return await _value("SELECT status FROM businesses WHERE id = $1", business_id)

    @staticmethod
    async def _mark_resolved(conn, report: Report, resolution: str, actor_id: int, note: str, same_target: bool) -> int:
        rows = await conn.fetch(
            """SELECT id FROM reports
               WHERE id = $1 OR ($2 AND status = 'open' AND business_id = $3 AND kind = $4
                                 AND review_id IS NOT DISTINCT FROM $5)
               ORDER BY id FOR UPDATE""",
            report.id,
            same_target,
            report.business_id,
            report.kind,
            report.review_id,
        )
        ids = [r["id"] for r in rows]
        updated = await conn.fetch(
            """UPDATE reports SET status = 'resolved', resolution = $2, resolution_note = $3, resolved_by_id = $4,
                      resolved_at = now()
               WHERE id = ANY($1::int[]) AND status = 'open' RETURNING id""",
            ids,
            resolution,
            note,
            actor_id,
        )
        done = {r["id"] for r in updated}
        if report.id not in done:  # resolved meanwhile by another operator: nothing of this is kept
            raise FormErrors({"form": _("This report was already resolved.")}, status=409)
        for resolved_id in sorted(done):
            await audit.record(
                conn,
                actor_id=actor_id,
                action="report.resolve",
                target_type="report",
                target_id=resolved_id,
                before={"status": "open"},
                after={"status": "resolved", "resolution": resolution},
                note=note if resolved_id == report.id else f"{note} (with report {report.id})".strip(),
            )
        return len(done)

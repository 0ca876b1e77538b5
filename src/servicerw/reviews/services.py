"""Reviews: one per customer per business, 1-5 stars and a text, published after moderation; the owner
answers once, publicly. `businesses.average_rating` / `review_count` are recomputed from the approved
reviews inside the transaction that changes them, with the business row locked first, so concurrent
moderation can never leave them out of step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from servicerw.core import audit, db, i18n
from servicerw.core.cache import Cache
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.core.replicas import lag_tolerant, on_primary
from servicerw.notifications.compose import queue_message

BODY_MIN, BODY_MAX = 10, 2000
REPLY_MIN, REPLY_MAX = 2, 2000
PAGE_SIZE = 20
LATEST = 5  # reviews shown on the profile itself
DECISIONS = {"approve": "approved", "reject": "rejected"}

_PUBLIC_COLUMNS = """r.id, r.rating, r.body, r.created_at, r.owner_reply, r.owner_replied_at,
    split_part(u.full_name, ' ', 1) || coalesce(' ' || nullif(left(split_part(u.full_name, ' ', 2), 1), '') || '.', '')
        AS author"""


@dataclass(frozen=True)
class HiddenReview:
    """A review taken off the profile by an operator (after an abuse report); `before` is its former status."""

    review_id: int
    business_id: int
    slug: str
    before: str


@dataclass(frozen=True)
class Moderated:
    business_id: int
    slug: str
    status: str


class ReviewSummary(msgspec.Struct, frozen=True):
    """A published review as the public sees it (the author as "First L."). The business profile reads
    the newest ones through `ReviewService.latest`."""

    id: int
    rating: int
    body: str
    created_at: datetime
    owner_reply: str | None
    owner_replied_at: datetime | None
    author: str


class Standing(msgspec.Struct, frozen=True):
    """What a logged-in user may do on a business's profile: nothing if they own it; else write a review,
    unless they already did (`review_status`: pending, approved or rejected)."""

    is_owner: bool
    review_status: str | None


def _rows(rows) -> list[dict]:
    return [dict(r) for r in rows]


def _summaries(rows) -> list[ReviewSummary]:
    return [ReviewSummary(**dict(r)) for r in rows]


def validate(rating_raw: str, body: str) -> tuple[int, str]:
    errors = {}
    rating = int(rating_raw) if rating_raw.isascii() and rating_raw.isdigit() and len(rating_raw) == 1 else 0
    if not 1 <= rating <= 5:
        errors["rating"] = _("Choose from 1 to 5 stars.")
    body = body.strip().replace("\r\n", "\n")
    if not BODY_MIN <= len(body) <= BODY_MAX:
        errors["body"] = _(
            "Write %(min)d to %(max)d characters about your experience (now %(n)d).",
            min=BODY_MIN,
            max=BODY_MAX,
            n=len(body),
        )
    if errors:
        raise FormErrors(errors)
    return rating, body


class ReviewService:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @lag_tolerant
    async def latest(self, business_id: int, limit: int = LATEST) -> list[ReviewSummary]:
        """The newest approved reviews of a business (for its profile)."""
        return _summaries(
            await db.fetch(
                f"""SELECT {_PUBLIC_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE r.business_id = $1 AND r.status = 'approved' ORDER BY r.created_at DESC LIMIT $2""",
                business_id,
                limit,
            )
        )

    @lag_tolerant
    async def latest_many(self, business_ids: list[int], limit: int = LATEST) -> dict[int, list[ReviewSummary]]:
        """The newest approved reviews of each of these businesses, in one query (the API's batched reads)."""
        if not business_ids:
            return {}
        rows = await db.fetch(
            f"""SELECT b.id AS business_id, x.* FROM unnest($1::int[]) AS b(id)
                CROSS JOIN LATERAL (
                    SELECT {_PUBLIC_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE r.business_id = b.id AND r.status = 'approved'
                    ORDER BY r.created_at DESC, r.id DESC LIMIT $2) x""",
            business_ids,
            limit,
        )
        found: dict[int, list[ReviewSummary]] = {business_id: [] for business_id in business_ids}
        for row in rows:
            values = dict(row)
            found[values.pop("business_id")].append(ReviewSummary(**values))
        return found

    @lag_tolerant
    async def page(self, business_id: int, page: int) -> list[ReviewSummary]:
        """Approved reviews, newest first (one more than a page: tells whether there is a next page)."""
        return _summaries(
            await db.fetch(
                f"""SELECT {_PUBLIC_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE r.business_id = $1 AND r.status = 'approved'
                    ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3""",
                business_id,
                PAGE_SIZE + 1,
                (page - 1) * PAGE_SIZE,
            )
        )

    @on_primary
    async def standing(self, business_id: int, user_id: int) -> Standing:
        """What this user may do on this business's profile: write a review, see theirs, or nothing (owner)."""
        row = await db.fetchrow(
            """SELECT b.owner_id = $2 AS is_owner, r.status
               FROM businesses b LEFT JOIN reviews r ON r.business_id = b.id AND r.user_id = $2
               WHERE b.id = $1""",
            business_id,
            user_id,
        )
        if row is None:
            return Standing(is_owner=False, review_status=None)
        return Standing(is_owner=bool(row["is_owner"]), review_status=row["status"])

    async def submit(self, business_id: int, user_id: int, rating_raw: str, body: str, language: str) -> None:
        """A new review, pending until moderated."""
        rating, body = validate(rating_raw, body)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            owner_id = await conn.fetchval(
                "SELECT owner_id FROM businesses WHERE id = $1 AND status = 'approved' AND is_active", business_id
            )
            if owner_id == user_id:
                raise FormErrors({"form": _("You cannot review your own business.")}, status=403)
            try:
                await conn.execute(
                    """INSERT INTO reviews (business_id, user_id, rating, body, language, status)
                       VALUES ($1, $2, $3, $4, $5, 'pending')""",
                    business_id,
                    user_id,
                    rating,
                    body,
                    language,
                )
            except asyncpg.UniqueViolationError as error:
                raise FormErrors({"form": _("You have already reviewed this business.")}, status=409) from error

    # --- moderation (administrators) --------------------------------------------------------------

    async def pending(self, page: int) -> list[dict]:
        return _rows(
            await db.fetch(
                """SELECT r.id, r.rating, r.body, r.created_at, u.full_name, u.email, b.business_name, b.slug
                   FROM reviews r JOIN users u ON u.id = r.user_id JOIN businesses b ON b.id = r.business_id
                   WHERE r.status = 'pending' ORDER BY r.created_at, r.id LIMIT $1 OFFSET $2""",
                PAGE_SIZE + 1,
                (page - 1) * PAGE_SIZE,
            )
        )

    async def pending_count(self) -> int:
        row = await db.fetchrow("SELECT count(*) AS n FROM reviews WHERE status = 'pending'")
        return row["n"] if row else 0

    async def moderate(
        self, review_id: int, decision: str, base_url: str, actor_id: int | None = None
    ) -> Moderated | None:
        """Approve or reject a review and recompute the business's rating in the same transaction. The
        business row is locked before anything else: a concurrent moderation of another review of the
        same business waits, then recomputes from a snapshot that includes this one. Once committed, the
        business's cached profile and search results are dropped."""
        moderated = await self._moderate(review_id, DECISIONS[decision], base_url, actor_id)
        if moderated is not None:
            await self.cache.invalidate_business(moderated.slug)
        return moderated

    async def _moderate(self, review_id: int, status: str, base_url: str, actor_id: int | None) -> Moderated | None:
        async with db.engine().pool.acquire() as conn, conn.transaction():
            business_id = await conn.fetchval("SELECT business_id FROM reviews WHERE id = $1", review_id)
            if business_id is None:
                return None
            business = await conn.fetchrow(
                """SELECT b.id, b.slug, b.business_name, coalesce(nullif(u.email, ''), b.email) AS email,
                          coalesce(u.preferred_language, 'rw') AS language
                   FROM businesses b LEFT JOIN users u ON u.id = b.owner_id AND u.is_active
                   WHERE b.id = $1 FOR UPDATE OF b""",
                business_id,
            )
            review = await conn.fetchrow(
                """SELECT r.status, r.rating, r.body, u.email, u.preferred_language AS language, u.is_active
                   FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.id = $1 FOR UPDATE OF r""",
                review_id,
            )
            if review["status"] == status:  # already decided so
                return Moderated(business_id, business["slug"], status)
            await conn.execute("UPDATE reviews SET status = $2, updated_at = now() WHERE id = $1", review_id, status)
            await audit.record(
                conn,
                actor_id=actor_id,
                action=f"review.{'approve' if status == 'approved' else 'reject'}",
                target_type="review",
                target_id=review_id,
                before={"status": review["status"]},
                after={"status": status},
            )
            await self._recompute(conn, business_id)
            if review["status"] == "pending" and review["is_active"]:  # the reviewer learns the first decision
                await self._tell_reviewer(conn, review, business, status, base_url)
            if status == "approved" and business["email"]:
                with i18n.using(business["language"]):
                    body = _(
                        "Hello,\n\nA new review of %(business)s was published on ServiceRW:\n\n"
                        "%(stars)s\n%(review)s\n\nYou can answer it publicly from your dashboard: %(link)s",
                        business=business["business_name"],
                        stars="★" * review["rating"] + "☆" * (5 - review["rating"]),
                        review=review["body"],
                        link=f"{base_url}/dashboard/{business_id}/reviews",
                    )
                    await queue_message(
                        conn,
                        to=business["email"],
                        language=business["language"],
                        kind="review_published",
                        subject=_("New review of %(business)s", business=business["business_name"]),
                        body=body,
                    )
        return Moderated(business_id, business["slug"], status)

    async def hide(self, conn, review_id: int) -> HiddenReview | None:
        """Hide a review (status `hidden`) inside the caller's transaction `conn`, and recompute the
        business's rating and count from its approved reviews with the business row locked first, as
        `moderate` does. The caller drops the cached profile (`Cache.invalidate_business(slug)`) once its
        transaction has committed. None if the review does not exist."""
        business_id = await conn.fetchval("SELECT business_id FROM reviews WHERE id = $1", review_id)
        if business_id is None:
            return None
        slug = await conn.fetchval("SELECT slug FROM businesses WHERE id = $1 FOR UPDATE", business_id)
        before = await conn.fetchval("SELECT status FROM reviews WHERE id = $1 FOR UPDATE", review_id)
        if before != "hidden":
            await conn.execute("UPDATE reviews SET status = 'hidden', updated_at = now() WHERE id = $1", review_id)
            await self._recompute(conn, business_id)
        return HiddenReview(review_id, business_id, slug, before)

    @staticmethod
    async def _tell_reviewer(conn, review, business, status: str, base_url: str) -> None:
        with i18n.using(review["language"]):
            if status == "approved":
                subject = _("Your review of %(business)s is published", business=business["business_name"])
                body = _(
                    "Hello,\n\nThank you: your review of %(business)s is now on ServiceRW:\n%(link)s",
                    business=business["business_name"],
                    link=f"{base_url}/b/{business['slug']}#reviews",
                )
            else:
                subject = _("Your review of %(business)s was not published", business=business["business_name"])
                body = _(
                    "Hello,\n\nYour review of %(business)s was not published: reviews must describe your own "
                    "experience with the business, without insults, advertising or personal details.",
                    business=business["business_name"],
                )
            await queue_message(
                conn,
                to=review["email"],
                language=review["language"],
                kind=f"review_{status}",
                subject=subject,
                body=body,
            )

    @staticmethod
    async def _recompute(conn, business_id: int) -> None:
        await conn.execute(
            """UPDATE businesses b SET average_rating = agg.average, review_count = agg.n, updated_at = now()
               FROM (SELECT coalesce(round(avg(rating), 2), 0) AS average, count(*) AS n
                     FROM reviews WHERE business_id = $1 AND status = 'approved') agg
               WHERE b.id = $1""",
            business_id,
        )

    # --- the owner's side -------------------------------------------------------------------------

    async def for_owner(self, business_id: int, page: int) -> list[dict]:
        return _rows(
            await db.fetch(
                f"""SELECT {_PUBLIC_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id
                    WHERE r.business_id = $1 AND r.status = 'approved'
                    ORDER BY (r.owner_replied_at IS NULL) DESC, r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3""",
                business_id,
                PAGE_SIZE + 1,
                (page - 1) * PAGE_SIZE,
            )
        )

    async def owner_pending_count(self, business_id: int) -> int:
        row = await db.fetchrow(
            "SELECT count(*) AS n FROM reviews WHERE business_id = $1 AND status = 'pending'", business_id
        )
        return row["n"] if row else 0

    async def reply(self, business_id: int, review_id: int, text: str) -> None:
        """The owner's public answer; once per review (a second one is refused). The business's cached
        profile is dropped: the answer shows at once."""
        text = text.strip().replace("\r\n", "\n")
        if not REPLY_MIN <= len(text) <= REPLY_MAX:
            raise FormErrors(
                {"reply": _("Write a reply of %(min)d to %(max)d characters.", min=REPLY_MIN, max=REPLY_MAX)}
            )
        async with db.engine().pool.acquire() as conn:
            slug = await conn.fetchval(
                """UPDATE reviews r SET owner_reply = $3, owner_replied_at = now(), updated_at = now()
                   FROM businesses b
                   WHERE r.id = $1 AND r.business_id = $2 AND r.status = 'approved' AND r.owner_replied_at IS NULL
                     AND b.id = r.business_id
                   RETURNING b.slug""",
                review_id,
                business_id,
                text,
            )
            if slug is None:
                exists = await conn.fetchval(
                    "SELECT 1 FROM reviews WHERE id = $1 AND business_id = $2 AND status = 'approved'",
                    review_id,
                    business_id,
                )
                if not exists:
                    raise LookupError(review_id)
                raise FormErrors({"reply": _("You have already answered this review.")}, status=409)
        await self.cache.invalidate_business(slug)

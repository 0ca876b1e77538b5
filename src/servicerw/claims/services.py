"""Claims of ownerless listings, and the operators' own listings.

`ClaimService`: a logged-in account claims a listing that has no owner. When the listing has an email, a
single-use link (only its SHA-256 is stored, valid 3 days) goes there; following it and confirming marks
the claim "email confirmed". Every claim then waits for an operator, who approves (ownership moves to the
claimant, the owner before is kept in the claim), rejects with a reason, or undoes an approved claim
(ownership goes back). Each decision is written with its audit entry and the claimant's email in one
transaction; the caches are invalidated once it has committed.

`OperatorListingService`: verify / unverify a listing with a note, add a listing without an owner (the
owners' validation, `ListingService.validate`, and insert, `insert_listing`), and the CSV import of many.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from servicerw.businesses.listing import ListingService, NewListing, insert_listing
from servicerw.core import audit, db, forms, i18n
from servicerw.core.cache import Cache
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.notifications.compose import queue_message

CLAIM_LINK_TTL = timedelta(days=3)
PAGE_SIZE = 50
MESSAGE_LIMIT = 1000
NOTE_LIMIT = 1000


def N_(message: str) -> str:  # noqa: N802 - Babel's marker name
    """Marks a message for extraction; it is translated later, in the recipient's language."""
    return message


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_control_characters(*values: object) -> bool:
    """`core.forms.has_control_characters` over the text values among `values` (form dicts may hold others)."""
    return forms.has_control_characters(*(v for v in values if isinstance(v, str)))


def mask_email(email: str) -> str:
    """c•••••@example.rw: enough for the claimant to recognise the address, not to learn it."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••••@{domain}" if domain else "•••••"


# --- typed results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimTarget:
    """A public listing as the claim page shows it, with this visitor's pending claim if any."""

    business_id: int
    slug: str
    name: str
    has_owner: bool
    masked_email: str  # "" when the listing has no email (then an operator decides)
    pending_claim: PendingClaim | None


@dataclass(frozen=True, slots=True)
class PendingClaim:
    id: int
    proof: str
    email_verified: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimRequested:
    claim_id: int
    proof: str  # "email": a link went to the listing's email; "operator": an operator decides


@dataclass(frozen=True, slots=True)
class ClaimConfirmation:
    """What the emailed link is about (shown before the confirm button, and after confirming)."""

    claim_id: int
    business_name: str
    slug: str
    claimant: str


@dataclass(frozen=True, slots=True)
class QueuedClaim:
    id: int
    status: str
    proof: str
    email_verified: bool
    message: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str
    business_id: int
    business_name: str
    slug: str
    business_email: str
    owned_by_other: bool  # the listing has an owner who is not this claimant
    claimant_id: int
    claimant_name: str
    claimant_email: str


@dataclass(frozen=True, slots=True)
class ClaimCounts:
    pending: int
    email_confirmed: int  # of the pending ones


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    claim_id: int
    status: str
    business_id: int
    slug: str


@dataclass(frozen=True, slots=True)
class VerificationNote:
    action: str
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ListingVerification:
    business_id: int
    name: str
    slug: str
    status: str
    verified: bool
    has_owner: bool
    history: list[VerificationNote] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the row of the file as a spreadsheet numbers it (the header is row 1)
    message: str


@dataclass(frozen=True, slots=True)
class ImportedRow:
    row: int
    business_id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    imported: list[ImportedRow]
    errors: list[RowError]


class ImportRefused(Exception):
    """The file as a whole cannot be read (size, encoding, header): nothing was imported."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- claims ------------------------------------------------------------------------------------------


class ClaimService:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def target(self, slug: str, user_id: int) -> ClaimTarget | None:
        """The public listing `slug` (approved, active), or None."""
        row = await db.fetchrow(
            """SELECT id, slug, business_name, owner_id, email FROM businesses
               WHERE slug = $1 AND status = 'approved' AND is_active""",
            slug,
        )
        if row is None:
            return None
        claim = await db.fetchrow(
            """SELECT id, proof, email_verified_at, created_at FROM business_claims
               WHERE business_id = $1 AND user_id = $2 AND status = 'pending'""",
            row["id"],
            user_id,
        )
        return ClaimTarget(
            business_id=row["id"],
            slug=row["slug"],
            name=row["business_name"],
            has_owner=row["owner_id"] is not None,
            masked_email=mask_email(row["email"]) if row["email"] else "",
            pending_claim=PendingClaim(
                claim["id"], claim["proof"], claim["email_verified_at"] is not None, claim["created_at"]
            )
            if claim
            else None,
        )

    async def request(
        self, target: ClaimTarget, user_id: int, message: str, language: str, base_url: str
    ) -> ClaimRequested:
        """A new pending claim. FormErrors: 409 when the listing has an owner or this user already has a
        pending claim on it; 422 when no email can prove it and the message is too short to judge."""
        message = (message or "").strip()[:MESSAGE_LIMIT]
        if has_control_characters(message):
            raise FormErrors({"message": _("Remove the control characters from the message.")}, 400)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            business = await conn.fetchrow(
                """SELECT id, slug, business_name, owner_id, email FROM businesses
                   WHERE id = $1 AND status = 'approved' AND is_active FOR UPDATE""",
                target.business_id,
            )
            if business is None or business["owner_id"] is not None:
                raise FormErrors({"form": _("This listing already has an owner: it cannot be claimed.")}, 409)
            if not business["email"] and len(message) < 10:
                raise FormErrors(
                    {
                        "message": _(
                            "Tell us in a few words how you are connected to this business (10 characters at least)."
                        )
                    }
                )
            claimant = await conn.fetchrow("SELECT full_name, email FROM users WHERE id = $1", user_id)
            token = secrets.token_urlsafe(32) if business["email"] else None
            try:
                claim_id = await conn.fetchval(
                    """INSERT INTO business_claims (business_id, user_id, proof, message, token_hash, token_expires_at)
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                    business["id"],
                    user_id,
                    "email" if token else "operator",
                    message,
                    token_hash(token) if token else None,
                    datetime.now().astimezone() + CLAIM_LINK_TTL if token else None,
                )
            except asyncpg.UniqueViolationError:
                message = _("You have already claimed this listing: an operator will decide.")
                raise FormErrors({"form": message}, 409) from None
            if token:
                with i18n.using(language):
                    await queue_message(
                        conn,
                        to=business["email"],
                        language=language,
                        kind="claim_confirm",
                        subject=_("Confirm that %(business)s is yours", business=business["business_name"]),
                        body=_(
                            "Hello,\n\n%(name)s (%(email)s) asked ServiceRW to manage the listing of %(business)s. "
                            "If this is you or someone of your business, confirm it by opening this link:\n%(link)s\n\n"
                            "The link is valid for 3 days. If you did not ask for this, ignore this email: nothing "
                            "changes.",
                            name=claimant["full_name"],
                            email=claimant["email"],
                            business=business["business_name"],
                            link=f"{base_url}/claims/confirm?token={token}",
                        ),
                    )
        return ClaimRequested(claim_id, "email" if token else "operator")

    async def confirmation(self, token: str) -> ClaimConfirmation | None:
        """The pending claim an unused, unexpired link is for (reading it changes nothing)."""
        return self._confirmation(
            await db.fetchrow(
                f"""{_CONFIRMATION_SELECT}
                    WHERE c.token_hash = $1 AND c.status = 'pending' AND c.token_expires_at > now()""",
                token_hash(token),
            )
        )

    async def confirm(self, token: str) -> ClaimConfirmation | None:
        """Use the link: the claim is marked email-confirmed and the link stops working (single use)."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            claim_id = await conn.fetchval(
                """UPDATE business_claims SET email_verified_at = now(), token_hash = NULL, updated_at = now()
                   WHERE token_hash = $1 AND status = 'pending' AND token_expires_at > now() RETURNING id""",
                token_hash(token),
            )
            if claim_id is None:
                return None
            return self._confirmation(await conn.fetchrow(f"{_CONFIRMATION_SELECT} WHERE c.id = $1", claim_id))

    @staticmethod
    def _confirmation(row) -> ClaimConfirmation | None:
        if row is None:
            return None
        return ClaimConfirmation(row["id"], row["business_name"], row["slug"], row["full_name"])

    # --- the operators' queue -----------------------------------------------------------------------

    async def counts(self) -> ClaimCounts:
        row = await db.fetchrow(
            """SELECT count(*) AS pending, count(*) FILTER (WHERE email_verified_at IS NOT NULL) AS confirmed
               FROM business_claims WHERE status = 'pending'"""
        )
        return ClaimCounts(row["pending"], row["confirmed"])

    async def queue(self, status: str, page: int) -> list[QueuedClaim]:
        """Claims in `status`: pending ones oldest first; decided ones newest decision first. One more
        than PAGE_SIZE, to tell whether there is a next page."""
        order = "c.created_at, c.id" if status == "pending" else "c.decided_at DESC NULLS LAST, c.id DESC"
        rows = await db.fetch(
            f"""SELECT c.id, c.status, c.proof, c.email_verified_at, c.message, c.created_at, c.decided_at,
                       c.decision_note, b.id AS business_id, b.business_name, b.slug, b.email AS business_email,
                       (b.owner_id IS NOT NULL AND b.owner_id <> c.user_id) AS owned_by_other,
                       u.id AS claimant_id, u.full_name, u.email
                FROM business_claims c JOIN businesses b ON b.id = c.business_id JOIN users u ON u.id = c.user_id
                WHERE c.status = $1 ORDER BY {order} LIMIT $2 OFFSET $3""",
            status,
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [
            QueuedClaim(
                id=r["id"],
                status=r["status"],
                proof=r["proof"],
                email_verified=r["email_verified_at"] is not None,
                message=r["message"],
                created_at=r["created_at"],
                decided_at=r["decided_at"],
                decision_note=r["decision_note"],
                business_id=r["business_id"],
                business_name=r["business_name"],
                slug=r["slug"],
                business_email=r["business_email"],
                owned_by_other=r["owned_by_other"],
                claimant_id=r["claimant_id"],
                claimant_name=r["full_name"],
                claimant_email=r["email"],
            )
            for r in rows
        ]

    async def approve(self, claim_id: int, actor_id: int, note: str, base_url: str) -> ClaimDecision | None:
        """Ownership moves to the claimant. None if there is no such pending claim; FormErrors(409) when
        the listing has an owner meanwhile."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            claim = await self._locked(conn, claim_id, "pending")
            if claim is None:
                return None
            if claim["owner_id"] is not None:
                raise FormErrors({"form": _("This listing already has an owner: reject the claim instead.")}, 409)
            await conn.execute(
                "UPDATE businesses SET owner_id = $2, updated_at = now() WHERE id = $1",
                claim["business_id"],
                claim["user_id"],
            )
            await conn.execute("UPDATE users SET role = 'owner' WHERE id = $1 AND role = 'customer'", claim["user_id"])
            await self._decide(conn, claim, "approved", actor_id, note, previous_owner=claim["owner_id"])
            await audit.record(
                conn,
                actor_id=actor_id,
                action="claim.approve",
                target_type="business",
                target_id=claim["business_id"],
                before={"owner_id": claim["owner_id"]},
                after={"owner_id": claim["user_id"], "claim_id": claim_id},
                note=note,
            )
            await self._tell(
                conn,
                claim,
                "claim_approved",
                N_("Your claim of %(business)s is approved"),
                N_(
                    "Hello %(name)s,\n\n%(business)s is now yours on ServiceRW. Keep its listing up to date from "
                    "your dashboard: %(link)s"
                ),
                link=f"{base_url}/dashboard",
            )
        await self.cache.invalidate_business(claim["slug"])
        return ClaimDecision(claim_id, "approved", claim["business_id"], claim["slug"])

    async def reject(self, claim_id: int, actor_id: int, reason: str) -> ClaimDecision | None:
        async with db.engine().pool.acquire() as conn, conn.transaction():
            claim = await self._locked(conn, claim_id, "pending")
            if claim is None:
                return None
            await self._decide(conn, claim, "rejected", actor_id, reason)
            await audit.record(
                conn,
                actor_id=actor_id,
                action="claim.reject",
                target_type="business",
                target_id=claim["business_id"],
                before={"claim_status": "pending"},
                after={"claim_status": "rejected", "claim_id": claim_id},
                note=reason,
            )
            await self._tell(
                conn,
                claim,
                "claim_rejected",
                N_("Your claim of %(business)s was not accepted"),
                N_("Hello %(name)s,\n\nYour claim of %(business)s on ServiceRW was not accepted:\n\n%(reason)s"),
                reason=reason,
            )
        return ClaimDecision(claim_id, "rejected", claim["business_id"], claim["slug"])

    async def undo(self, claim_id: int, actor_id: int, reason: str) -> ClaimDecision | None:
        """Ownership goes back to the owner before the claim (kept in the claim). FormErrors(409) when the
        listing changed hands since the approval (then this undo would take it from someone else)."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            claim = await self._locked(conn, claim_id, "approved")
            if claim is None:
                return None
            if claim["owner_id"] != claim["user_id"]:
                raise FormErrors({"form": _("The listing changed owner since this claim: it cannot be undone.")}, 409)
            await conn.execute(
                "UPDATE businesses SET owner_id = $2, updated_at = now() WHERE id = $1",
                claim["business_id"],
                claim["previous_owner_id"],
            )
            await conn.execute(
                """UPDATE business_claims SET status = 'undone', undone_at = now(), decided_by = $2,
                          decision_note = $3, updated_at = now()
                   WHERE id = $1""",
                claim_id,
                actor_id,
                reason,
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="claim.undo",
                target_type="business",
                target_id=claim["business_id"],
                before={"owner_id": claim["user_id"]},
                after={"owner_id": claim["previous_owner_id"], "claim_id": claim_id},
                note=reason,
            )
            await self._tell(
                conn,
                claim,
                "claim_undone",
                N_("You no longer manage %(business)s"),
                N_(
                    "Hello %(name)s,\n\nAn operator withdrew the approval of your claim of %(business)s on "
                    "ServiceRW, so you no longer manage its listing:\n\n%(reason)s"
                ),
                reason=reason,
            )
        await self.cache.invalidate_business(claim["slug"])
        return ClaimDecision(claim_id, "undone", claim["business_id"], claim["slug"])

    @staticmethod
    async def _locked(conn, claim_id: int, status: str):
        """The claim in `status` with its business, both rows locked (claim first, then business)."""
        claim = await conn.fetchrow(
            "SELECT id, business_id FROM business_claims WHERE id = $1 AND status = $2 FOR UPDATE", claim_id, status
        )
        if claim is None:
            return None
        return await conn.fetchrow(
            """SELECT c.id, c.user_id, c.previous_owner_id, b.id AS business_id, b.slug, b.business_name,
                      b.owner_id, u.full_name, u.email, u.preferred_language
               FROM business_claims c JOIN businesses b ON b.id = c.business_id JOIN users u ON u.id = c.user_id
               WHERE c.id = $1 FOR UPDATE OF b""",
            claim_id,
        )

    @staticmethod
    async def _decide(conn, claim, status: str, actor_id: int, note: str, previous_owner: int | None = None) -> None:
        await conn.execute(
            """UPDATE business_claims SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4,
                      previous_owner_id = $5, token_hash = NULL, updated_at = now()
               WHERE id = $1""",
            claim["id"],
            status,
            actor_id,
            note,
            previous_owner,
        )

    @staticmethod
    async def _tell(conn, claim, kind: str, subject: str, body: str, **variables) -> None:
        """The claimant's email, in their language (`subject` and `body` are msgids, translated here)."""
        language = claim["preferred_language"] or "rw"
        values = {"name": claim["full_name"], "business": claim["business_name"], **variables}
        with i18n.using(language):
            await queue_message(
                conn,
                to=claim["email"],
                language=language,
                kind=kind,
                subject=_(subject, **values),
                body=_(body, **values),
            )


_CONFIRMATION_SELECT = """SELECT c.id, b.business_name, b.slug, u.full_name
    FROM business_claims c JOIN businesses b ON b.id = c.business_id JOIN users u ON u.id = c.user_id"""


# --- operators' listings: verification, add, import ------------------------------------------------

CSV_COLUMNS = (
    "name",
    "category",
    "district",
    "sector",
    "phone",
    "whatsapp",
    "email",
    "website",
    "address",
    "description_en",
    "description_rw",
    "description_fr",
)
CSV_REQUIRED = ("name", "category", "district", "sector", "phone")
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 2000
VALIDATE_AT_ONCE = 8  # rows validated concurrently (each asks the database for its category and place)
TOO_MANY = " cells"  # a key no header can have (headers are stripped): the row has more cells than columns
CSV_SAMPLE = (
    ",".join(CSV_COLUMNS)
    + "\r\n"
    + "Ineza Plumbing,plumbers,Gasabo,Kimironko,+250788123456,+250788123456,ineza@example.rw,,KG 11 Ave,"
    + '"Leaks, pipes and water tanks.","Dusana amatiyo.",\r\n'
    + "Keza Salon,hair-salons,Kicukiro,Niboye,0788555111,,,keza.rw,,Hair and nails.,,Coiffure et ongles.\r\n"
)
# CSV columns → the fields of the owners' listing form (ListingService.validate).
_FORM_FIELD = {
    "name": "business_name",
    "phone": "phone",
    "whatsapp": "whatsapp_number",
    "email": "email",
    "website": "website",
    "address": "address",
    "description_en": "description_en",
    "description_rw": "description_rw",
    "description_fr": "description_fr",
}


def _key(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().lower())


class OperatorListingService:
    def __init__(self, cache: Cache, listings: ListingService) -> None:
        self.cache = cache
        self.listings = listings

    # --- verification -------------------------------------------------------------------------------

    async def verification(self, business_id: int) -> ListingVerification | None:
        row = await db.fetchrow(
            "SELECT id, business_name, slug, status, is_verified, owner_id FROM businesses WHERE id = $1", business_id
        )
        if row is None:
            return None
        history = await db.fetch(
            """SELECT a.action, a.note, coalesce(u.email, '') AS actor, a.created_at
               FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
               WHERE a.target_type = 'business' AND a.target_id = $1
                 AND a.action IN ('business.verify', 'business.unverify')
               ORDER BY a.created_at DESC, a.id DESC LIMIT 20""",
            business_id,
        )
        return ListingVerification(
            business_id=row["id"],
            name=row["business_name"],
            slug=row["slug"],
            status=row["status"],
            verified=row["is_verified"],
            has_owner=row["owner_id"] is not None,
            history=[VerificationNote(h["action"], h["note"], h["actor"], h["created_at"]) for h in history],
        )

    async def set_verified(self, business_id: int, actor_id: int, verified: bool, note: str) -> bool | None:
        """Grant or withdraw the verified badge; None if there is no such listing. The badge shows (or
        goes) on the profile and in search at once. FormErrors without a note."""
        note = (note or "").strip()[:NOTE_LIMIT]
        if has_control_characters(note):
            raise FormErrors({"note": _("Remove the control characters from the note.")}, 400)
        if not note:
            raise FormErrors({"note": _("Write a note: how was this listing checked, or why is the badge withdrawn?")})
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT slug, is_verified FROM businesses WHERE id = $1 FOR UPDATE", business_id)
            if row is None:
                return None
            await conn.execute(
                "UPDATE businesses SET is_verified = $2, updated_at = now() WHERE id = $1", business_id, verified
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="business.verify" if verified else "business.unverify",
                target_type="business",
                target_id=business_id,
                before={"is_verified": row["is_verified"]},
                after={"is_verified": verified},
                note=note,
            )
        await self.cache.invalidate_business(row["slug"])
        return verified

    # --- a listing without an owner -----------------------------------------------------------------

    async def create(self, actor_id: int, form: dict) -> NewListing:
        """Validated like an owner's listing (FormErrors per field); published at once (an operator made
        it), without an owner until someone claims it."""
        if has_control_characters(*form.values()):
            raise FormErrors({"form": _("Remove the control characters from the form.")}, 400)
        values = await self.listings.validate(form)
        async with db.engine().pool.acquire() as conn, conn.transaction():
            listing = await self._insert(conn, actor_id, values, note=_("added by an operator"))
        await self.cache.invalidate_business(listing.slug)
        return listing

    @staticmethod
    async def _insert(conn, actor_id: int, values: dict, note: str) -> NewListing:
        listing = await insert_listing(conn, values, owner_id=None, status="approved")
        await audit.record(
            conn,
            actor_id=actor_id,
            action="business.create",
            target_type="business",
            target_id=listing.id,
            before={},
            after={"status": "approved", "owner_id": None, "business_name": values["business_name"]},
            note=note,
        )
        return listing

    # --- CSV import ---------------------------------------------------------------------------------

    async def import_csv(self, actor_id: int, data: bytes, filename: str) -> ImportReport:
        """Every row is checked first; then each good row is written in its own savepoint (a row that fails
        while being written is rolled back alone and reported: never half a listing). Rows with errors are
        not imported, the others are. ImportRefused when the file as a whole cannot be read."""
        records = parse_csv(data)
        categories = {
            r["slug"]: r["id"] for r in await db.fetch("SELECT id, slug FROM categories WHERE parent_id IS NOT NULL")
        }
        districts: dict[str, int] = {}
        for r in await db.fetch("SELECT id, name, slug FROM locations WHERE level = 'district'"):
            districts[_key(r["name"])] = districts[_key(r["slug"])] = r["id"]
        sectors: dict[tuple[int, str], tuple[int, int]] = {}
        for r in await db.fetch(
            "SELECT id, name, slug, district_id, province_id FROM locations WHERE level = 'sector'"
        ):
            sectors[(r["district_id"], _key(r["name"]))] = (r["id"], r["province_id"])
            sectors[(r["district_id"], _key(r["slug"]))] = (r["id"], r["province_id"])
            # slugs are "<district>-<sector>": the sector part alone is accepted too
            sectors.setdefault((r["district_id"], _key(r["slug"].split("-", 1)[-1])), (r["id"], r["province_id"]))

        errors: list[RowError] = []
        candidates: list[tuple[int, dict, list[str]]] = []  # (row, form fields, problems found so far)
        for number, record in records:
            problems: list[str] = []
            if TOO_MANY in record:
                message = _(
                    "This row has %(cells)d values but the header has %(columns)d columns.",
                    cells=int(record[TOO_MANY]),
                    columns=len(record) - 1,
                )
                errors.append(RowError(number, message))
                continue
            if has_control_characters(*record.values()):
                errors.append(RowError(number, _("This row holds control characters (such as NUL).")))
                continue
            form = {f: record.get(c, "") for c, f in _FORM_FIELD.items()}
            category = _key(record.get("category", ""))
            if category not in categories:
                problems.append(_("Unknown category “%(value)s”: use a slug from the list.", value=category))
            else:
                form["category_id"] = str(categories[category])
            district = districts.get(_key(record.get("district", "")))
            sector = sectors.get((district, _key(record.get("sector", "")))) if district else None
            if district is None:
                problems.append(_("Unknown district “%(value)s”.", value=record.get("district", "").strip()))
            elif sector is None:
                problems.append(
                    _("Unknown sector “%(value)s” in this district.", value=record.get("sector", "").strip())
                )
            else:
                form["sector_id"], form["district_id"], form["province_id"] = (
                    str(sector[0]),
                    str(district),
                    str(sector[1]),
                )
            candidates.append((number, form, problems))

        # The owners' validation, a few rows at a time (it reads the database; nothing is written yet).
        limit = asyncio.Semaphore(VALIDATE_AT_ONCE)

        async def validated(form: dict) -> tuple[dict | None, dict]:
            async with limit:
                try:
                    return await self.listings.validate(form), {}
                except FormErrors as error:
                    return None, error.errors

        results = await asyncio.gather(*(validated(form) for _n, form, _p in candidates))
        places = sorted({values["location_id"] for values, _e in results if values})
        listed = {
            (_key(r["business_name"]), r["location_id"])
            for r in await db.fetch(
                "SELECT business_name, location_id FROM businesses WHERE location_id = ANY($1::int[])", places
            )
        }
        good: list[tuple[int, dict]] = []
        seen: dict[tuple[str, int], int] = {}
        for (number, _form, problems), (values, field_errors) in zip(candidates, results, strict=True):
            for name, message in field_errors.items():
                if name not in ("category_id", "location_id") or not problems:
                    problems.append(message)
            if values and not problems:
                key = (_key(values["business_name"]), values["location_id"])
                if key in seen:
                    problems.append(_("The same business as row %(row)d.", row=seen[key]))
                elif key in listed:
                    problems.append(_("A business of this name is already listed in this place."))
                seen.setdefault(key, number)
            if problems:
                errors.append(RowError(number, " ".join(dict.fromkeys(problems))))
            else:
                good.append((number, values))

        imported: list[ImportedRow] = []
        if good:
            async with db.engine().pool.acquire() as conn, conn.transaction():
                for number, values in good:
                    try:
                        async with conn.transaction():  # a savepoint: this row alone
                            note = _("CSV import: %(file)s, row %(row)d", file=filename[:80], row=number)
                            listing = await self._insert(conn, actor_id, values, note)
                    except asyncpg.PostgresError:
                        errors.append(RowError(number, _("This row could not be saved; nothing of it was kept.")))
                        continue
                    imported.append(ImportedRow(number, listing.id, values["business_name"], listing.slug))
            await self.cache.bump("search")
        errors.sort(key=lambda e: e.row)
        return ImportReport(rows=len(records), imported=imported, errors=errors)


def parse_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows of an import file as (row number, {column: value}); ImportRefused with a clear
    message for a file that cannot be read as a whole. Fewer cells than columns are empty values."""
    if len(data) > MAX_CSV_BYTES:
        raise ImportRefused(_("The file is larger than 1 MB: split it into smaller files."), 413)
    if b"\x00" in data:
        raise ImportRefused(_("The file holds NUL bytes: it is not a CSV text file. Save it as “CSV UTF-8”."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            _(
                "The file is not UTF-8 text (a wrong byte at position %(position)d). Save it as “CSV UTF-8”.",
                position=error.start,
            )
        ) from None
    if not text.strip():
        raise ImportRefused(_("The file is empty."))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in French locales save with ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_key(h) for h in next(reader)]
        missing = [c for c in CSV_REQUIRED if c not in header]
        unknown = [h for h in header if h and h not in CSV_COLUMNS]
        doubled = sorted({h for h in header if h and header.count(h) > 1})
        if missing or unknown or doubled:
            parts = []
            if missing:
                parts.append(_("missing columns: %(columns)s", columns=", ".join(missing)))
            if unknown:
                parts.append(_("unknown columns: %(columns)s", columns=", ".join(unknown)))
            if doubled:
                parts.append(_("columns given twice: %(columns)s", columns=", ".join(doubled)))
            raise ImportRefused(_("The first row must be the header (%(problems)s).", problems="; ".join(parts)))
        records: list[tuple[int, dict[str, str]]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(records) >= MAX_CSV_ROWS:
                raise ImportRefused(
                    _("The file has more than %(max)d rows: split it into smaller files.", max=MAX_CSV_ROWS), 413
                )
            record = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
            if len(cells) > len(header):
                record[TOO_MANY] = str(len(cells))  # reported as this row's error
            records.append((number, record))
    except csv.Error as error:
        raise ImportRefused(_("The file is not valid CSV: %(error)s.", error=str(error)[:200])) from None
    if not records:
        raise ImportRefused(_("The file has a header but no rows."))
    return records

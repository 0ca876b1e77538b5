"""Users, for operators: find an account by any part of its email, name or phone number, see its role, status
and the listings it owns; deactivate it (every one of its sessions ends at once) or reactivate it. Each change
is written with its audit entry in one transaction; an operator cannot deactivate their own account.

Search is `ILIKE '%…%'` on email and name and `LIKE` on the phone's digits, each answered by a trigram index
(migrations/accounts/…14_45…): at least `SEARCH_MIN` characters, since shorter ones yield no trigram."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from litestar.stores.base import Store

from servicerw.core import audit, db
from servicerw.core.forms import FormErrors
from servicerw.core.i18n import gettext as _
from servicerw.core.sessions import end_user_sessions

PAGE_SIZE = 20
SEARCH_MIN = 3
SEARCH_MAX = 100
NOTE_MAX = 500
_PHONE_DIGITS = "regexp_replace(coalesce(u.phone, ''), '[^0-9]', '', 'g')"  # as in the index's expression


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    email: str
    full_name: str
    phone: str
    role: str
    is_active: bool
    created_at: datetime
    businesses: int


@dataclass(frozen=True, slots=True)
class OwnedListing:
    id: int
    business_name: str
    slug: str
    status: str


@dataclass(frozen=True, slots=True)
class UserDetail:
    id: int
    email: str
    full_name: str
    phone: str
    role: str
    is_active: bool
    email_verified: bool
    preferred_language: str
    created_at: datetime
    businesses: tuple[OwnedListing, ...]


@dataclass(frozen=True, slots=True)
class StatusChanged:
    user_id: int
    is_active: bool
    changed: bool  # False when it already was so
    sessions_ended: int = 0


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _has_controls(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def search_query(q: str, page: int) -> tuple[str, list]:
    """The SQL and arguments of one page of results for `q` (empty: the newest accounts). Public so that a
    test can EXPLAIN it."""
    columns = """SELECT u.id, u.email, u.full_name, coalesce(u.phone, '') AS phone, u.role, u.is_active,
                        u.created_at, (SELECT count(*) FROM businesses b WHERE b.owner_id = u.id) AS businesses
                 FROM users u"""
    args: list = []
    where = ""
    if q:
        args.append(_like(q))
        clauses = ["u.email ILIKE $1", "u.full_name ILIKE $1"]
        digits = re.sub(r"[^0-9]", "", q).lstrip("0")  # 0788… and +250 788… are the same number
        if len(digits) >= SEARCH_MIN and len(digits) >= len(re.sub(r"[\s+()\-]", "", q)) - 1:
            args.append(_like(digits))
            clauses.append(f"{_PHONE_DIGITS} LIKE $2")
        where = "WHERE " + " OR ".join(clauses)
    n = len(args)
    args += [PAGE_SIZE + 1, (page - 1) * PAGE_SIZE]
    return f"{columns} {where} ORDER BY u.id DESC LIMIT ${n + 1} OFFSET ${n + 2}", args


class UserDirectory:
    def __init__(self, sessions: Store) -> None:
        self.sessions = sessions  # the app's sessions store: deactivation deletes the account's sessions

    async def search(self, q: str, page: int) -> list[UserRow]:
        """One page (plus one more: tells whether there is a next page), newest accounts first. FormErrors
        for a query too short or holding control characters."""
        q = " ".join(q.split())
        if _has_controls(q):
            raise FormErrors({"q": _("Remove the invisible control characters from the search.")})
        if q and not SEARCH_MIN <= len(q) <= SEARCH_MAX:
            raise FormErrors(
                {
                    "q": _(
                        "Type %(min)d to %(max)d characters of an email, name or phone number.",
                        min=SEARCH_MIN,
                        max=SEARCH_MAX,
                    )
                }
            )
        sql, args = search_query(q, page)
        return [UserRow(**dict(r)) for r in await db.fetch(sql, *args)]

    async def get(self, user_id: int) -> UserDetail | None:
        row = await db.fetchrow(
            """SELECT id, email, full_name, coalesce(phone, '') AS phone, role, is_active,
                      email_verified_at IS NOT NULL AS email_verified, preferred_language, created_at
               FROM users WHERE id = $1""",
            user_id,
        )
        if row is None:
            return None
        listings = await db.fetch(
            "SELECT id, business_name, slug, status FROM businesses WHERE owner_id = $1 ORDER BY business_name, id",
            user_id,
        )
        return UserDetail(**dict(row), businesses=tuple(OwnedListing(**dict(b)) for b in listings))

    async def deactivate(self, user_id: int, actor_id: int, note: str = "") -> StatusChanged:
        """The account can no longer log in, and every session it has ends at once: deleted from the
        sessions store here, and refused by `core/auth.current_user` on its next request in any case (a
        session the list missed included). Unused email links (password reset) stop working."""
        if user_id == actor_id:
            raise FormErrors({"form": _("You cannot deactivate your own account.")}, status=409)
        changed = await self._set_active(user_id, actor_id, False, note)
        if not changed.changed:
            return changed
        ended = await end_user_sessions(self.sessions, user_id)
        return StatusChanged(user_id, False, True, ended)

    async def reactivate(self, user_id: int, actor_id: int, note: str = "") -> StatusChanged:
        return await self._set_active(user_id, actor_id, True, note)

    @staticmethod
    async def _set_active(user_id: int, actor_id: int, active: bool, note: str) -> StatusChanged:
        note = note.strip()
        if _has_controls(note.replace("\n", "").replace("\r", "")) or len(note) > NOTE_MAX:
            raise FormErrors(
                {"note": _("Write a note of at most %(max)d characters, without control characters.", max=NOTE_MAX)}
            )
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT id, is_active FROM users WHERE id = $1 FOR UPDATE", user_id)
            if row is None:
                raise LookupError(user_id)
            if row["is_active"] == active:
                return StatusChanged(user_id, active, False)
            await conn.execute("UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1", user_id, active)
            if not active:
                await conn.execute(
                    "UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL", user_id
                )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="user.reactivate" if active else "user.deactivate",
                target_type="user",
                target_id=user_id,
                before={"is_active": not active},
                after={"is_active": active},
                note=note,
            )
        return StatusChanged(user_id, active, True)

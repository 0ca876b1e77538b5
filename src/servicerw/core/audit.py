"""The audit log of operator actions: who did what to which thing, when, and the values before and after.

`record()` writes inside the caller's transaction, so an action and its audit entry commit (or roll back)
together. `AuditLog.entries()` reads it back for the operators' console, newest first, filtered.
The table is `audit_log` (admin/tables.py, migrations/admin/)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servicerw.core import db

PAGE_SIZE = 50


async def record(
    conn,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    """One entry, e.g. action="business.approve", target_type="business", before={"status": "pending"},
    after={"status": "approved"}. Values must be JSON-serialisable (dates become ISO strings)."""
    await conn.execute(
        """INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after, note)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)""",
        actor_id,
        action[:40],
        target_type[:20],
        target_id,
        json.dumps(before or {}, default=str),
        json.dumps(after or {}, default=str),
        note,
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor_id: int | None
    actor: str  # the operator's email ("" once the account is gone)
    action: str
    target_type: str
    target_id: int | None
    before: dict
    after: dict
    note: str

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field that differs, in a stable order."""
        keys = sorted(set(self.before) | set(self.after))
        return [(k, self.before.get(k), self.after.get(k)) for k in keys if self.before.get(k) != self.after.get(k)]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    actor_email: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AuditLog:
    async def entries(self, where: AuditFilter, page: int = 1) -> list[AuditEntry]:
        """One page (PAGE_SIZE, plus one more to tell whether there is a next page), newest first."""
        rows = await db.fetch(
            """SELECT a.id, a.created_at, a.actor_id, coalesce(u.email, '') AS actor, a.action, a.target_type,
                      a.target_id, a.before, a.after, a.note
               FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
               WHERE ($1 = '' OR a.action = $1) AND ($2 = '' OR a.target_type = $2)
                 AND ($3::int IS NULL OR a.target_id = $3) AND ($4 = '' OR u.email = $4)
                 AND ($5::timestamptz IS NULL OR a.created_at >= $5) AND ($6::timestamptz IS NULL OR a.created_at < $6)
               ORDER BY a.created_at DESC, a.id DESC
               LIMIT $7 OFFSET $8""",
            where.action,
            where.target_type,
            where.target_id,
            where.actor_email,
            where.since,
            where.until,
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        return [
            AuditEntry(
                id=r["id"],
                created_at=r["created_at"],
                actor_id=r["actor_id"],
                actor=r["actor"],
                action=r["action"],
                target_type=r["target_type"],
                target_id=r["target_id"],
                before=_json(r["before"]),
                after=_json(r["after"]),
                note=r["note"],
            )
            for r in rows
        ]

    async def actions(self) -> list[str]:
        """The actions that occur in the log, for the filter's choices."""
        return [r["action"] for r in await db.fetch("SELECT DISTINCT action FROM audit_log ORDER BY action")]

    async def target_types(self) -> list[str]:
        """The kinds of things acted on (business, review, user, claim…), for the filter's choices."""
        rows = await db.fetch("SELECT DISTINCT target_type FROM audit_log ORDER BY target_type")
        return [r["target_type"] for r in rows]


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})

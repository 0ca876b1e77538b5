"""Operators decide about listings: approve or reject new ones, apply or refuse edits to live ones, feature,
suspend and reactivate. Every decision is written with its audit entry (core/audit.py) in one transaction,
and the caches are invalidated once it has committed."""

from __future__ import annotations

from dataclasses import dataclass

from servicerw.core import audit, db
from servicerw.core.cache import Cache


@dataclass(frozen=True, slots=True)
class StatusChange:
    business_id: int
    slug: str
    before: str
    after: str


class ModerationService:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def _set_status(
        self, business_id: int, actor_id: int, status: str, reason: str, allowed_from: tuple[str, ...], action: str
    ) -> StatusChange | None:
        """Move a business from one of `allowed_from` to `status`; None if it does not exist or is not in
        one of those states."""
        async with db.engine().pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, slug, status, status_reason FROM businesses WHERE id = $1 FOR UPDATE", business_id
            )
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
                note=reason,
            )
        await self.cache.invalidate_business(row["slug"])
        return StatusChange(business_id, row["slug"], row["status"], status)

    async def suspend(self, business_id: int, actor_id: int, reason: str) -> StatusChange | None:
        """A suspended listing leaves search, browse and suggestions at once; its profile answers 410."""
        return await self._set_status(
            business_id, actor_id, "suspended", reason, ("approved", "pending"), "business.suspend"
        )

    async def reactivate(self, business_id: int, actor_id: int, note: str = "") -> StatusChange | None:
        return await self._set_status(business_id, actor_id, "approved", "", ("suspended",), "business.reactivate")

"""Business photos: upload (validated by content, original stored in S3, a durable `pending` row), then
processing off the request (fixed sizes in WebP/JPEG, EXIF/GPS stripped) by `photo_worker()`, which runs
inside the app and in `servicerw worker`. A crash leaves the row pending: the next pass picks it up."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

import structlog

from servicerw.core import db
from servicerw.core.background import PollingWorker
from servicerw.core.cache import Cache
from servicerw.core.storage import ObjectMissing, Storage, StorageUnavailable
from servicerw.media.processing import ImageRejected, inspect, process, storage_key, variant_keys, variant_sizes

log = structlog.get_logger(__name__)
MAX_PHOTOS = 12  # per business
MAX_FILES_PER_UPLOAD = 6
STORAGE_CHECK_SECONDS = 2.0  # S3 asked once per upload request; frozen, it gets this long before a 503
UPLOAD_SECONDS = 20.0  # one deadline for all the files of an upload request


def original_key(key: str) -> str:
    return f"{key}/original"


class PhotoError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PhotoService:
    def __init__(self, storage: Storage, cache: Cache) -> None:
        self.storage = storage
        self.cache = cache

    async def list(self, business_id: int) -> list[dict]:
        rows = await db.fetch(
            """SELECT id, storage_key, width, height, position, is_cover, status FROM business_images
               WHERE business_id = $1 ORDER BY is_cover DESC, position, id""",
            business_id,
        )
        return [dict(r) for r in rows]

    async def storage_ready(self) -> bool:
        """Whether S3 answers, asked once per upload request with a short deadline: when it is down or frozen,
        the owner gets a 503 in seconds instead of one S3 timeout per file."""
        try:
            return await asyncio.wait_for(self.storage.ping(), STORAGE_CHECK_SECONDS)
        except TimeoutError:
            log.warning("photo_storage_check_timed_out", seconds=STORAGE_CHECK_SECONDS)
            return False

    async def add(self, business_id: int, data: bytes, deadline: float | None = None) -> int:
        """Validate, store the original, record it as pending. Nothing is left half-written on failure.
        `deadline` (event-loop time) bounds the S3 write: past it, a 503."""
        try:
            await asyncio.to_thread(inspect, data)
        except ImageRejected as error:
            raise PhotoError(
                str(error), 415 if error.code in ("not_an_image", "unsupported_format") else 400
            ) from error
        key = storage_key()
        timeout = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(self.storage.put(original_key(key), data, "application/octet-stream"), timeout)
        except (StorageUnavailable, TimeoutError) as error:
            raise PhotoError("storage unavailable", 503) from error
        try:
            async with db.engine().pool.acquire() as conn, conn.transaction():
                # The business row locked: parallel uploads count one after another (the quota holds).
                await conn.execute("SELECT 1 FROM businesses WHERE id = $1 FOR UPDATE", business_id)
                count = await conn.fetchval(
                    "SELECT count(*) FROM business_images WHERE business_id = $1 AND status <> 'failed'", business_id
                )
                if count >= MAX_PHOTOS:
                    raise PhotoError("quota", 413)
                return await conn.fetchval(
                    """INSERT INTO business_images (business_id, storage_key, status, position)
                       VALUES ($1, $2, 'pending', $3) RETURNING id""",
                    business_id,
                    key,
                    count,
                )
        except BaseException:
            with suppress(StorageUnavailable):
                await self.storage.delete(original_key(key))
            raise

    async def process_pending(self, limit: int = 4) -> int:
        """Process up to `limit` pending photos (SKIP LOCKED: several workers never take the same one)."""
        done = 0
        for _ in range(limit):
            async with db.engine().pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    """SELECT i.id, i.storage_key, b.slug
                       FROM business_images i JOIN businesses b ON b.id = i.business_id
                       WHERE i.status = 'pending' ORDER BY i.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED"""
                )
                if row is None:
                    break
                try:
                    original = await self.storage.get(original_key(row["storage_key"]))
                    variants, info = await asyncio.to_thread(process, original)
                    for variant in variants:
                        await self.storage.put(variant.key(row["storage_key"]), variant.data, variant.content_type)
                except ObjectMissing as error:
                    # This row's original is gone (S3 answered): the row fails, the queue goes on.
                    await conn.execute("UPDATE business_images SET status = 'failed' WHERE id = $1", row["id"])
                    log.warning("photo_original_missing", image=row["id"], error=str(error))
                    continue
                except StorageUnavailable as error:
                    log.warning("photo_storage_unavailable", image=row["id"], error=str(error))
                    break  # a real outage: stays pending; retried on the next pass
                except ImageRejected as error:
                    await conn.execute("UPDATE business_images SET status = 'failed' WHERE id = $1", row["id"])
                    log.info("photo_rejected", image=row["id"], code=error.code)
                    await self._delete_objects([original_key(row["storage_key"])])
                    continue
                await conn.execute(
                    """UPDATE business_images SET status = 'ready', width = $2, height = $3, variant_bytes = $4::jsonb
                       WHERE id = $1""",
                    row["id"],
                    info["width"],
                    info["height"],
                    json.dumps(variant_sizes(variants)),
                )
                with suppress(StorageUnavailable):
                    await self.storage.delete(original_key(row["storage_key"]))
            await self.cache.invalidate_business(row["slug"])
            done += 1
        return done

    async def _changed(self, business_id: int) -> None:
        """The business's photos changed: drop its cached profile and search results."""
        row = await db.fetchrow("SELECT slug FROM businesses WHERE id = $1", business_id)
        if row is not None:
            await self.cache.invalidate_business(row["slug"])

    async def delete(self, business_id: int, image_id: int) -> bool:
        row = await db.fetchrow(
            "DELETE FROM business_images WHERE id = $1 AND business_id = $2 RETURNING storage_key, width",
            image_id,
            business_id,
        )
        if row is None:
            return False
        await self._delete_objects([*variant_keys(row["storage_key"]), original_key(row["storage_key"])])
        await self._changed(business_id)
        return True

    async def _delete_objects(self, keys: list[str]) -> None:
        """Best effort: S3 being unavailable leaves the objects behind (logged), never fails the caller."""
        for key in keys:
            try:
                await self.storage.delete(key)
            except StorageUnavailable as error:
                log.warning("photo_object_not_deleted", key=key, error=str(error))

    async def set_cover(self, business_id: int, image_id: int) -> None:
        await db.execute(
            "UPDATE business_images SET is_cover = (id = $2) WHERE business_id = $1", business_id, image_id
        )
        await self._changed(business_id)

    async def move(self, business_id: int, image_id: int, step: int) -> None:
        """Swap a photo with its neighbour (step -1: earlier, +1: later); positions are then renumbered."""
        ids = [
            r["id"]
            for r in await db.fetch(
                "SELECT id FROM business_images WHERE business_id = $1 ORDER BY position, id", business_id
            )
        ]
        if image_id not in ids:
            return
        i = ids.index(image_id)
        j = max(0, min(len(ids) - 1, i + step))
        ids[i], ids[j] = ids[j], ids[i]
        async with db.engine().pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "UPDATE business_images SET position = $2 WHERE id = $1", [(pid, n) for n, pid in enumerate(ids)]
            )
        await self._changed(business_id)


def photo_worker(photos: PhotoService) -> PollingWorker:
    """Processes pending photos; started by the app (and by `servicerw worker`)."""
    return PollingWorker("photo_worker", photos.process_pending)

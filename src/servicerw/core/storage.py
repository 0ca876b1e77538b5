"""Object storage for images: S3/MinIO when S3_ENDPOINT_URL is set, a local folder otherwise.

Both expose the same small interface; the app never talks to `minio` directly elsewhere.
The minio client is synchronous, so calls run in a thread, with short timeouts and no retries:
when S3 is down, uploads fail fast with a clear message and pages render placeholders.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import structlog
import urllib3

from servicerw.settings import StorageSettings

log = structlog.get_logger(__name__)

IMAGE_WIDTHS = (320, 640, 1280)
CACHE_CONTROL = "public, max-age=31536000, immutable"  # keys are random and never rewritten


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing shows it (for backups: what is there, and whether it changed)."""

    key: str
    size: int
    etag: str  # S3's ETag; for the local folder, size and modification time


class StorageUnavailable(RuntimeError):
    """S3 could not be reached or refused the request."""


class ObjectMissing(StorageUnavailable):
    """S3 answered, and the object is not there (NoSuchKey): a fact about that object, not an outage.
    (A subclass so that code which only knows "storage failed" still treats it as a failure.)"""


class Storage(Protocol):
    kind: str

    async def ping(self) -> bool: ...
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    async def list_objects(self) -> list[StoredObject]: ...
    async def download_file(self, key: str, path: Path) -> str: ...
    async def upload_file(self, key: str, path: Path, content_type: str) -> None: ...


def variant_key(storage_key: str, width: int, ext: str) -> str:
    """Where one size of an image lives: `<key>/<width>.<webp|jpg>` (fixed sizes only)."""
    return f"{storage_key}/{width}.{ext}"


class LocalStorage:
    kind = "local"

    def __init__(self, root: Path, base_url: str = "/media") -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("invalid storage key")
        return path

    async def ping(self) -> bool:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root.is_dir()

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError as error:
            raise ObjectMissing(key) from error

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{key}"

    async def list_objects(self) -> list[StoredObject]:
        def walk() -> list[StoredObject]:
            if not self.root.is_dir():
                return []
            found = []
            for path in sorted(self.root.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    key = path.relative_to(self.root).as_posix()
                    found.append(StoredObject(key, stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}"))
            return found

        return await asyncio.to_thread(walk)

    async def download_file(self, key: str, path: Path) -> str:
        """Copy the object to `path`; returns its content type (guessed from the key: files have none)."""
        try:
            await asyncio.to_thread(shutil.copyfile, self._path(key), path)
        except FileNotFoundError as error:
            raise ObjectMissing(key) from error
        return mimetypes.guess_type(key)[0] or "application/octet-stream"

    async def upload_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, path, target)


class S3Storage:
    kind = "s3"

    def __init__(self, settings: StorageSettings) -> None:
        from minio import Minio

        parts = urlsplit(settings.endpoint_url)
        self.bucket = settings.bucket
        self.client = Minio(
            parts.netloc,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            region=settings.region,
            secure=parts.scheme == "https",
            http_client=urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=10.0), retries=False, maxsize=20),
        )
        self.public_base = (settings.public_base_url or f"{settings.endpoint_url.rstrip('/')}/{self.bucket}").rstrip(
            "/"
        )

    async def _run(self, fn, *args, **kwargs):
        from minio.error import S3Error

        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(str(error)) from error
            raise StorageUnavailable(str(error)) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise StorageUnavailable(str(error)) from error

    async def ensure_bucket(self) -> None:
        if not await self._run(self.client.bucket_exists, self.bucket):
            await self._run(self.client.make_bucket, self.bucket)

    async def ping(self) -> bool:
        try:
            return bool(await self._run(self.client.bucket_exists, self.bucket))
        except StorageUnavailable as error:
            log.warning("s3_unavailable", error=str(error))
            return False

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._run(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"Cache-Control": CACHE_CONTROL},
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await self._run(read)

    async def delete(self, key: str) -> None:
        await self._run(self.client.remove_object, self.bucket, key)

    def url(self, key: str) -> str:
        return f"{self.public_base}/{key}"

    async def list_objects(self) -> list[StoredObject]:
        def listing() -> list[StoredObject]:
            return [
                StoredObject(item.object_name, item.size, (item.etag or "").strip('"'))
                for item in self.client.list_objects(self.bucket, recursive=True)
                if not item.is_dir
            ]

        return await self._run(listing)

    async def download_file(self, key: str, path: Path) -> str:
        """Stream the object into `path` (never whole in memory); returns its content type."""

        def fetch() -> str:
            response = self.client.get_object(self.bucket, key)
            try:
                with path.open("wb") as out:
                    for chunk in response.stream(1 << 20):
                        out.write(chunk)
                return response.headers.get("Content-Type") or "application/octet-stream"
            finally:
                response.close()
                response.release_conn()

        return await self._run(fetch)

    async def upload_file(self, key: str, path: Path, content_type: str) -> None:
        await self._run(
            self.client.fput_object,
            self.bucket,
            key,
            str(path),
            content_type=content_type,
            metadata={"Cache-Control": CACHE_CONTROL},
        )


def build_storage(settings: StorageSettings) -> Storage:
    if settings.endpoint_url:
        return S3Storage(settings)
    return LocalStorage(settings.media_root)

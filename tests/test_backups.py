"""Backups as the operator runs them: `servicerw backup` and `servicerw restore` as commands, on a database and a
bucket of this module's own (seeded data, photos through the image pipeline on the real S3 endpoint), restored
into a NEW database and a NEW bucket: every table's row count and every object's checksum equal. A damaged
backup is refused before anything is touched, a non-empty database needs --yes, a failed backup leaves nothing,
retention keeps the newest N, unchanged objects are shared with the previous backup."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from PIL import Image

from servicerw.backups.services import table_counts
from servicerw.core.storage import S3Storage
from servicerw.media.processing import process, storage_key
from servicerw.media.services import original_key
from servicerw.settings import get_settings
from tests.helpers import free_port
from tests.services import database_url, drop_database, postgres_admin_url, recreate_database

ADMIN_URL = postgres_admin_url()
PREFIX = f"servicerw_backups_{os.getpid()}"  # this module's databases: PREFIX_src, PREFIX_<name>
SOURCE_BUCKET = f"backups-src-{os.getpid()}"
SERVICERW = str(Path(sys.executable).with_name("servicerw"))
PHOTOS = 3  # processed photos (each a set of variants), plus one original waiting for processing


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([SERVICERW, *args], env=env, capture_output=True, text=True, timeout=600)


async def servicerw(*args: str, **settings: str) -> subprocess.CompletedProcess:
    """`servicerw ARGS` with the test environment and `settings` (DATABASE_URL=…, S3_BUCKET=…) over it."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **settings}
    return await asyncio.to_thread(run, *args, env=env)


def storage(bucket: str) -> S3Storage:
    return S3Storage(replace(get_settings().storage, bucket=bucket))


async def bucket_checksums(bucket: str) -> dict[str, str]:
    """Every object of `bucket` (which must exist): key → SHA-256 of its bytes."""
    s3 = storage(bucket)
    return {o.key: hashlib.sha256(await s3.get(o.key)).hexdigest() for o in await s3.list_objects()}


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return await table_counts(conn)
    finally:
        await conn.close()


async def new_database(name: str) -> str:
    return await recreate_database(ADMIN_URL, f"{PREFIX}_{name}")


def photo(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (900, 600), colour).save(buf, "JPEG")
    return buf.getvalue()


async def add_photos(url: str, bucket: str) -> None:
    """Photos as the photo worker leaves them (its own processing code): PHOTOS processed ones (variants in the
    bucket, rows ready) and one still pending (its original in the bucket)."""
    s3 = storage(bucket)
    await s3.ensure_bucket()
    conn = await asyncpg.connect(url)
    try:
        businesses = [r["id"] for r in await conn.fetch("SELECT id FROM businesses ORDER BY id LIMIT $1", PHOTOS + 1)]
        for n, business_id in enumerate(businesses):
            key, data = storage_key(), photo((40 * n, 90, 160))
            if n < PHOTOS:
                variants, info = await asyncio.to_thread(process, data)
                for variant in variants:
                    await s3.put(variant.key(key), variant.data, variant.content_type)
                await conn.execute(
                    """INSERT INTO business_images (business_id, storage_key, status, width, height, position)
                       VALUES ($1, $2, 'ready', $3, $4, 0)""",
                    business_id,
                    key,
                    info["width"],
                    info["height"],
                )
            else:
                await s3.put(original_key(key), data, "application/octet-stream")
                await conn.execute(
                    """INSERT INTO business_images (business_id, storage_key, status, position)
                       VALUES ($1, $2, 'pending', 0)""",
                    business_id,
                    key,
                )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def source():
    """A migrated, seeded database with photos, and its bucket: {"url", "bucket"}. Every database this module
    made is dropped at the end."""
    url = await new_database("src")
    try:
        seed = [
            "seed",
            "--businesses",
            "8",
            "--inquiries",
            "30",
            "--reviews",
            "20",
            "--events",
            "60",
            "--searches",
            "10",
        ]
        for command in (["migrate"], seed):
            done = await servicerw(*command, DATABASE_URL=url)
            assert done.returncode == 0, done.stderr
        await add_photos(url, SOURCE_BUCKET)
        yield {"url": url, "bucket": SOURCE_BUCKET}
    finally:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            names = await conn.fetch("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", PREFIX)
        finally:
            await conn.close()
        for row in names:
            await drop_database(ADMIN_URL, row["datname"])


async def backup(source: dict, dest: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    return await servicerw(
        "backup", "--dest", str(dest), *args, DATABASE_URL=source["url"], S3_BUCKET=source["bucket"], **settings
    )


def written(done: subprocess.CompletedProcess) -> Path:
    """The backup folder a successful `servicerw backup` reports."""
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("backup written: "))
    return Path(line.removeprefix("backup written: ").split(" (")[0])


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir() if p.name != ".lock") if dest.exists() else []


@pytest.fixture(scope="module")
async def first_backup(source, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("backups")
    return written(await backup(source, dest, "--keep", "3"))


async def test_a_backup_restores_into_a_new_database_and_bucket_with_equal_counts_and_checksums(source, first_backup):
    before_counts, before_objects = await counts(source["url"]), await bucket_checksums(source["bucket"])
    assert before_counts["business_images"] == PHOTOS + 1 and before_counts["reviews"] == 20
    assert before_counts["customer_inquiries"] == 30 and before_counts["businesses"] == 8
    assert len(before_objects) > PHOTOS * 4  # every processed photo has several sizes in two formats

    manifest = json.loads((first_backup / "manifest.json").read_text())
    assert manifest["tables"] == before_counts
    assert {o["key"]: o["sha256"] for o in manifest["objects"]} == before_objects
    assert manifest["database"]["name"] == f"{PREFIX}_src" and manifest["app_version"]
    assert manifest["database"]["sha256"] == hashlib.sha256((first_backup / "database.dump").read_bytes()).hexdigest()
    assert leftovers(first_backup.parent) == [first_backup.name]  # no temporary folder left behind
    assert stat.S_IMODE(first_backup.stat().st_mode) == 0o700  # personal data: readable by its owner only

    target, bucket = await new_database("restored"), f"backups-restored-{os.getpid()}"
    assert not await storage(bucket).ping()  # the bucket does not exist yet: restore makes it
    done = await servicerw("restore", str(first_backup), DATABASE_URL=target, S3_BUCKET=bucket)
    assert done.returncode == 0, done.stderr
    assert f"restored {len(before_objects)} objects" in done.stdout and f"into bucket {bucket}" in done.stdout
    assert re.search(r"^\s+businesses\s+8$", done.stdout, re.M), done.stdout  # the counts it restored

    assert await counts(target) == before_counts
    assert await bucket_checksums(bucket) == before_objects
    webp = next(o["key"] for o in manifest["objects"] if o["key"].endswith(".webp"))
    info = await asyncio.to_thread(storage(bucket).client.stat_object, bucket, webp)
    assert info.content_type == "image/webp"  # browsers get the images as before
    # The restored database is at the same migration: the next deploy's `migrate` has nothing to do.
    migrate = await servicerw("migrate", DATABASE_URL=target)
    assert migrate.returncode == 0, migrate.stderr
    assert await counts(target) == before_counts


async def test_restore_refuses_a_database_that_is_not_empty_unless_yes(source, first_backup):
    target, bucket = await new_database("busy"), f"backups-busy-{os.getpid()}"
    conn = await asyncpg.connect(target)
    try:
        await conn.execute("CREATE TABLE leftover (note text); INSERT INTO leftover VALUES ('keep me?')")
        refused = await servicerw("restore", str(first_backup), DATABASE_URL=target, S3_BUCKET=bucket)
        assert refused.returncode != 0
        assert "is not empty" in refused.stderr and "--yes" in refused.stderr, refused.stderr
        assert await conn.fetchval("SELECT note FROM leftover") == "keep me?"
        assert not await storage(bucket).ping()  # nothing was put in the bucket either

        # A session still connected (the app, a worker…): even with --yes, nothing is deleted.
        busy = await servicerw("restore", str(first_backup), "--yes", DATABASE_URL=target, S3_BUCKET=bucket)
        assert busy.returncode != 0 and "stop the app and the workers first" in busy.stderr, busy.stderr
        assert await conn.fetchval("SELECT note FROM leftover") == "keep me?"
    finally:
        await conn.close()
    done = await servicerw("restore", str(first_backup), "--yes", DATABASE_URL=target, S3_BUCKET=bucket)
    assert done.returncode == 0, done.stderr
    assert "leftover" not in await counts(target)
    assert await counts(target) == json.loads((first_backup / "manifest.json").read_text())["tables"]
    assert await bucket_checksums(bucket) == await bucket_checksums(source["bucket"])


@pytest.mark.parametrize("damaged", ["database.dump", "an object", "manifest.json"])
async def test_a_damaged_backup_is_refused_before_anything_is_touched(first_backup, tmp_path, damaged):
    copy = tmp_path / first_backup.name
    shutil.copytree(first_backup, copy)  # real copies: the hard links of the original stay intact
    manifest = json.loads((copy / "manifest.json").read_text())
    name = {"an object": "objects/" + manifest["objects"][-1]["key"]}.get(damaged, damaged)
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, in the middle (a JSON manifest stays valid JSON)
    (copy / name).write_bytes(bytes(data))

    target, bucket = await new_database(f"damaged_{len(damaged)}"), f"backups-damaged-{os.getpid()}"
    done = await servicerw("restore", str(copy), "--yes", DATABASE_URL=target, S3_BUCKET=bucket)
    assert done.returncode != 0
    assert "damaged" in done.stderr and "nothing was restored" in done.stderr, done.stderr
    if damaged != "manifest.json":
        assert name in done.stderr
    assert await counts(target) == {}  # the database was not touched
    assert not await storage(bucket).ping()


async def test_retention_keeps_the_newest_and_unchanged_objects_are_shared(source, tmp_path):
    dest = tmp_path / "scheduled"
    first = written(await backup(source, dest, "--keep", "2"))
    second = written(await backup(source, dest, "--keep", "2"))
    s3 = storage(source["bucket"])
    await s3.put("backup-test/new.webp", b"a photo added since", "image/webp")
    try:
        third = await backup(source, dest, "--keep", "2")
    finally:
        await s3.delete("backup-test/new.webp")
    assert f"removed old backup {first}" in third.stdout
    third = written(third)
    assert leftovers(dest) == sorted([second.name, third.name]) and first < second < third

    manifest = json.loads((third / "manifest.json").read_text())
    new = next(o for o in manifest["objects"] if o["key"] == "backup-test/new.webp")
    assert new["sha256"] == hashlib.sha256(b"a photo added since").hexdigest()
    assert manifest["storage"]["reused"] == len(manifest["objects"]) - 1
    for entry in manifest["objects"]:
        if entry["key"] != new["key"]:  # the same file as in the previous backup, not a second copy
            assert (third / "objects" / entry["key"]).stat().st_ino == (second / "objects" / entry["key"]).stat().st_ino


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"DATABASE_URL": "database"}, "the database (DATABASE_URL)"),
        ({"S3_ENDPOINT_URL": "storage"}, "the image storage"),
        ({"--keep": "0"}, "keep at least 1 backup"),
    ],
)
async def test_a_failed_backup_exits_non_zero_and_leaves_nothing(source, tmp_path, broken, message):
    settings, args = {}, []
    if "DATABASE_URL" in broken:
        settings["DATABASE_URL"] = database_url(ADMIN_URL, f"{PREFIX}_does_not_exist")
    if "S3_ENDPOINT_URL" in broken:
        settings["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    if "--keep" in broken:
        args = ["--keep", broken["--keep"]]
    dest = tmp_path / "backups"
    done = await servicerw("backup", "--dest", str(dest), *args, **{"DATABASE_URL": source["url"], **settings})
    assert done.returncode != 0
    assert "servicerw: error: backup failed, nothing was kept" in done.stderr and message in done.stderr, done.stderr
    assert leftovers(dest) == []


async def test_the_local_image_folder_is_backed_up_and_restored_without_s3(source, tmp_path):
    media = tmp_path / "media"
    for key, data in {"ab/cd/640.webp": b"variant", "ef/original": b"original"}.items():
        (media / key).parent.mkdir(parents=True, exist_ok=True)
        (media / key).write_bytes(data)
    local = {"S3_ENDPOINT_URL": "", "MEDIA_ROOT": str(media)}
    done = await backup(source, tmp_path / "backups", **local)
    manifest = json.loads((written(done) / "manifest.json").read_text())
    assert manifest["storage"]["kind"] == "local" and [o["key"] for o in manifest["objects"]] == [
        "ab/cd/640.webp",
        "ef/original",
    ]

    restored = tmp_path / "media-restored"
    target = await new_database("local")
    done = await servicerw(
        "restore", str(written(done)), DATABASE_URL=target, S3_ENDPOINT_URL="", MEDIA_ROOT=str(restored)
    )
    assert done.returncode == 0, done.stderr
    assert (restored / "ab/cd/640.webp").read_bytes() == b"variant"
    assert (restored / "ef/original").read_bytes() == b"original"
    assert await counts(target) == manifest["tables"]

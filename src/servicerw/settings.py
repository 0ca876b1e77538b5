"""Settings: one small dataclass per concern, each read from the environment once.

Every setting is listed in `.env.example`. When a service URL is not set, the app uses an embedded
default (embedded PostgreSQL, in-process store, local media folder) so `just demo` needs nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

ROOT_DIR = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw else default


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated list; blanks dropped."""
    return tuple(part.strip() for part in _env(name).split(",") if part.strip())


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default_factory=lambda: _env("DATABASE_URL"))
    # Idle connections closed after 30 s, 10 s connect timeout, each connection replaced after 7,500 queries.
    pool_min: int = field(default_factory=lambda: _env_int("DATABASE_POOL_MIN", 2))
    # The connection budget (see `pool_max`): connections for all web processes of one instance together,
    # split between its WORKERS; `servicerw worker` has its own small pool (DATABASE_WORKER_CONNECTIONS).
    connections: int = field(default_factory=lambda: _env_int("DATABASE_CONNECTIONS", 30))
    worker_connections: int = field(default_factory=lambda: _env_int("DATABASE_WORKER_CONNECTIONS", 4))
    web_processes: int = field(default_factory=lambda: _env_int("WORKERS", 1))
    # An explicit per-process maximum (tests set 10): overrides the split when set.
    pool_max_override: int = field(default_factory=lambda: _env_int("DATABASE_POOL_MAX", 0))
    # Seconds a request may wait for a pooled connection; then 503 + Retry-After (core/db.PoolExhausted).
    pool_timeout: float = field(default_factory=lambda: float(_env("DATABASE_POOL_TIMEOUT", "2")))
    # asyncpg's prepared-statement cache; off (0) behind PgBouncer in transaction pooling mode.
    statement_cache: bool = field(default_factory=lambda: _env_bool("DATABASE_STATEMENT_CACHE", True))
    idle_timeout: float = 30.0
    connect_timeout: float = 10.0
    max_queries: int = 7500
    command_timeout: float = field(default_factory=lambda: float(_env_int("DATABASE_COMMAND_TIMEOUT", 30)))
    # disable | require | verify-ca | verify-full (asyncpg sslmode names)
    ssl_mode: str = field(default_factory=lambda: _env("DATABASE_SSL", "disable"))
    ssl_root_cert: str = field(default_factory=lambda: _env("DATABASE_SSL_ROOT_CERT"))
    # Read replicas (core/replicas.py): zero or more streaming standbys for the reads that tolerate lag.
    # None = one pool on DATABASE_URL, as without replicas. A replica lagging more than `replica_max_lag`
    # seconds, or down, is skipped (checked every `replica_check_interval` seconds in the background).
    replica_urls: tuple[str, ...] = field(default_factory=lambda: _env_list("DATABASE_REPLICA_URLS"))
    replica_max_lag: float = field(default_factory=lambda: _env_float("DATABASE_REPLICA_MAX_LAG", 10.0))
    replica_check_interval: float = field(default_factory=lambda: _env_float("DATABASE_REPLICA_CHECK_INTERVAL", 2.0))

    @property
    def pool_max(self) -> int:
        """Connections one web process may hold: DATABASE_POOL_MAX when set, else its share of the budget."""
        if self.pool_max_override > 0:
            return self.pool_max_override
        return max(2, self.connections // max(1, self.web_processes))

    def pool_max_for(self, role: str = "web") -> int:
        if role == "worker" and self.pool_max_override <= 0:
            return max(2, self.worker_connections)
        return self.pool_max

    def connect_kwargs(self, role: str = "web") -> dict:
        """Keyword arguments for asyncpg.create_pool (through Piccolo's engine). `role`: "web" (a Granian worker)
        or "worker" (`servicerw worker`, its own small pool)."""
        pool_max = self.pool_max_for(role)
        kwargs: dict = {
            "dsn": self.url,
            "min_size": min(self.pool_min, pool_max),
            "max_size": pool_max,
            "max_inactive_connection_lifetime": self.idle_timeout,
            "max_queries": self.max_queries,
            "timeout": self.connect_timeout,
            "command_timeout": self.command_timeout,
            # Short OLTP queries: JIT compilation and parallel workers cost more than they save, and
            # the working set is in RAM/SSD, so index access is cheap (random_page_cost near seq).
            # Search SQL is built per request: a generic plan would ignore how selective each filter is.
            "server_settings": {
                "jit": "off",
                "max_parallel_workers_per_gather": "0",
                "random_page_cost": "1.1",
                "plan_cache_mode": "force_custom_plan",
            },
        }
        if not self.statement_cache:
            # PgBouncer in transaction mode hands each transaction to any server connection: named prepared
            # statements would be missing there. (These server settings then reach PostgreSQL only if PgBouncer
            # lists them in ignore_startup_parameters and sets them in connect_query: see README "Capacity".)
            kwargs["statement_cache_size"] = 0
        ssl = self.ssl_context()
        if ssl is not None:
            kwargs["ssl"] = ssl
        return kwargs

    def ssl_context(self):
        if self.ssl_mode in ("", "disable"):
            return None
        if self.ssl_mode in ("require", "prefer", "allow"):
            return self.ssl_mode
        import ssl

        ctx = ssl.create_default_context(cafile=self.ssl_root_cert or None)
        ctx.check_hostname = self.ssl_mode == "verify-full"
        return ctx


@dataclass(frozen=True)
class ValkeySettings:
    url: str = field(default_factory=lambda: _env("VALKEY_URL"))
    # Short timeouts: a frozen Valkey must not hold requests for the client's 5 s default.
    socket_timeout: float = field(default_factory=lambda: float(_env("VALKEY_TIMEOUT", "0.25")))
    # After a failure, Valkey is skipped for this many seconds (fail open, in-process fallback).
    retry_after: float = 5.0
    # The log-in limits' counters wait longer (core/stores.build_counter_store): at most this, once, when frozen.
    counter_timeout: float = 1.0
    # Connections per client and process (the cache's and the counters'): commands wait for a free one.
    max_connections: int = field(default_factory=lambda: _env_int("VALKEY_MAX_CONNECTIONS", 16))


@dataclass(frozen=True)
class StorageSettings:
    endpoint_url: str = field(default_factory=lambda: _env("S3_ENDPOINT_URL"))
    access_key: str = field(default_factory=lambda: _env("S3_ACCESS_KEY"))
    secret_key: str = field(default_factory=lambda: _env("S3_SECRET_KEY"))
    bucket: str = field(default_factory=lambda: _env("S3_BUCKET", "servicerw-media"))
    region: str = field(default_factory=lambda: _env("S3_REGION", "us-east-1"))
    # Where browsers fetch images from (a CDN or MinIO's public URL); defaults to endpoint/bucket.
    public_base_url: str = field(default_factory=lambda: _env("S3_PUBLIC_BASE_URL"))
    media_root: Path = field(
        default_factory=lambda: Path(_env("MEDIA_ROOT") or (Path(_env("DATA_DIR", str(ROOT_DIR / ".data"))) / "media"))
    )


@dataclass(frozen=True)
class EmailSettings:
    # Providers in order of preference, comma-separated (sendgrid, ses, smtp, log): when one fails or times
    # out, the next one sends. Default: smtp when SMTP_URL is set, else log (development: nothing is sent).
    providers: tuple[str, ...] = field(
        default_factory=lambda: tuple(p.strip().lower() for p in _env("EMAIL_PROVIDERS").split(",") if p.strip())
    )
    # smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://host:465.
    smtp_url: str = field(default_factory=lambda: _env("SMTP_URL"))
    sender: str = field(default_factory=lambda: _env("EMAIL_FROM", "ServiceRW <no-reply@servicerw.rw>"))
    sendgrid_api_key: str = field(default_factory=lambda: _env("SENDGRID_API_KEY"))
    sendgrid_url: str = field(default_factory=lambda: _env("SENDGRID_URL", "https://api.sendgrid.com").rstrip("/"))
    ses_region: str = field(default_factory=lambda: _env("SES_REGION", "us-east-1"))
    ses_access_key_id: str = field(default_factory=lambda: _env("SES_ACCESS_KEY_ID"))
    ses_secret_access_key: str = field(default_factory=lambda: _env("SES_SECRET_ACCESS_KEY"))
    # Default: https://email.{SES_REGION}.amazonaws.com
    ses_endpoint_url: str = field(default_factory=lambda: _env("SES_ENDPOINT_URL").rstrip("/"))
    # Seconds one provider may take to accept an email before the next one is tried.
    timeout: float = field(default_factory=lambda: float(_env("EMAIL_TIMEOUT", "10")))
    # Emails in flight at once (per worker process).
    concurrency: int = field(default_factory=lambda: _env_int("EMAIL_CONCURRENCY", 10))
    # Attempts (each tries the whole provider chain) before an email is marked dead; between them an
    # exponential backoff with jitter: base x 2^(attempt-1) seconds, at most EMAIL_BACKOFF_MAX.
    max_attempts: int = field(default_factory=lambda: _env_int("EMAIL_MAX_ATTEMPTS", 10))
    backoff_base: float = field(default_factory=lambda: float(_env("EMAIL_BACKOFF_BASE", "30")))
    backoff_max: float = field(default_factory=lambda: float(_env("EMAIL_BACKOFF_MAX", "3600")))
    # A claimed email belongs to its worker this long; after a crash it is sent again (same idempotency key)
    # once the lease has expired. Must exceed the providers' timeouts added up.
    lease: float = field(default_factory=lambda: float(_env("EMAIL_LEASE", "120")))
    # A provider's circuit opens after this many failures in a row and stays open this many seconds.
    breaker_threshold: int = field(default_factory=lambda: _env_int("EMAIL_BREAKER_THRESHOLD", 5))
    breaker_cooldown: float = field(default_factory=lambda: float(_env("EMAIL_BREAKER_COOLDOWN", "30")))
    # The worker is woken by NOTIFY (sent on commit of the queued email) on a LISTEN connection: by default
    # one held from the app's pool. Behind PgBouncer in transaction mode LISTEN does not work: give a direct
    # PostgreSQL URL here. "off": no LISTEN, the worker only polls (every second when idle).
    listen_url: str = field(default_factory=lambda: _env("EMAIL_LISTEN_URL"))

    def __post_init__(self) -> None:
        if not self.providers:
            object.__setattr__(self, "providers", ("smtp",) if self.smtp_url else ("log",))
        if not self.ses_endpoint_url:
            object.__setattr__(self, "ses_endpoint_url", f"https://email.{self.ses_region}.amazonaws.com")


@dataclass(frozen=True)
class SmsSettings:
    # SMS providers in order of preference (pindo, africastalking, log): the outbox worker sends SMS rows
    # through them with the same failover and breakers as email. Default: log (development: nothing sent).
    providers: tuple[str, ...] = field(
        default_factory=lambda: tuple(p.lower() for p in _env_list("SMS_PROVIDERS")) or ("log",)
    )
    sender: str = field(default_factory=lambda: _env("SMS_SENDER", "ServiceRW"))  # the sender id shown on phones
    pindo_token: str = field(default_factory=lambda: _env("PINDO_API_TOKEN"))
    pindo_url: str = field(default_factory=lambda: _env("PINDO_URL", "https://api.pindo.io").rstrip("/"))
    africastalking_username: str = field(default_factory=lambda: _env("AFRICASTALKING_USERNAME"))
    africastalking_api_key: str = field(default_factory=lambda: _env("AFRICASTALKING_API_KEY"))
    africastalking_url: str = field(
        default_factory=lambda: _env("AFRICASTALKING_URL", "https://api.africastalking.com").rstrip("/")
    )
    # The secret in the providers' callback URLs (/webhooks/sms/<provider>/<secret>/...). Unset: derived
    # from SECRET_KEY (so it is stable as long as SECRET_KEY is).
    webhook_secret: str = field(default_factory=lambda: _env("SMS_WEBHOOK_SECRET"))
    # New-message alerts: at most one SMS per owner every SMS_ALERT_MINUTES (messages in between are
    # counted into the next one), and at most SMS_DAILY_CAP a day (Kigali time); the rest by email/dashboard.
    alert_minutes: int = field(default_factory=lambda: _env_int("SMS_ALERT_MINUTES", 15))
    daily_cap: int = field(default_factory=lambda: _env_int("SMS_DAILY_CAP", 10))


@dataclass(frozen=True)
class ServerSettings:
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env_int("PORT", 8000))
    workers: int = field(default_factory=lambda: _env_int("WORKERS", 1))
    debug: bool = field(default_factory=lambda: _env_bool("DEBUG", False))
    environment: str = field(default_factory=lambda: _env("SERVICERW_ENV", "development"))
    allowed_hosts: tuple[str, ...] = field(
        default_factory=lambda: tuple(h.strip() for h in _env("ALLOWED_HOSTS", "*").split(",") if h.strip())
    )
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", str(ROOT_DIR / ".data"))))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); none by default.
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: tuple(p.strip() for p in _env("TRUSTED_PROXIES").split(",") if p.strip())
    )
    # POSTs to the account forms (sign-up, log-in, reset) per client address and minute (accounts/limits.py).
    account_posts_per_minute: int = field(default_factory=lambda: _env_int("ACCOUNT_POSTS_PER_MINUTE", 10))
    # Public base URL for links in emails (e.g. https://servicerw.rw). Required in production; in development
    # without it, links start with http://HOST:PORT (never with the request's Host header).
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL").rstrip("/"))
    # Signs cookies and tokens. Required in production; development gets a per-process random key.
    secret_key: str = field(default_factory=lambda: _env("SECRET_KEY") or secrets.token_urlsafe(32))
    # /metrics (Prometheus) asks for `Authorization: Bearer <token>` when set; in production without it
    # /metrics answers 404, in development it is open.
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN"))
    # The web processes also do the background work (photos, the email outbox, statistics rollups,
    # analytics partitions). false: they leave it to `servicerw worker` processes.
    web_background: bool = field(default_factory=lambda: _env_bool("WEB_BACKGROUND", True))
    # Requests one process works on at once (core/capacity.py); beyond it an immediate 503 + Retry-After.
    # /healthz, /readyz and /metrics are never refused. 0: no limit.
    max_in_flight: int = field(default_factory=lambda: _env_int("MAX_IN_FLIGHT", 100))
    # On SIGTERM a process stops accepting and waits up to this many seconds for the requests in flight before
    # closing the database pool and stores (keep it below the orchestrator's grace period, e.g. k8s 30 s).
    shutdown_timeout: float = field(default_factory=lambda: float(_env("SHUTDOWN_TIMEOUT", "25")))
    # One JSON line per request on stdout (request id, method, route, path, status, duration, client).
    access_log: bool = field(default_factory=lambda: _env_bool("ACCESS_LOG", True))
    # /metrics reads the database's gauges (reviews/photos/emails waiting) at most once per this many seconds.
    metrics_cache_seconds: float = field(default_factory=lambda: float(_env("METRICS_CACHE_SECONDS", "5")))
    # Where the Granian workers of `servicerw serve` keep their metrics for /metrics to add up (read by
    # prometheus-client itself; emptied at start). Unset: a new temporary directory for each `serve`.
    metrics_dir: str = field(default_factory=lambda: _env("PROMETHEUS_MULTIPROC_DIR"))

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def link_base(self) -> str:
        """The start of every link in an email: PUBLIC_URL, else (development) http://HOST:PORT."""
        if self.public_url:
            return self.public_url
        host = {"0.0.0.0": "localhost", "::": "localhost", "": "localhost"}.get(self.host, self.host)
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class AnalyticsSettings:
    # Monthly partitions of business_analytics: created this many months ahead, and detached (kept as
    # ordinary tables for the operator to archive or drop) once older than the retention.
    months_ahead: int = field(default_factory=lambda: _env_int("ANALYTICS_MONTHS_AHEAD", 12))
    retention_months: int = field(default_factory=lambda: _env_int("ANALYTICS_RETENTION_MONTHS", 24))
    # Real-user vitals (analytics/rum.py): the share of page views whose browser measures and sends them (the
    # browser draws the lot, so cached pages stay the same for everyone), and beacons accepted per client
    # address and minute.
    rum_sample_rate: float = field(default_factory=lambda: _env_float("RUM_SAMPLE_RATE", 0.1))
    rum_limit: int = field(default_factory=lambda: _env_int("RUM_LIMIT_PER_MINUTE", 120))

    def __post_init__(self) -> None:
        if not 0 <= self.rum_sample_rate <= 1:
            raise ValueError(f"RUM_SAMPLE_RATE must be between 0 and 1, got {self.rum_sample_rate}")
        if self.rum_limit < 1:
            raise ValueError(f"RUM_LIMIT_PER_MINUTE must be at least 1, got {self.rum_limit}")
        if self.retention_months < 1:
            raise ValueError(f"ANALYTICS_RETENTION_MONTHS must be at least 1, got {self.retention_months}")
        if not 1 <= self.months_ahead <= 120:
            raise ValueError(f"ANALYTICS_MONTHS_AHEAD must be between 1 and 120, got {self.months_ahead}")


@dataclass(frozen=True)
class ApiSettings:
    # Requests per key and per 15-minute window by tier (the plan's figures), and for requests without a key
    # (per client address). GraphQL requests count the cost of what they return instead of 1.
    window: int = 900
    free: int = field(default_factory=lambda: _env_int("API_LIMIT_FREE", 100))
    basic: int = field(default_factory=lambda: _env_int("API_LIMIT_BASIC", 1000))
    premium: int = field(default_factory=lambda: _env_int("API_LIMIT_PREMIUM", 10000))
    anonymous: int = field(default_factory=lambda: _env_int("API_LIMIT_ANONYMOUS", 60))
    graphql_max_depth: int = field(default_factory=lambda: _env_int("GRAPHQL_MAX_DEPTH", 6))
    graphql_max_query: int = field(default_factory=lambda: _env_int("GRAPHQL_MAX_QUERY", 4000))  # characters

    def limit(self, tier: str | None) -> int:
        return {"free": self.free, "basic": self.basic, "premium": self.premium}.get(tier or "", self.anonymous)


@dataclass(frozen=True)
class InquirySettings:
    # Messages created per hour: per device (a signed cookie), per client address (a ceiling high enough for
    # many customers behind one mobile carrier address) and received per business (inquiries/limits.py).
    per_device: int = field(default_factory=lambda: _env_int("INQUIRY_LIMIT_DEVICE", 5))
    per_address: int = field(default_factory=lambda: _env_int("INQUIRY_LIMIT_ADDRESS", 60))
    per_business: int = field(default_factory=lambda: _env_int("INQUIRY_LIMIT_BUSINESS", 30))


@dataclass(frozen=True)
class SearchSettings:
    # Beyond this many matches a search stops counting: "1,000+" is shown, facets come from the first
    # matches and relevance ranks them plus every name match (see SearchService._run).
    count_cap: int = field(default_factory=lambda: max(20, _env_int("SEARCH_COUNT_CAP", 1000)))


@dataclass(frozen=True)
class PageCacheSettings:
    # Full-page cache for anonymous visitors (core/pagecache.py): per-process LRU in front of Valkey.
    enabled: bool = field(default_factory=lambda: _env_bool("PAGE_CACHE", True))
    memory_mb: int = field(default_factory=lambda: _env_int("PAGE_CACHE_MEMORY_MB", 32))  # per process
    ttl: int = field(default_factory=lambda: _env_int("PAGE_CACHE_TTL", 300))  # seconds an entry is kept
    max_age: int = field(default_factory=lambda: _env_int("PAGE_CACHE_MAX_AGE", 60))  # browsers and CDNs
    # Seconds a process reuses the data version it read from Valkey (other processes' writes show after it).
    version_ttl: float = field(default_factory=lambda: float(_env("PAGE_CACHE_VERSION_TTL", "1")))


@dataclass(frozen=True)
class BackupSettings:
    # `servicerw backup` writes DIR/<UTC timestamp>/ (database dump, objects, manifest) here; compose and
    # Kubernetes mount a volume at /backups. Relative paths are taken from the current directory.
    dir: Path = field(default_factory=lambda: Path(_env("BACKUP_DIR", "backups")))
    # How many backups are kept: the newest BACKUP_KEEP complete ones, older ones are deleted.
    keep: int = field(default_factory=lambda: _env_int("BACKUP_KEEP", 7))


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    valkey: ValkeySettings = field(default_factory=ValkeySettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    page_cache: PageCacheSettings = field(default_factory=PageCacheSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    inquiries: InquirySettings = field(default_factory=InquirySettings)


class ConfigurationError(ValueError):
    """Settings the app refuses to run with; the message says what to change."""


def production_problems(settings: Settings) -> list[str]:
    """What makes these settings unsafe in production (SERVICERW_ENV=production); empty in development.
    Links in emails would point wherever a request's Host says, any Host would be answered, and emails
    (reset links included) would only be written to the log."""
    server = settings.server
    if not server.production:
        return []
    problems = []
    parts = urlsplit(server.public_url)
    if not server.public_url:
        problems.append(
            "PUBLIC_URL is not set (the address every link in an email starts with, e.g. https://servicerw.rw)"
        )
    elif parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        problems.append(
            f"PUBLIC_URL must be like https://servicerw.rw (scheme and host only), not {server.public_url!r}"
        )
    if not server.allowed_hosts or "*" in server.allowed_hosts:
        problems.append("ALLOWED_HOSTS is * (list the host names the site answers to, e.g. servicerw.rw,localhost)")
    if all(name == "log" for name in settings.email.providers):
        problems.append(
            "no email provider: emails would only be written to the log (set EMAIL_PROVIDERS, e.g. sendgrid,ses,smtp, "
            "or SMTP_URL)"
        )
    return problems


def check_production(settings: Settings) -> None:
    """Raises ConfigurationError listing every problem `production_problems` finds."""
    problems = production_problems(settings)
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

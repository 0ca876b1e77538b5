"""create_app(): the one place that assembles the application."""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import asynccontextmanager
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")

import structlog  # noqa: E402
from jinja2 import Environment  # noqa: E402
from litestar import Litestar, Response, Router  # noqa: E402
from litestar.config.allowed_hosts import AllowedHostsConfig  # noqa: E402
from litestar.config.compression import CompressionConfig  # noqa: E402
from litestar.config.csrf import CSRFConfig  # noqa: E402
from litestar.exceptions import HTTPException, NotFoundException  # noqa: E402
from litestar.logging.config import StructLoggingConfig  # noqa: E402
from litestar.openapi import OpenAPIConfig  # noqa: E402
from litestar.openapi.plugins import JsonRenderPlugin  # noqa: E402
from litestar.openapi.spec import Components, SecurityScheme  # noqa: E402
from litestar.plugins.htmx import HTMXPlugin  # noqa: E402
from litestar.plugins.jinja import JinjaTemplateEngine  # noqa: E402
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin  # noqa: E402
from litestar.stores.registry import StoreRegistry  # noqa: E402
from litestar.template.config import TemplateConfig  # noqa: E402
from markupsafe import Markup  # noqa: E402

from servicerw.analytics import rum  # noqa: E402
from servicerw.api.gate import Gate, RateLimiter, api_gate, make_api_headers  # noqa: E402
from servicerw.assembly import Services, build_services, route_handlers  # noqa: E402
from servicerw.core import auth, db, i18n, replicas  # noqa: E402
from servicerw.core.background import PollingWorker  # noqa: E402
from servicerw.core.capacity import InFlight  # noqa: E402
from servicerw.core.datasaver import active as data_saver  # noqa: E402
from servicerw.core.datasaver import datasaver_middleware, photo_label  # noqa: E402
from servicerw.core.errors import http_error, not_found, problem, server_error  # noqa: E402
from servicerw.core.health import healthz, readyz  # noqa: E402
from servicerw.core.metrics import metrics, pool_sampler_work  # noqa: E402
from servicerw.core.observe import observe_requests  # noqa: E402
from servicerw.core.pagecache import PageCache  # noqa: E402
from servicerw.core.security import input_guard, make_before_send, timing_middleware  # noqa: E402
from servicerw.core.sessions import session_config  # noqa: E402
from servicerw.core.static import BOOT_SCRIPT, StaticFiles, serve_root_file, serve_service_worker, serve_static  # noqa: E402
from servicerw.core.storage import LocalStorage  # noqa: E402
from servicerw.core.web import (  # noqa: E402
    answer_head_as_get,
    day_name,
    format_count,
    format_date,
    format_number,
    format_rwf,
    language_middleware,
    selected,
)
from servicerw.inquiries.services import method_label, response_time_text  # noqa: E402
from servicerw.search.services import search_words_worker  # noqa: E402
from servicerw.settings import ROOT_DIR, Settings, check_production, get_settings  # noqa: E402

log = structlog.get_logger(__name__)


def _configure_jinja(engine: JinjaTemplateEngine, static_files: StaticFiles, settings: Settings) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_files.url,
        boot_script=Markup(BOOT_SCRIPT),  # noqa: S704 - our own static/js/boot.js, allowed by its CSP hash
        current_language=i18n.current_language,
        languages=i18n.LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        format_rwf=format_rwf,
        format_number=format_number,
        format_count=format_count,
        day_name=day_name,
        format_date=format_date,
        response_time=response_time_text,
        contact_method=method_label,
        selected=selected,
        data_saver=data_saver,
        photo_label=photo_label,
        rum_page=rum.page_type,  # the vitals beacon (base.html): its page type, None = no beacon
        rum_sample_rate=f"{settings.analytics.rum_sample_rate:g}",
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def _media_files(storage: LocalStorage) -> Any:
    """Uploaded photos served by the app itself when there is no S3 (development, the demo)."""
    from litestar.datastructures import CacheControlHeader
    from litestar.static_files import create_static_files_router

    storage.root.mkdir(parents=True, exist_ok=True)
    return create_static_files_router(
        path="/media",
        directories=[storage.root],
        include_in_schema=False,
        # Keys are random and never reused: a year, like the S3 objects' Cache-Control.
        cache_control=CacheControlHeader(max_age=31536000, public=True),
        send_as_attachment=False,
    )


async def _warn_if_degraded(settings: Settings, services: Services) -> None:
    """Valkey or S3 unreachable at boot: each web process starts anyway (in-process caches and limits, photo
    placeholders, uploads refused with a message), as when they fail later, and says so loudly; /readyz shows it."""
    down = []
    if settings.valkey.url and not await services.store.ping():
        down.append("valkey")
    if not isinstance(services.storage, LocalStorage) and not await services.storage.ping():
        down.append("storage")
    if down:
        log.error("starting_degraded", down=down, readyz="/readyz reports them until they answer again")


API_DESCRIPTION = """ServiceRW's public API: the directory's businesses, reviews, categories and places, and, for
owners with an API key, their messages and statistics.

- Keys: create one in your dashboard (`/dashboard/api-keys`); send it as `Authorization: Bearer KEY`. Requests
  without a key are allowed for public data, with a small limit per client address.
- Limits per key and 15-minute window: free 100, basic 1,000, premium 10,000 requests. Every answer carries
  `RateLimit-Policy` and `RateLimit` (IETF httpapi draft); past the limit, 429 with `Retry-After`.
- Pages: follow `links.next` / `links.prev`; page numbers have no depth limit.
- Caching: answers carry an `ETag`; send it back in `If-None-Match` to get 304.
- Language: `Accept-Language` (rw, en, fr) for names and descriptions. Error `detail` texts are in English.
- Errors: RFC 9457 `application/problem+json`.
- GraphQL (read-only) at `/graphql`, the same keys and limits; each returned object costs budget units
  (business 5, review/category/place 1)."""


def _no_html_404(response: Response) -> Response:
    """Litestar's OpenAPI router answers unknown paths below it (here: any unknown `/api/v1/…`) with an HTML 404
    page: the API answers a problem document instead."""
    if response.status_code == 404:
        return problem(404, "No such endpoint: see /api/v1/openapi.json.")
    return response


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ServiceRW API",
        version="1.0.0",
        description=API_DESCRIPTION,
        path="/api/v1",
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router("/api/v1", route_handlers=[], include_in_schema=False, after_request=_no_html_404),
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="An API key from the dashboard")
            }
        ),
        use_handler_docstrings=False,
    )


def _replica_middleware(settings: Settings) -> list[Any]:
    """Read your writes (core/replicas.py), only with read replicas configured."""
    if not settings.database.replica_urls:
        return []
    api = ("/api/", "/graphql")
    return [replicas.read_your_writes(settings.database, production=settings.server.production, exclude=api)]


def page_cache(settings: Settings, services: Services, build: str = "") -> PageCache:
    """The anonymous visitors' page cache (core/pagecache.py), with the side effects its hits repeat."""
    config = settings.page_cache
    return PageCache(
        services.cache,
        services.store.with_namespace("page") if settings.valkey.url else None,
        max_bytes=config.memory_mb * 1024 * 1024,
        ttl=config.ttl,
        max_age=config.max_age,
        version_ttl=config.version_ttl,
        session_cookie=session_config(settings.server).key,
        hooks={"analytics.event": services.analytics.event, "analytics.search": services.analytics.search},
        enabled=config.enabled,
        build=build,
    )


# Seconds the shutdown waits for the pooled connections still held once the drain is over (a request still running
# at its deadline, work it does not count) before cutting them: asyncpg's own close would wait for ever. Below
# KILL_AFTER_SHUTDOWN (cli.py), so that the cut, not Granian's kill, ends such a shutdown.
POOL_CLOSE_WITHIN = 3.0


def create_app(settings: Settings | None = None, services: Services | None = None) -> Litestar:
    settings = settings or get_settings()
    check_production(settings)  # ConfigurationError: no PUBLIC_URL, ALLOWED_HOSTS=*, or only the log provider
    services = services or build_services(settings)
    static_files = StaticFiles()
    storage, server = services.storage, settings.server
    background = services.workers if server.web_background else []
    workers = [*background, search_words_worker(services.search)]
    in_flight = InFlight(settings)
    pool_sampler = PollingWorker("pool_metrics", pool_sampler_work, every=1.0)  # the pool gauges, each second
    pages = page_cache(settings, services, build=static_files.fingerprint)

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await db.start_pool(settings.database)
        await replicas.start(settings.database, db.engine().pool)  # nothing without DATABASE_REPLICA_URLS
        if isinstance(storage, LocalStorage):
            await storage.ping()
        await _warn_if_degraded(settings, services)
        await services.catalog.ensure_loaded()
        services.analytics.start()
        services.rum.start()
        for worker in workers:
            worker.start()
        pool_sampler.start()
        try:
            yield
        finally:
            # SIGTERM: Granian has stopped accepting and answered the requests of its open connections (with
            # `Connection: close`); those whose client has gone may still run: they finish before the pool closes.
            began = time.monotonic()
            left = await in_flight.drain(server.shutdown_timeout)
            if left:
                log.warning("shutdown_requests_cut", in_flight=left, waited=server.shutdown_timeout)
            drained = time.monotonic()
            await pool_sampler.stop()
            await asyncio.gather(*(worker.stop() for worker in workers))
            await services.analytics.stop()
            await services.rum.stop()
            await replicas.close()
            if not await db.close_pool(timeout=POOL_CLOSE_WITHIN):
                log.warning("shutdown_connections_cut", waited=POOL_CLOSE_WITHIN)
            await services.store.close()
            await services.counter_store.close()
            await services.account_limits.close()
            # One line per stopping process: where its shutdown spent its time (README "Stopping").
            log.info("shutdown", drain_s=round(drained - began, 3), close_s=round(time.monotonic() - drained, 3))

    root_files = [serve_static, serve_root_file, serve_service_worker]
    handlers: list[Any] = [*route_handlers(), healthz, readyz, metrics, *root_files]
    if isinstance(storage, LocalStorage):
        handlers.append(_media_files(storage))

    template_config = TemplateConfig(
        directory=ROOT_DIR / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: _configure_jinja(engine, static_files, settings),
    )
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        dependencies={**services.providers(), **auth.DEPENDENCIES},
        template_config=template_config,
        plugins=[
            HTMXPlugin(),
            # Errors are logged by our exception handlers; each request by core/observe.py (one JSON line).
            StructlogPlugin(
                StructlogConfig(
                    enable_middleware_logging=False,
                    structlog_logging_config=StructLoggingConfig(log_exceptions="never"),
                )
            ),
        ],
        middleware=[
            timing_middleware,
            input_guard,
            language_middleware,
            datasaver_middleware,  # before the page cache: its key has the data-saver state
            pages.middleware,  # after the language is known; outside CSRF and compression (see pagecache.py)
            api_gate,
            session_config(server).middleware,
            *_replica_middleware(settings),
        ],
        csrf_config=CSRFConfig(
            secret=server.secret_key,
            cookie_name="__Host-csrftoken" if server.production else "csrftoken",
            cookie_secure=server.production,
            cookie_httponly=True,
            cookie_samesite="lax",
            # API writes are authenticated by their key alone, never by the session cookie; the providers'
            # webhooks by the secret in their URL.
            exclude=["^/static/", "^/media/", "^/healthz", "^/readyz", "^/api/", "^/graphql", "^/webhooks/"],
        ),
        before_send=[make_before_send(settings), make_api_headers()],
        compression_config=CompressionConfig(
            backend="brotli",
            brotli_gzip_fallback=True,
            minimum_size=500,
            brotli_quality=5,
            exclude_opt_key="skip_compression",
        ),
        # /metrics is exempt: Prometheus scrapes each pod by its IP address (its Host), sends the bearer token, and
        # the answer holds no link or host-dependent content.
        allowed_hosts=AllowedHostsConfig(allowed_hosts=list(settings.server.allowed_hosts), exclude=["^/metrics$"])
        if settings.server.allowed_hosts != ("*",)
        else None,
        # The sessions store is the one the services were given (deactivation deletes sessions in it).
        stores=StoreRegistry(
            stores={"sessions": services.session_store}, default_factory=services.store.with_namespace
        ),
        exception_handlers={
            **auth.EXCEPTION_HANDLERS,
            NotFoundException: not_found,
            HTTPException: http_error,
            Exception: server_error,
        },
        debug=settings.server.debug,
        # OpenAPI documents the public API only (its router sets include_in_schema=True).
        openapi_config=openapi_config(),
        include_in_schema=False,
    )
    # Request ids, the access log and the HTTP metrics see every request (unknown paths, HEAD, and the 503s of
    # the in-flight limit included).
    app.asgi_handler = observe_requests(in_flight.wrap(answer_head_as_get(app.asgi_handler)), settings)
    app.state.in_flight = in_flight
    app.state.settings = settings
    app.state.account_limits = services.account_limits
    app.state.access = services.access
    app.state.static_files = static_files
    app.state.cache = services.cache
    app.state.page_cache = pages
    app.state.analytics = services.analytics
    app.state.search = services.search
    app.state.photos = services.photos
    app.state.email_worker = services.email_worker
    app.state.background_workers = workers  # what the lifespan starts in each web process
    app.state.store = services.store
    app.state.storage = storage
    api_limiter = RateLimiter(services.counter_store.with_namespace("api"), settings.api)
    app.state.api_limiter = api_limiter
    app.state.api_gate = Gate(services.api_keys, api_limiter, server)
    app.state.api_reader = services.api_reader
    app.state.valkey_configured = bool(settings.valkey.url)
    return app


def __getattr__(name: str):
    # `servicerw.app:app` for Granian, built on first access so importing this module has no side effects.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)

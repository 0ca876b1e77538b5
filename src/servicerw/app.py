"""create_app(): the one place that assembles the application."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "servicerw.piccolo_conf")

import structlog  # noqa: E402
from jinja2 import Environment  # noqa: E402
from litestar import Litestar  # noqa: E402
from litestar.config.allowed_hosts import AllowedHostsConfig  # noqa: E402
from litestar.config.compression import CompressionConfig  # noqa: E402
from litestar.config.csrf import CSRFConfig  # noqa: E402
from litestar.di import Provide  # noqa: E402
from litestar.exceptions import HTTPException, NotFoundException  # noqa: E402
from litestar.logging.config import StructLoggingConfig  # noqa: E402
from litestar.middleware.rate_limit import RateLimitConfig  # noqa: E402
from litestar.plugins.htmx import HTMXPlugin  # noqa: E402
from litestar.plugins.jinja import JinjaTemplateEngine  # noqa: E402
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin  # noqa: E402
from litestar.stores.registry import StoreRegistry  # noqa: E402
from litestar.template.config import TemplateConfig  # noqa: E402

from servicerw.accounts.controllers import AccountController  # noqa: E402
from servicerw.accounts.services import AccountService  # noqa: E402
from servicerw.admin.controllers import AdminController  # noqa: E402
from servicerw.analytics.services import AnalyticsWriter  # noqa: E402
from servicerw.businesses.controllers import BusinessController  # noqa: E402
from servicerw.businesses.listing import ListingService  # noqa: E402
from servicerw.businesses.manage_controllers import ListingController  # noqa: E402
from servicerw.businesses.services import BusinessService, ProfileService  # noqa: E402
from servicerw.catalog.services import CatalogService  # noqa: E402
from servicerw.core import db, i18n  # noqa: E402
from servicerw.core.cache import Cache  # noqa: E402
from servicerw.core.errors import http_error, not_found, server_error  # noqa: E402
from servicerw.core.health import healthz, readyz  # noqa: E402
from servicerw.core.metrics import metrics  # noqa: E402
from servicerw.core.security import csrf_token_guard, make_before_send, timing_middleware  # noqa: E402
from servicerw.core.sessions import client_address, session_config  # noqa: E402
from servicerw.core.static import StaticFiles, serve_static  # noqa: E402
from servicerw.core.storage import LocalStorage, build_storage  # noqa: E402
from servicerw.core.stores import build_store  # noqa: E402
from servicerw.core.web import day_name, format_date, format_number, format_rwf, language_middleware  # noqa: E402
from servicerw.dashboard.controllers import DashboardController  # noqa: E402
from servicerw.home.controllers import HomeController  # noqa: E402
from servicerw.inquiries.controllers import InboxController, InquiryController  # noqa: E402
from servicerw.inquiries.services import InquiryService, method_label, response_time_text  # noqa: E402
from servicerw.media.controllers import PhotoController  # noqa: E402
from servicerw.media.services import PhotoService, photo_worker  # noqa: E402
from servicerw.notifications.services import outbox_worker  # noqa: E402
from servicerw.reviews.controllers import OwnerReviewController, ReviewController  # noqa: E402
from servicerw.reviews.services import ReviewService  # noqa: E402
from servicerw.search.controllers import SearchController  # noqa: E402
from servicerw.search.controllers import selected as selected_options  # noqa: E402
from servicerw.search.services import SearchService  # noqa: E402
from servicerw.settings import ROOT_DIR, Settings, get_settings  # noqa: E402

log = structlog.get_logger(__name__)


def _configure_jinja(engine: JinjaTemplateEngine, static_files: StaticFiles) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_files.url,
        current_language=i18n.current_language,
        languages=i18n.LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        format_rwf=format_rwf,
        format_number=format_number,
        day_name=day_name,
        format_date=format_date,
        response_time=response_time_text,
        contact_method=method_label,
        selected=selected_options,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


async def refresh_search_words(search: SearchService, every: float = 600.0) -> None:
    """Keep the typo-correction word list fresh; one worker at a time (advisory lock)."""
    while True:
        await asyncio.sleep(every)
        try:
            async with db.engine().pool.acquire() as conn:
                if await conn.fetchval("SELECT pg_try_advisory_lock(77001)"):
                    try:
                        await conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY search_words")
                    finally:
                        await conn.execute("SELECT pg_advisory_unlock(77001)")
        except Exception as error:  # noqa: BLE001 - a failed refresh only means slightly stale corrections
            log.warning("search_words_refresh_failed", error=repr(error))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    static_files = StaticFiles()
    store = build_store(settings.valkey)
    storage = build_storage(settings.storage)
    cache = Cache(store.with_namespace("cache"))
    businesses = BusinessService(storage, cache)
    catalog = CatalogService(cache)
    search = SearchService(businesses, catalog, cache)
    analytics = AnalyticsWriter()
    accounts = AccountService()
    listings = ListingService(cache)
    photos = PhotoService(storage, cache)
    inquiries = InquiryService()
    reviews = ReviewService(cache)
    profiles = ProfileService(storage, cache, reviews=reviews, response_times=inquiries)
    photos_worker = photo_worker(photos)
    email_worker = outbox_worker(settings.email)
    server = settings.server
    # Per client address on the account forms (log-in, sign-up, reset); per account is in the controller.
    auth_rate_limit = RateLimitConfig(
        rate_limit=("minute", 10),
        identifier_for_request=lambda request: client_address(request, server.trusted_proxies),
        check_throttle_handler=lambda request: request.method == "POST",
        store="rate_limit",
    )
    AccountController.middleware = [auth_rate_limit.middleware]

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await db.start_pool(settings.database)
        if isinstance(storage, LocalStorage):
            await storage.ping()
        await catalog.ensure_loaded()
        analytics.start()
        photos_worker.start()
        email_worker.start()
        refresher = asyncio.create_task(refresh_search_words(search), name="search-words")
        try:
            yield
        finally:
            refresher.cancel()
            await photos_worker.stop()
            await email_worker.stop()
            await analytics.stop()
            await db.close_pool()
            await store.close()

    route_handlers: list[Any] = [
        HomeController,
        BusinessController,
        SearchController,
        AccountController,
        ListingController,
        PhotoController,
        DashboardController,
        InquiryController,
        InboxController,
        ReviewController,
        OwnerReviewController,
        AdminController,
        healthz,
        readyz,
        metrics,
        serve_static,
    ]
    if isinstance(storage, LocalStorage):
        from litestar.datastructures import CacheControlHeader
        from litestar.static_files import create_static_files_router

        storage.root.mkdir(parents=True, exist_ok=True)
        route_handlers.append(
            create_static_files_router(
                path="/media",
                directories=[storage.root],
                include_in_schema=False,
                # Keys are random and never reused: a year, like the S3 objects' Cache-Control.
                cache_control=CacheControlHeader(max_age=31536000, public=True),
                send_as_attachment=False,
            )
        )

    template_config = TemplateConfig(
        directory=ROOT_DIR / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: _configure_jinja(engine, static_files),
    )
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        dependencies={
            "businesses": Provide(lambda: businesses, sync_to_thread=False, use_cache=True),
            "profiles": Provide(lambda: profiles, sync_to_thread=False, use_cache=True),
            "catalog": Provide(lambda: catalog, sync_to_thread=False, use_cache=True),
            "search": Provide(lambda: search, sync_to_thread=False, use_cache=True),
            "analytics": Provide(lambda: analytics, sync_to_thread=False, use_cache=True),
            "cache": Provide(lambda: cache, sync_to_thread=False, use_cache=True),
            "accounts": Provide(lambda: accounts, sync_to_thread=False, use_cache=True),
            "listings": Provide(lambda: listings, sync_to_thread=False, use_cache=True),
            "photos": Provide(lambda: photos, sync_to_thread=False, use_cache=True),
            "inquiries": Provide(lambda: inquiries, sync_to_thread=False, use_cache=True),
            "reviews": Provide(lambda: reviews, sync_to_thread=False, use_cache=True),
        },
        template_config=template_config,
        plugins=[
            HTMXPlugin(),
            # Errors are logged by our exception handlers; per-request logging is left to the proxy.
            StructlogPlugin(
                StructlogConfig(
                    enable_middleware_logging=False,
                    structlog_logging_config=StructLoggingConfig(log_exceptions="never"),
                )
            ),
        ],
        middleware=[timing_middleware, csrf_token_guard, language_middleware, session_config(server).middleware],
        csrf_config=CSRFConfig(
            secret=server.secret_key,
            cookie_name="__Host-csrftoken" if server.production else "csrftoken",
            cookie_secure=server.production,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["^/static/", "^/media/", "^/healthz", "^/readyz"],
        ),
        before_send=[make_before_send()],
        compression_config=CompressionConfig(
            backend="brotli",
            brotli_gzip_fallback=True,
            minimum_size=500,
            brotli_quality=5,
            exclude_opt_key="skip_compression",
        ),
        allowed_hosts=AllowedHostsConfig(allowed_hosts=list(settings.server.allowed_hosts))
        if settings.server.allowed_hosts != ("*",)
        else None,
        stores=StoreRegistry(default_factory=store.with_namespace),
        exception_handlers={
            NotFoundException: not_found,
            HTTPException: http_error,
            Exception: server_error,
        },
        debug=settings.server.debug,
        openapi_config=None,
    )
    app.state.static_files = static_files
    app.state.cache = cache
    app.state.analytics = analytics
    app.state.search = search
    app.state.photos = photos
    app.state.email_worker = email_worker
    app.state.store = store
    app.state.storage = storage
    app.state.valkey_configured = bool(settings.valkey.url)
    return app


def __getattr__(name: str):
    # `servicerw.app:app` for Granian, built on first access so importing this module has no side effects.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)

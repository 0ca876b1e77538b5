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
from litestar.exceptions import HTTPException, NotFoundException  # noqa: E402
from litestar.logging.config import StructLoggingConfig  # noqa: E402
from litestar.plugins.htmx import HTMXPlugin  # noqa: E402
from litestar.plugins.jinja import JinjaTemplateEngine  # noqa: E402
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin  # noqa: E402
from litestar.stores.registry import StoreRegistry  # noqa: E402
from litestar.template.config import TemplateConfig  # noqa: E402

from servicerw.assembly import Services, build_services, route_handlers  # noqa: E402
from servicerw.core import auth, db, i18n  # noqa: E402
from servicerw.core.errors import http_error, not_found, server_error  # noqa: E402
from servicerw.core.health import healthz, readyz  # noqa: E402
from servicerw.core.metrics import metrics  # noqa: E402
from servicerw.core.security import input_guard, make_before_send, timing_middleware  # noqa: E402
from servicerw.core.sessions import session_config  # noqa: E402
from servicerw.core.static import StaticFiles, serve_static  # noqa: E402
from servicerw.core.storage import LocalStorage  # noqa: E402
from servicerw.core.web import (  # noqa: E402
    day_name,
    format_date,
    format_number,
    format_rwf,
    language_middleware,
    selected,
)
from servicerw.inquiries.services import method_label, response_time_text  # noqa: E402
from servicerw.search.services import search_words_worker  # noqa: E402
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
        selected=selected,
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


def create_app(settings: Settings | None = None, services: Services | None = None) -> Litestar:
    settings = settings or get_settings()
    services = services or build_services(settings)
    static_files = StaticFiles()
    storage, server = services.storage, settings.server
    workers = [*services.workers, search_words_worker(services.search)]

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await db.start_pool(settings.database)
        if isinstance(storage, LocalStorage):
            await storage.ping()
        await services.catalog.ensure_loaded()
        services.analytics.start()
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            await asyncio.gather(*(worker.stop() for worker in workers))
            await services.analytics.stop()
            await db.close_pool()
            await services.store.close()

    handlers: list[Any] = [*route_handlers(), healthz, readyz, metrics, serve_static]
    if isinstance(storage, LocalStorage):
        handlers.append(_media_files(storage))

    template_config = TemplateConfig(
        directory=ROOT_DIR / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: _configure_jinja(engine, static_files),
    )
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        dependencies={**services.providers(), **auth.DEPENDENCIES},
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
        middleware=[timing_middleware, input_guard, language_middleware, session_config(server).middleware],
        csrf_config=CSRFConfig(
            secret=server.secret_key,
            cookie_name="__Host-csrftoken" if server.production else "csrftoken",
            cookie_secure=server.production,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["^/static/", "^/media/", "^/healthz", "^/readyz"],
        ),
        before_send=[make_before_send(settings)],
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
        openapi_config=None,
    )
    app.state.settings = settings
    app.state.access = services.access
    app.state.static_files = static_files
    app.state.cache = services.cache
    app.state.analytics = services.analytics
    app.state.search = services.search
    app.state.photos = services.photos
    app.state.email_worker = services.email_worker
    app.state.store = services.store
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

"""Error pages: a translated 404, a generic 500 (never a traceback), and clear 4xx for bad input.

Under `/api/` and `/graphql` every error is RFC 9457 `application/problem+json` instead (`problem`), never
HTML: the API router has these handlers itself, and the app-level ones below answer the same way for what
happens outside it there (an unknown path or method)."""

from __future__ import annotations

import asyncio

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Template

from servicerw.core import db, i18n
from servicerw.core.security import CSRF_MESSAGE, InvalidInput
from servicerw.core.web import language_for_scope

log = structlog.get_logger(__name__)


PROBLEM = "application/problem+json"
API_PREFIXES = ("/api/", "/graphql")
PROBLEM_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path == "/api"


def problem(
    status: int,
    detail: str = "",
    *,
    instance: str = "",
    headers: dict | None = None,
    errors: list[dict] | None = None,
) -> Response:
    """An RFC 9457 problem document. `type` is about:blank (the status says what happened); `detail` is
    English (see the API docs)."""
    body: dict = {"type": "about:blank", "title": PROBLEM_TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(
        body, status_code=status, media_type=PROBLEM, headers={**(headers or {}), "cache-control": "no-store"}
    )


def api_error(request: Request, exc: Exception) -> Response:
    """Any exception under the API as a problem document (5xx logged, never described)."""
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            {"key": str(e.get("key", "")), "message": str(e.get("message", ""))[:200]}
            for e in extra
            if isinstance(e, dict)
        ]
        return problem(400, str(exc.detail)[:300] or "Invalid request.", instance=request.url.path, errors=errors)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        detail = exc.detail if exc.detail != PROBLEM_TITLES.get(exc.status_code) else ""
        return problem(exc.status_code, str(detail)[:300], instance=request.url.path, headers=dict(exc.headers or {}))
    if isinstance(exc, db.PoolExhausted) or db.lost_connection(exc):
        return database_unavailable(request, exc)
    log.error("unhandled_error", path=request.url.path, error=repr(exc), exc_info=exc)
    return problem(500, "The server failed to answer this request.", instance=request.url.path)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept or not accept


def _page(
    request: Request, template: str, status: int, context: dict | None = None, headers: dict | None = None
) -> Response:
    i18n.activate(language_for_scope(request.scope))
    headers = {**(headers or {}), "cache-control": "no-store"}
    if not _wants_html(request):
        return Response(
            {"status_code": status, "detail": (context or {}).get("detail", "")},
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    return Template(template, status_code=status, context=context or {}, headers=headers)


def not_found(request: Request, exc: NotFoundException) -> Response:
    if is_api(request.url.path):
        return api_error(request, exc)
    return _page(request, "errors/404.html", 404)


def http_error(request: Request, exc: HTTPException) -> Response:
    if is_api(request.url.path):
        return api_error(request, exc)
    if isinstance(exc, ValidationException):
        i18n.activate(language_for_scope(request.scope))
        if isinstance(exc, InvalidInput):
            detail = i18n.gettext(exc.detail)
        else:
            detail = i18n.gettext("Some of the values sent are not valid.")
        return _page(request, "errors/400.html", 400, {"detail": detail})
    if exc.detail == CSRF_MESSAGE:
        i18n.activate(language_for_scope(request.scope))
        return _page(request, "errors/error.html", 403, {"status": 403, "detail": i18n.gettext(CSRF_MESSAGE)})
    status = exc.status_code
    if status >= 500:
        return server_error(request, exc)
    # Keep the exception's headers: Retry-After and RateLimit-* on a 429, Allow on a 405.
    return _page(request, "errors/error.html", status, {"status": status}, headers=dict(exc.headers or {}))


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database connection was lost under a write (or a read failed twice): a clear 503, not a 500; the
    pool's connections are renewed for the next requests. Or every pooled connection stayed busy for
    DATABASE_POOL_TIMEOUT (`PoolExhausted`): the same 503, and the pool is left alone."""
    if isinstance(exc, db.PoolExhausted):
        log.warning("database_pool_exhausted", path=request.url.path, pool=db.pool_stats())
    else:
        log.warning("database_connection_lost", path=request.url.path, error=repr(exc))
        asyncio.get_running_loop().create_task(db.renew_pool())
    if is_api(request.url.path):
        return problem(
            503, "The service is briefly unavailable.", instance=request.url.path, headers={"retry-after": "2"}
        )
    i18n.activate(language_for_scope(request.scope))
    return _page(
        request,
        "errors/error.html",
        503,
        {"status": 503, "detail": i18n.gettext("The service is briefly unavailable. Try again in a moment.")},
        headers={"retry-after": "2"},
    )


def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, db.PoolExhausted) or db.lost_connection(exc):
        return database_unavailable(request, exc)
    if is_api(request.url.path):
        return api_error(request, exc)
    log.error("unhandled_error", path=request.url.path, error=repr(exc), exc_info=exc)
    try:
        return _page(request, "errors/500.html", 500)
    except Exception:  # the template itself failed: plain text, still no traceback
        return Response("Internal server error", status_code=500, media_type=MediaType.TEXT)

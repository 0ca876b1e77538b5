"""POST /rum: the real-user vitals beacon (static/js/rum.js, `navigator.sendBeacon`), see analytics/rum.py.

Exempt from CSRF, like the API: a beacon cannot carry the token, and the request has no session to abuse.
It is safe because the only thing it can do is add 1 to a few bounded aggregate counters (a known page type,
known metrics, values in range); it reads nothing back, changes no one's data and is limited per address.
A forged beacon can at worst skew a statistic by as much as the limit allows.
"""

from __future__ import annotations

from litestar import MediaType, Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException

from servicerw.analytics.rum import MAX_BODY, RumRecorder, parse_beacon
from servicerw.core.sessions import client_address
from servicerw.settings import Settings


def _answer(status: int, text: str = "") -> Response:
    return Response(text, status_code=status, media_type=MediaType.TEXT, headers={"cache-control": "no-store"})


@post(
    "/rum",
    name="rum_beacon",
    status_code=200,  # the answer is the Response returned: 204, or 400/413/429
    request_max_body_size=MAX_BODY,
    opt={"exclude_from_csrf": True, "skip_compression": True},
)
async def rum_beacon(
    request: Request, rum: NamedDependency[RumRecorder], settings: NamedDependency[Settings]
) -> Response:
    try:
        body = await request.body()
    except ClientException as error:  # larger than MAX_BODY (Litestar's own limit: 413)
        return _answer(error.status_code, "Beacon too large.")
    if len(body) > MAX_BODY:
        return _answer(413, "Beacon too large.")
    beacon = parse_beacon(body)
    if beacon is None:
        return _answer(400, "Not a valid beacon.")
    if not await rum.allowed(client_address(request, settings.server.trusted_proxies)):
        return _answer(429, "Too many beacons.")
    rum.record(beacon)
    return _answer(204)


ROUTES = [rum_beacon]

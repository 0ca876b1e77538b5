"""Liveness and readiness. Readiness depends on the database only: Valkey and S3 are reported
but their trouble degrades features, it does not take the site out of the load balancer."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Response

from servicerw.core import db, replicas


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response[dict]:
    state = request.app.state
    if state.in_flight.draining:  # shutting down: out of the load balancer while the requests in flight finish
        return Response({"status": "shutting down"}, status_code=503, headers={"cache-control": "no-store"})
    database = await db.ping()
    valkey = await state.store.ping()
    s3 = await state.storage.ping()
    body = {
        "status": "ready" if database else "not ready",
        "database": "up" if database else "down",
        "valkey": ("up" if valkey else "down") if state.valkey_configured else "in-process",
        "storage": f"{state.storage.kind}:{'up' if s3 else 'down'}",
    }
    replica_state = replicas.state()  # reported only: without a usable replica, reads go to the primary
    if replica_state is not None:
        body["replicas"] = replica_state
    return Response(body, status_code=200 if database else 503, headers={"cache-control": "no-store"})

"""JSON answers with a validator: a weak ETag over the encoded body, and 304 when the client has it."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response

from servicerw.api.schemas import Problem

PUBLIC = "no-cache"  # may be stored, revalidated every time (cheap with the ETag)
PRIVATE = "private, no-cache"
_encoder = msgspec.json.Encoder()


def etagged(request: Request, value: Any, cache_control: str = PUBLIC, status_code: int = 200) -> Response:
    body = _encoder.encode(value)
    tag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"etag": tag, "cache-control": cache_control}
    wanted = request.headers.get("if-none-match", "")
    if wanted and (wanted.strip() == "*" or tag in {t.strip() for t in wanted.split(",")}):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, status_code=status_code, media_type="application/json", headers=headers)


def problem_spec(description: str, example_status: int, detail: str):
    """An OpenAPI response of problem+json, with an example."""
    from litestar.openapi.datastructures import ResponseSpec
    from litestar.openapi.spec import Example

    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
        examples=[
            Example(
                summary=description,
                value={"type": "about:blank", "title": description, "status": example_status, "detail": detail},
            )
        ],
    )

"""Static files with content-hashed names and long cache lifetimes.

Hand-written because Litestar's static-files router serves files by their own names only: here every
file is read once at start-up, its name gets a content hash (`app.css` -> `app.3f2a1c9b0d.css`), and
templates link the hashed name, so browsers can cache it for a year and still see every change.
Files are compressed once (brotli and gzip), on first request, instead of on every request (at start-up,
the vendored API docs bundle alone would take seconds at brotli's best quality).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from servicerw.settings import ROOT_DIR

STATIC_DIR = ROOT_DIR / "static"
COMPRESSIBLE = (".css", ".js", ".svg", ".txt", ".json", ".html")
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class StaticFile:
    body: bytes
    compressible: bool
    media_type: str
    hashed_name: str
    _gzip: bytes | None = None
    _br: bytes | None = None

    @property
    def gzip(self) -> bytes | None:
        if self.compressible and self._gzip is None:
            self._gzip = gzip.compress(self.body, 9, mtime=0)
        return self._gzip

    @property
    def br(self) -> bytes | None:
        if self.compressible and self._br is None:
            # Best quality for our own small files; large vendored bundles get 9 (a tenth of the time,
            # a few % larger), as they are compressed inside a request.
            self._br = brotli.compress(self.body, quality=11 if len(self.body) < 262144 else 9)
        return self._br


class StaticFiles:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.by_name: dict[str, StaticFile] = {}
        self.by_hashed: dict[str, StaticFile] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:10]
            stem, dot, ext = name.rpartition(".")
            hashed = f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type.endswith("javascript"):
                media_type += "; charset=utf-8"
            entry = StaticFile(
                body=body,
                compressible=path.suffix in COMPRESSIBLE,
                media_type=media_type,
                hashed_name=hashed,
            )
            self.by_name[name] = entry
            self.by_hashed[hashed] = entry

    def url(self, name: str) -> str:
        """The URL of a static file by its plain name, as used in templates."""
        return f"/static/{self.by_name[name].hashed_name}"


@get(["/favicon.ico", "/robots.txt"], include_in_schema=False, opt={"skip_compression": True}, sync_to_thread=False)
def serve_root_file(request: Request) -> Response[bytes]:
    """The files browsers and crawlers ask for at the root, whatever the page says (a 404 there is an error in
    every browser console and audit)."""
    entry = request.app.state.static_files.by_name[request.url.path.lstrip("/")]
    return Response(content=entry.body, media_type=entry.media_type, headers={"cache-control": "public, max-age=86400"})


@get("/static/{path:path}", include_in_schema=False, opt={"skip_compression": True}, sync_to_thread=False)
def serve_static(request: Request, path: FromPath[str]) -> Response[bytes]:
    files: StaticFiles = request.app.state.static_files
    name = path.lstrip("/")
    entry = files.by_hashed.get(name)
    cache = IMMUTABLE
    if entry is None:
        # Plain names (licence files, robots.txt) are served too, with a short cache lifetime.
        entry = files.by_name.get(name)
        cache = "public, max-age=3600"
    if entry is None:
        raise NotFoundException()
    accept = request.headers.get("accept-encoding", "")
    headers = {"cache-control": cache, "vary": "Accept-Encoding"}
    body = entry.body
    if entry.compressible and "br" in accept:
        body, headers["content-encoding"] = entry.br, "br"
    elif entry.compressible and "gzip" in accept:
        body, headers["content-encoding"] = entry.gzip, "gzip"
    return Response(content=body, media_type=entry.media_type, headers=headers)

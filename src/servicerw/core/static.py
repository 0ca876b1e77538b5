"""Static files with content-hashed names and long cache lifetimes.

Hand-written because Litestar's static-files router serves files by their own names only: here every
file is read once at start-up, its name gets a content hash (`app.css` -> `app.3f2a1c9b0d.css`), and
templates link the hashed name, so browsers can cache it for a year and still see every change.
Files are compressed once (brotli and gzip), on first request, instead of on every request (at start-up,
the vendored API docs bundle alone would take seconds at brotli's best quality).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from servicerw.settings import ROOT_DIR

STATIC_DIR = ROOT_DIR / "static"
COMPRESSIBLE = (".css", ".js", ".svg", ".txt", ".json", ".html", ".webmanifest")
IMMUTABLE = "public, max-age=31536000, immutable"
SERVICE_WORKER = "js/sw.js"  # served at /sw.js only (its scope is the folder it is served from)
OFFLINE_PAGE = "/offline"
THEME_COLOUR = "#0a4d8c"  # the header's blue


def _inline_script(name: str) -> tuple[str, str]:
    """A script written into every page (without its leading comment) and the CSP source that allows exactly
    it: `boot.js` is on the path to the first paint, and a request of its own would cost a phone on slow
    data a connection and a round trip before it (base.html)."""
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    if text.startswith("/*"):
        text = text[text.index("*/") + 2 :].lstrip()
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


BOOT_SCRIPT, BOOT_SCRIPT_SOURCE = _inline_script("js/boot.js")


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
        self.service_worker: StaticFile | None = None
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
        source = self.by_name.pop(SERVICE_WORKER, None)
        if source is not None:
            del self.by_hashed[source.hashed_name]
            self.service_worker = self._service_worker(source.body)
        if "icons/icon-192.png" in self.by_name:
            self._add("manifest.webmanifest", self._manifest(), "application/manifest+json")
        # What pages of this build refer to: every hashed name and the inline boot script (page cache key).
        names = "\n".join(sorted(entry.hashed_name for entry in self.by_name.values()))
        worker = self.service_worker.hashed_name if self.service_worker else ""
        self.fingerprint = hashlib.sha256(f"{names}\n{worker}\n{BOOT_SCRIPT_SOURCE}".encode()).hexdigest()[:12]

    def _add(self, name: str, body: bytes, media_type: str) -> None:
        """A file made at start-up from the others, served like them (hashed, cached for a year)."""
        stem, _dot, ext = name.rpartition(".")
        entry = StaticFile(body, True, media_type, f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}.{ext}")
        self.by_name[name] = entry
        self.by_hashed[entry.hashed_name] = entry

    def _service_worker(self, source: bytes) -> StaticFile:
        """The worker with the current hashed names of the stylesheets and scripts to precache (vendored bundles
        aside): whenever one changes, so do the worker's bytes, and browsers install the new one."""
        precache = {
            name: self.url(name)
            for name in self.by_name
            if name.startswith(("css/", "js/")) and name.endswith((".css", ".js"))
        }
        listed = json.dumps(precache, sort_keys=True)
        version = hashlib.sha256(source + listed.encode()).hexdigest()[:10]
        config = json.dumps({"version": version, "static": precache, "offline": OFFLINE_PAGE}, sort_keys=True)
        body = source.replace(b"/*CONFIG*/ {}", config.encode(), 1)
        return StaticFile(body, True, "text/javascript; charset=utf-8", f"sw.{version}.js")

    def _manifest(self) -> bytes:
        """The web app manifest: what a phone needs to install the site (name, start page, colours, icons)."""
        icons = [
            {"src": self.url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": self.url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": self.url("icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ]
        manifest = {
            "id": "/",
            "name": "ServiceRW",
            "short_name": "ServiceRW",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOUR,
            "background_color": "#f6f7f9",
            "icons": icons,
        }
        return json.dumps(manifest, indent=1).encode()

    def url(self, name: str) -> str:
        """The URL of a static file by its plain name, as used in templates."""
        return f"/static/{self.by_name[name].hashed_name}"


@get(["/favicon.ico", "/robots.txt"], include_in_schema=False, opt={"skip_compression": True}, sync_to_thread=False)
def serve_root_file(request: Request) -> Response[bytes]:
    """The files browsers and crawlers ask for at the root, whatever the page says (a 404 there is an error in
    every browser console and audit)."""
    entry = request.app.state.static_files.by_name[request.url.path.lstrip("/")]
    return Response(content=entry.body, media_type=entry.media_type, headers={"cache-control": "public, max-age=86400"})


@get("/sw.js", include_in_schema=False, opt={"skip_compression": True}, sync_to_thread=False)
def serve_service_worker(request: Request) -> Response[bytes]:
    """The service worker, at the root so that its scope is the whole site; browsers ask for it again on
    navigations to see whether it changed (`no-cache`, answered 304 while it has not)."""
    entry = request.app.state.static_files.service_worker
    if entry is None:
        raise NotFoundException()
    etag = f'"{entry.hashed_name}"'
    headers = {"cache-control": "no-cache", "etag": etag}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(content=b"", status_code=304, headers=headers)
    return _encoded(request, entry, headers)


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
    return _encoded(request, entry, {"cache-control": cache})


def _encoded(request: Request, entry: StaticFile, headers: dict[str, str]) -> Response[bytes]:
    """The file compressed as the client accepts (brotli, else gzip), compressed once."""
    accept = request.headers.get("accept-encoding", "")
    headers = {**headers, "vary": "Accept-Encoding"}
    body = entry.body
    if entry.compressible and "br" in accept:
        body, headers["content-encoding"] = entry.br, "br"
    elif entry.compressible and "gzip" in accept:
        body, headers["content-encoding"] = entry.gzip, "gzip"
    return Response(content=body, media_type=entry.media_type, headers=headers)

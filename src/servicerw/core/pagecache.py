"""Full-page cache for anonymous visitors: the public pages and their htmx fragments, served without rendering.

Which routes: handlers marked `opt={"page_cache": True}` (home, profiles, browse, search and its fragments,
suggestions; `page_cache_max_age` overrides the browsers' lifetime, 0 = revalidate every time). Only GET (and
HEAD, answered as GET) answering 200 text/html is kept.

Key: host + path + query (pairs sorted) + language + data-saver state (`core/datasaver.py`: cookie, else the
`Save-Data` header) + the htmx headers that change what a handler renders
(`HX-Request`, `HX-Boosted`, `HX-History-Restore-Request`: see `core/web.wants_fragment`; `HX-Target` is not
read by any cached handler) + the data version (`Cache.version("search")`, bumped by every write that changes a
business through `Cache.invalidate_business`): a write makes the old entries unreachable, nothing is deleted.
The version is read from Valkey at most once per `PAGE_CACHE_VERSION_TTL` seconds per process (a bump in this
process forgets it at once). Entries live in a per-process LRU bounded in bytes, in front of Valkey (TTL).

Who: a request carrying a session cookie is never served from the cache nor stored (`private, no-cache`); an
anonymous visitor with only a CSRF or language cookie is served from it. The service worker (`static/js/sw.js`)
saves a page for offline reading only when its answer carries `X-Cache`, set here on what anonymous visitors get
and on nothing else (tests/test_offline.py holds this).

Per-visitor values (the traps):
- CSRF token. Litestar's double-submit token is the visitor's own `csrftoken` cookie, rendered into every page
  (`hx-headers` on <body>, the forms' hidden field). The rendered page is cut at each occurrence of the token and
  the visitor's own token is put back at serve time (a visitor without the cookie gets a new one, with its
  Set-Cookie, exactly as Litestar's CSRF middleware would). The alternative, a token fetched by a small htmx
  request, would break the forms without JavaScript. Since the bytes differ per visitor, compressed bytes cannot
  be cached as they are; instead each cut piece is kept as raw deflate ending on a byte boundary (Z_SYNC_FLUSH)
  and the gzip answer is assembled from those pieces with the token as a stored block in between: a few
  microseconds instead of compressing 30-60 KB per request. Brotli streams cannot be spliced like this (a
  brotli stream carries state across meta-blocks), so cached pages are sent gzip (every browser accepts it) or
  identity; a client accepting brotli but not gzip gets Litestar's brotli, rendered each time.
- Unique values (the inquiry form's idempotency key): made by `unique_value()`, cut out the same way and
  replaced by a fresh UUID on every serve, so two visitors never share a key.
- Side effects of rendering (analytics: profile views, the search log, impressions): what the handler records
  through `repeat_on_hit` is stored with the entry and done again for every hit (and 304).
- Set-Cookie is never stored (the visitor's own cookies pass on the miss that renders the page); the
  security headers are added by `core/security.before_send` on every answer, and carry no per-request value
  (no nonces: `script-src 'self'`).
- Vary: Accept-Encoding, HX-Request (+ Accept-Language, Cookie from `core/web.language_middleware`, Save-Data
  from `core/datasaver.datasaver_middleware`). A shared
  cache (CDN) must honour `Vary: Cookie`: the pages hold the visitor's CSRF token.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
import structlog
from litestar._parsers import parse_cookie_string
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from prometheus_client import Counter

from servicerw.core.cache import Cache

log = structlog.get_logger(__name__)

PAGE_CACHE = Counter(
    "servicerw_page_cache",
    "Public pages asked for, by result: hit (memory or shared), miss (rendered), bypass (logged in, "
    "not cacheable), not_modified (304 from the cache)",
    ["result"],
)

# Headers never stored: per response (cookies, lengths, timing), or set again at serve time.
_NOT_STORED = {
    "set-cookie",
    "content-length",
    "content-encoding",
    "server-timing",
    "date",
    "vary",
    "content-language",
    "cache-control",
    "etag",
}
_TOKEN = re.compile(r"[0-9a-f]{64,256}")  # Litestar's tokens are hex: safe to put back into HTML and JSON
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, unknown OS
_FINAL_BLOCK = b"\x01\x00\x00\xff\xff"  # an empty stored block with BFINAL set
VARY = "Accept-Encoding, HX-Request"
# The handlers' mark: `@get(..., opt=PUBLIC_PAGE)` (add `"page_cache_max_age": 0` to make browsers revalidate).
PUBLIC_PAGE = {"page_cache": True}


class Entry(msgspec.Struct, array_like=True):
    headers: list[tuple[bytes, bytes]]  # as sent (latin-1)
    parts: list[bytes]  # the page cut at its per-visitor values
    slots: list[str]  # between parts[i] and parts[i+1]: "csrf" or "u<n>" (a unique value)
    deflated: list[bytes]  # each part as raw deflate, sync-flushed (byte-aligned, not final)
    replay: list[tuple[str, list, dict]]
    tag: str
    created: float

    @property
    def size(self) -> int:
        return sum(map(len, self.parts)) + sum(map(len, self.deflated)) + 200


@dataclass
class _Capture:
    unique: list[str] = field(default_factory=list)
    replay: list[tuple[str, list, dict]] = field(default_factory=list)


_capture: ContextVar[_Capture | None] = ContextVar("servicerw_page_capture", default=None)


def unique_value() -> str:
    """A random value (UUID) for a form on a cacheable page: each serve of a cached copy gets a new one."""
    value = str(uuid.uuid4())
    capture = _capture.get()
    if capture is not None:
        capture.unique.append(value)
    return value


def repeat_on_hit(hook: str, *args: Any, **kwargs: Any) -> None:
    """Record a side effect of rendering (e.g. counting a view) so every hit of the cached page does it again:
    `hook` names a function given to `PageCache(hooks=...)`. Outside a page being cached this does nothing."""
    capture = _capture.get()
    if capture is not None:
        capture.replay.append((hook, list(args), kwargs))


def _stored_block(data: bytes) -> bytes:
    out = []
    for start in range(0, len(data), 65535):
        chunk = data[start : start + 65535]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def _deflate(part: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _accepts_gzip(value: str) -> bool:
    for item in value.lower().split(","):
        name, _sep, params = item.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.replace(" ", "")
            return not (q.startswith("q=0") and q.strip("q=0.") == "")
    return False


class LRU:
    """Entries by key, least recently used dropped first once `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self._items.get(key)
        if entry is not None:
            self._items.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.pop(key)
        if entry.size > self.max_bytes:
            return
        self._items[key] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            _key, old = self._items.popitem(last=False)
            self.bytes -= old.size

    def pop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old.size

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)


class PageCache:
    def __init__(
        self,
        cache: Cache,
        store: Any | None,
        *,
        max_bytes: int,
        ttl: int,
        max_age: int,
        version_ttl: float,
        session_cookie: str,
        hooks: dict[str, Callable[..., Any]],
        enabled: bool = True,
        build: str = "",
    ) -> None:
        self.cache = cache
        self.store = store  # the shared (Valkey) store, namespaced; None: this process only
        self.local = LRU(max_bytes)
        self.ttl = ttl
        self.max_age = max_age
        self.version_ttl = version_ttl
        self.session_cookie = session_cookie
        self.hooks = hooks
        self.enabled = enabled
        # The static files' fingerprint (`StaticFiles.fingerprint`): a page names the hashed static files and carries
        # the inline boot script that its build's CSP allows, so a process of another build (a deploy, both versions
        # side by side in a rolling restart) must not serve it: they would be missing, or blocked.
        self.build = build
        self.generation = 0  # `clear()` makes every older key unreachable (shared entries included)
        self._version: tuple[str, float] | None = None
        cache.bump_listeners.append(self._forget_version)

    # --- versions -------------------------------------------------------------------------------

    def _forget_version(self, name: str) -> None:
        self._version = None

    async def version(self) -> str:
        now = time.monotonic()
        if self._version is not None and now - self._version[1] < self.version_ttl:
            return self._version[0]
        value = await self.cache.version("search")
        if value == "0":
            # No version (never bumped, or Valkey lost its data): start one, so pages kept under an earlier
            # "0" (before writes bumped it) cannot come back.
            await self.cache.bump("search")
            value = await self.cache.version("search")
        self._version = (value, now)
        return value

    def clear(self) -> None:
        self.local.clear()
        self.generation += 1
        self._version = None

    # --- entries ----------------------------------------------------------------------------------

    async def _get(self, key: str) -> tuple[Entry | None, str]:
        entry = self.local.get(key)
        now = time.time()
        if entry is not None:
            if now - entry.created < self.ttl:
                return entry, "memory"
            self.local.pop(key)
        if self.store is None or not getattr(self.store, "healthy", False):
            return None, ""
        raw = await self.store.get(key)
        if raw is None:
            return None, ""
        try:
            entry = msgspec.msgpack.decode(raw, type=Entry)
        except msgspec.DecodeError:
            return None, ""
        if now - entry.created >= self.ttl:
            return None, ""
        self.local.put(key, entry)
        return entry, "shared"

    async def _put(self, key: str, entry: Entry) -> None:
        self.local.put(key, entry)
        # An unhealthy store would keep the page in its unbounded in-process fallback: the LRU is enough then.
        if self.store is not None and getattr(self.store, "healthy", False):
            await self.store.set(key, msgspec.msgpack.encode(entry), expires_in=self.ttl)

    @staticmethod
    def make_entry(headers: list[tuple[bytes, bytes]], body: bytes, token: str | None, capture: _Capture) -> Entry:
        values = {value: f"u{n}" for n, value in enumerate(dict.fromkeys(capture.unique))}
        if token:
            values[token] = "csrf"
        parts, slots, start = [], [], 0
        if values:
            pattern = re.compile("|".join(re.escape(v) for v in values).encode())
            for match in pattern.finditer(body):
                parts.append(body[start : match.start()])
                slots.append(values[match.group().decode()])
                start = match.end()
        parts.append(body[start:])
        return Entry(
            headers=headers,
            parts=parts,
            slots=slots,
            deflated=[_deflate(part) for part in parts],
            replay=capture.replay,
            tag=hashlib.blake2b(body if not values else b"\0".join(parts), digest_size=10).hexdigest(),
            created=time.time(),
        )

    @staticmethod
    def body(entry: Entry, token: str, gzip: bool) -> bytes:
        fills = {"csrf": token.encode()}
        for slot in entry.slots:
            if slot not in fills:
                fills[slot] = str(uuid.uuid4()).encode()
        plain = [entry.parts[0]]
        for slot, part in zip(entry.slots, entry.parts[1:], strict=True):
            plain += [fills[slot], part]
        identity = b"".join(plain)
        if not gzip:
            return identity
        pieces = [_GZIP_HEADER, entry.deflated[0]]
        for slot, deflated in zip(entry.slots, entry.deflated[1:], strict=True):
            pieces += [_stored_block(fills[slot]), deflated]
        pieces += [_FINAL_BLOCK, struct.pack("<II", zlib.crc32(identity), len(identity) & 0xFFFFFFFF)]
        return b"".join(pieces)

    def _replay(self, entry: Entry) -> None:
        for hook, args, kwargs in entry.replay:
            function = self.hooks.get(hook)
            if function is None:
                continue
            try:
                function(*args, **kwargs)
            except Exception:  # a side effect must never break the page
                log.exception("page_cache_replay_failed", hook=hook)

    # --- the middleware ---------------------------------------------------------------------------

    def key(self, scope: Scope, headers: dict[bytes, bytes], version: str) -> str:
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = sorted(parse_qsl(query, keep_blank_values=True))
        htmx = tuple(
            headers.get(name, b"").decode("latin-1")[:8]
            for name in (b"hx-request", b"hx-boosted", b"hx-history-restore-request")
        )
        raw = "|".join(
            [
                headers.get(b"host", b"").decode("latin-1"),
                scope["path"],
                urlencode(pairs),
                str(scope.get("state", {}).get("lang", "")),
                "ds" if scope.get("state", {}).get("data_saver") else "",
                ",".join(htmx),
                version,
                str(self.generation),
                self.build,
            ]
        )
        return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            handler = scope.get("route_handler") if scope["type"] == "http" else None
            opt = handler.opt if handler is not None else {}
            if not self.enabled or scope.get("method") != "GET" or not opt.get("page_cache"):
                await app(scope, receive, send)
                return
            max_age = opt.get("page_cache_max_age", self.max_age)
            headers = dict(scope.get("headers", []))
            cookies = parse_cookie_string(headers.get(b"cookie", b"").decode("latin-1"))
            csrf_config = scope["litestar_app"].csrf_config
            token = cookies.get(csrf_config.cookie_name) if csrf_config else None
            session = cookies.get(self.session_cookie)
            accept = headers.get(b"accept-encoding", b"").decode("latin-1")
            gzip = _accepts_gzip(accept)
            if (
                (session and session != "null")
                or (token is not None and not _TOKEN.fullmatch(token))
                or (not gzip and "br" in accept)  # brotli only (no browser): Litestar's brotli, rendered
            ):
                PAGE_CACHE.labels("bypass").inc()
                await app(scope, receive, _with_headers(send, {"cache-control": "private, no-cache"}))
                return
            key = self.key(scope, headers, await self.version())
            entry, where = await self._get(key)
            set_cookie: list[str] = []
            if entry is not None:
                self._replay(entry)
                if token is None and csrf_config:
                    token = generate_csrf_token(secret=csrf_config.secret)
                    set_cookie.append(_csrf_cookie(csrf_config, token))
                result = "hit"
            else:
                entry, token, set_cookie = await self._render(app, scope, receive, send, key)
                if entry is None:
                    return
                result = "miss"
            await self._send(entry, token or "", gzip, set_cookie, headers, max_age, result, where, send)

        return middleware

    async def _render(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, key: str):
        """Render the page (uncompressed) and keep it if it may be cached; else pass the answer on as it is."""
        scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k != b"accept-encoding"]
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        capture = _Capture()
        reset = _capture.set(capture)
        try:
            await app(scope, receive, keep)
        finally:
            _capture.reset(reset)
        start = messages[0] if messages else None
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in (start or {}).get("headers", [])]
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        cookies = [v for k, v in raw_headers if k.lower() == "set-cookie"]
        content_type = next((v for k, v in raw_headers if k.lower() == "content-type"), "")
        csrf_config = scope["litestar_app"].csrf_config
        csrf_name = csrf_config.cookie_name + "=" if csrf_config else "\0"
        token = ScopeState.from_scope(scope).csrf_token
        token = token if isinstance(token, str) and _TOKEN.fullmatch(token) else None
        cacheable = (
            start is not None
            and start.get("status") == 200
            and content_type.startswith("text/html")
            # a session (logging in) or any other cookie: the answer is this visitor's own, not public
            and all(cookie.startswith(csrf_name) for cookie in cookies)
        )
        if not cacheable:
            PAGE_CACHE.labels("bypass").inc()
            for message in messages:
                await send(message)
            return None, None, []
        stored = _encode([(k, v) for k, v in raw_headers if k.lower() not in _NOT_STORED])
        entry = self.make_entry(stored, body, token, capture)
        try:
            await self._put(key, entry)
        except Exception:  # the shared store failing must not fail the page
            log.exception("page_cache_store_failed")
        return entry, token, cookies

    async def _send(
        self,
        entry: Entry,
        token: str,
        gzip: bool,
        set_cookie: list[str],
        request_headers: dict[bytes, bytes],
        max_age: int,
        result: str,
        where: str,
        send: Send,
    ) -> None:
        # Weak: the bytes differ per serve where the page has a unique value; the visitor's token is part of it.
        etag = f'W/"{entry.tag}-{hashlib.blake2b(token.encode(), digest_size=4).hexdigest()}"'
        if set_cookie or not max_age:
            # A page that sets the visitor's CSRF cookie is the visitor's own; max-age 0: revalidate each time.
            cache_control = "private, no-cache" if set_cookie else "public, no-cache"
        else:
            # Browsers revalidate every time (a 304 from this cache costs little) so that a suspension or an
            # edit shows at once; shared caches (a CDN) may keep the page `max_age` seconds.
            cache_control = f"public, max-age=0, must-revalidate, s-maxage={max_age}, stale-while-revalidate={max_age}"
        common = [
            ("cache-control", cache_control),
            ("etag", etag),
            ("vary", VARY),
            ("x-cache", result if result == "miss" else f"hit-{where}"),
            *(("set-cookie", cookie) for cookie in set_cookie),
        ]
        matches = request_headers.get(b"if-none-match", b"").decode("latin-1")
        if result == "hit" and etag in [tag.strip() for tag in matches.split(",")]:
            PAGE_CACHE.labels("not_modified").inc()
            # No content-type here, so the language middleware adds nothing: the 304 carries the whole Vary.
            common[2] = ("vary", f"{VARY}, Accept-Language, Cookie, Save-Data")
            await send({"type": "http.response.start", "status": 304, "headers": _encode(common)})
            await send({"type": "http.response.body", "body": b""})
            return
        PAGE_CACHE.labels(result).inc()
        body = self.body(entry, token, gzip)
        extra = [*common, ("content-length", str(len(body)))]
        if gzip:
            extra.append(("content-encoding", "gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": [*entry.headers, *_encode(extra)]})
        await send({"type": "http.response.body", "body": body})


def _encode(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


_cookie_templates: dict[int, str] = {}


def _csrf_cookie_template(config: Any) -> str:
    if id(config) in _cookie_templates:
        return _cookie_templates[id(config)]
    template = _cookie_templates[id(config)] = Cookie(
        key=config.cookie_name,
        value="TOKEN",
        path=config.cookie_path,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    ).to_header(header="")
    return template


def _csrf_cookie(config: Any, token: str) -> str:
    """The Set-Cookie Litestar's CSRF middleware sends a visitor without the cookie (same attributes; the
    header is formatted once per configuration: Cookie.to_header costs a deep copy per call)."""
    return _csrf_cookie_template(config).replace("TOKEN", token, 1)


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k.encode() for k in extra}
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message["headers"] = [*kept, *_encode(list(extra.items()))]
        await send(message)

    return wrapped

/* ServiceRW's service worker, served at /sw.js (scope: the whole site) by core/static.py, which puts the
   current hashed static names in CONFIG: a changed static file changes these bytes, so browsers install the new
   worker. Hand-written (no library): it does four small things.
   - Static files (hashed, immutable): precached, served from the cache; an older saved page asking for an
     older hashed name gets the current version of the same file.
   - Profiles (/b/<slug>) and searches (/search?...): network first; a whole page (a navigation, an htmx boosted
     link or form, a Back/Forward restore) answered by the page cache to an anonymous visitor (it carries
     X-Cache; logged-in answers never do) is saved, the last 10 of each kind. Offline, the saved copy is shown
     with a note on top.
   - Anything else offline: the offline page (/offline, rendered by the app in the visitor's language and
     precached), filled here with the saved pages. Filled by the worker rather than by a script in the page
     because the worker already holds the list, and the page then works as it arrives, also when htmx swaps it
     into a boosted page (scripts in swapped content are not run again).
   - Never touched: other methods than GET (form answers), other paths (/account, /dashboard, /admin, /api…),
     htmx fragments, other origins. Saved pages keep the visitor's own CSRF token (this browser's cookie):
     nothing is sent from a saved page while offline, and a token gone stale meanwhile gets the site's
     "reload the page" message. */
"use strict";

const CONFIG = /*CONFIG*/ {}; // filled in by core/static.py: version, static (plain name -> hashed URL), offline
const STATIC_CACHE = "servicerw-static-" + CONFIG.version;
const OFFLINE_CACHE = "servicerw-offline";
const SAVED = { profiles: "servicerw-profiles", searches: "servicerw-searches" };
const KEEP = 10;
const DAY = 24 * 3600 * 1000;
const TITLE = /<title>([^<]*)<\/title>/;
const NOTE = /<template id="offline-note">([^<]*)<\/template>/;
const MISSING = /<template id="offline-missing">([^<]*)<\/template>/;

function kindOf(url) {
  if (/^\/b\/[^/]+$/.test(url.pathname)) return "profiles";
  if (url.pathname === "/search") return "searches";
  return null;
}

function wholePage(request) {
  if (request.mode === "navigate") return true;
  const headers = request.headers;
  return (
    headers.get("HX-Request") === "true" &&
    (headers.get("HX-Boosted") === "true" || headers.get("HX-History-Restore-Request") === "true")
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC_CACHE);
      await cache.addAll(Object.values(CONFIG.static));
      await saveOfflinePage();
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("servicerw-static-") && name !== STATIC_CACHE) await caches.delete(name);
      }
      // Navigations start at once, in parallel with starting this worker (a phone takes tens of ms to start it).
      if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request, url));
  } else if (wholePage(request)) {
    event.respondWith(page(event, request, url));
  }
});

async function staticFile(request, url) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  try {
    return await fetch(request);
  } catch (error) {
    const plain = url.pathname.replace(/^\/static\//, "").replace(/\.[0-9a-f]{10}(\.[^./]+)$/, "$1");
    const current = CONFIG.static[plain] && (await cache.match(CONFIG.static[plain], { ignoreVary: true }));
    if (current) return current;
    throw error;
  }
}

async function page(event, request, url) {
  const kind = kindOf(url);
  let response;
  try {
    response = (request.mode === "navigate" && (await event.preloadResponse)) || (await fetch(request));
  } catch (error) {
    const cache = kind ? await caches.open(SAVED[kind]) : null;
    const saved = cache ? await cache.match(url.pathname + url.search, { ignoreVary: true }) : undefined;
    return saved ? withNote(saved) : offlinePage(null);
  }
  if (url.pathname === CONFIG.offline && response.ok) return offlinePage(response);
  if (kind && response.status === 200 && response.headers.has("x-cache")) {
    event.waitUntil(save(kind, url, response.clone()));
  }
  event.waitUntil(refreshOfflinePage(response));
  return response;
}

// Saves run one after another: each keeps the newest KEEP of its kind (by a stamp that never repeats).
let queue = Promise.resolve();
let lastStamp = 0;
function save(kind, url, response) {
  queue = queue.then(() => store(kind, url, response)).catch(() => undefined);
  return queue;
}

async function store(kind, url, response) {
  const html = await response.text();
  if (!TITLE.test(html)) return;
  const title = TITLE.exec(html)[1].replace(/ · ServiceRW$/, "");
  const cache = await caches.open(SAVED[kind]);
  const key = url.pathname + url.search;
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "content-language": response.headers.get("content-language") || "",
    "x-title": encodeURIComponent(title), // escaped HTML text (the <title> holds no "<"), header-safe
    "x-saved": String((lastStamp = Math.max(Date.now(), lastStamp + 1))),
  };
  await cache.delete(key);
  await cache.put(key, new Response(html, { headers }));
  const entries = await savedList(kind);
  for (const entry of entries.slice(KEEP)) await cache.delete(entry.key);
}

// The saved pages of a kind, newest first.
async function savedList(kind) {
  const cache = await caches.open(SAVED[kind]);
  const entries = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (!response) continue;
    const path = new URL(request.url).pathname + new URL(request.url).search;
    entries.push({
      key: request,
      path,
      title: decodeURIComponent(response.headers.get("x-title") || ""),
      saved: Number(response.headers.get("x-saved")) || 0,
    });
  }
  return entries.sort((a, b) => b.saved - a.saved);
}

async function saveOfflinePage() {
  const response = await fetch(CONFIG.offline, { credentials: "same-origin" });
  if (!response.ok) return;
  const cache = await caches.open(OFFLINE_CACHE);
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "content-language": response.headers.get("content-language") || "",
    "x-saved": String(Date.now()),
  };
  await cache.put(CONFIG.offline, new Response(await response.text(), { headers }));
}

// The offline page follows the visitor's language (a page in another language was just shown) and the site
// (at most a day old).
async function refreshOfflinePage(response) {
  const lang = response.headers.get("content-language");
  if (!response.ok || !lang) return;
  const saved = await (await caches.open(OFFLINE_CACHE)).match(CONFIG.offline);
  const fresh = saved && Date.now() - Number(saved.headers.get("x-saved")) < DAY;
  if (fresh && saved.headers.get("content-language") === lang) return;
  try {
    await saveOfflinePage();
  } catch (error) {
    // offline again: next time
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// The offline page (from the network when asked for online, else the saved copy) with the saved pages listed.
async function offlinePage(response) {
  const source = response || (await (await caches.open(OFFLINE_CACHE)).match(CONFIG.offline));
  if (!source) return Response.error();
  let html = await source.text();
  for (const kind of Object.keys(SAVED)) {
    const items = (await savedList(kind)).map(
      // titles are HTML-escaped text already (from <title>), paths are escaped here
      (entry) => `<li><a href="${escapeHtml(entry.path)}">${entry.title || escapeHtml(entry.path)}</a></li>`,
    );
    html = html.replace(`<!--saved-${kind}-->`, items.join(""));
  }
  const missing = !response && MISSING.exec(html);
  if (missing) html = html.replace("<!--offline-status-->", `<p class="offline-note" role="status">${missing[1]}</p>`);
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-language": source.headers.get("content-language") || "",
      "cache-control": "no-store",
    },
  });
}

// A saved page, with the note (translated, taken from the offline page) at the top of its main content.
async function withNote(saved) {
  const offline = await (await caches.open(OFFLINE_CACHE)).match(CONFIG.offline);
  const note = offline && NOTE.exec(await offline.text());
  let html = await saved.text();
  if (note) html = html.replace('<main id="main">', `<main id="main"><p class="offline-note" role="status">${note[1]}</p>`);
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-language": saved.headers.get("content-language") || "",
      "cache-control": "no-store",
    },
  });
}

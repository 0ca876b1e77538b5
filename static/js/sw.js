/* ServiceRW's service worker, served at /sw.js (scope: the whole site) by core/static.py, which puts the
   current hashed static names in CONFIG: a changed static file changes these bytes, so browsers install the new
   worker. Hand-written (no library): it does four small things.
   - Static files (hashed, immutable): precached, served from the cache; an older saved page asking for an
     older hashed name gets the current version of the same file.
   - Profiles (/b/<slug>) and searches (/search?...): network first; a whole page (a navigation, an htmx boosted
     link or form, a Back/Forward restore) answered by the page cache to an anonymous visitor (it carries
     X-Cache; logged-in answers never do) is saved, the last 10 of each kind; so are the results a search
     page fetches while the visitor types (htmx, target #results). Offline, the saved copy is shown with a
     note on top (saved results: inside the offline page).
   - Anything else offline: the offline page (/offline, rendered by the app in the visitor's language and
     precached), filled here with the saved pages. Filled by the worker rather than by a script in the page
     because the worker already holds the list, and the page then works as it arrives, also when htmx swaps it
     into a boosted page (scripts in swapped content are not run again).
   - Never touched: other methods than GET (form answers), other paths (/account, /dashboard, /admin, /api…),
     other htmx fragments, other origins. Saved pages keep the visitor's own CSRF token (this browser's cookie):
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
const SEARCH_TITLE = /<template id="search-title">([^<]*)<\/template>/;

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
  } else if (url.pathname === "/search" && request.headers.get("HX-Target") === "results") {
    event.respondWith(searchResults(event, request, url));
  }
});

// The results part of the search page, asked for while typing there: saved like a whole page (it is how most
// searches are made); offline, the saved results, else the "not saved" note in their place.
async function searchResults(event, request, url) {
  try {
    const response = await fetch(request);
    if (response.status === 200 && response.headers.has("x-cache")) {
      // kept under the address htmx shows (the server's tidy URL, without the empty form fields)
      const shown = new URL(response.headers.get("HX-Push-Url") || url.href, url);
      const key = shown.origin === url.origin && shown.pathname === "/search" ? shown : url;
      event.waitUntil(save("searches", key, response.clone(), url.pathname + url.search));
    }
    return response;
  } catch (error) {
    const asked = url.pathname + url.search;
    const entry = (await savedList("searches")).find((e) => e.asked === asked || (e.fragment && e.path === asked));
    const saved = entry && (await (await caches.open(SAVED.searches)).match(entry.key));
    if (saved && entry.fragment) return htmlResponse(await saved.text(), saved);
    const offline = await (await caches.open(OFFLINE_CACHE)).match(CONFIG.offline);
    const missing = offline && MISSING.exec(await offline.text());
    const note = missing ? `<p class="offline-note" role="status">${missing[1]}</p>` : "";
    return htmlResponse(`<div id="results" aria-live="polite">${note}</div>`, offline);
  }
}

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
    if (saved && saved.headers.get("x-fragment")) return offlinePage(null, saved, url.pathname + url.search);
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
// `asked`: for the results part of a search, the URL it was asked for (the form's fields, empty ones included).
function save(kind, url, response, asked = "") {
  queue = queue.then(() => store(kind, url, response, asked)).catch(() => undefined);
  return queue;
}

async function store(kind, url, response, asked) {
  const fragment = Boolean(asked);
  const html = await response.text();
  if (!fragment && !TITLE.test(html)) return;
  // escaped HTML text (a <title> holds no "<"); a fragment has none: its title is made when listed
  const title = fragment ? "" : TITLE.exec(html)[1].replace(/ · ServiceRW$/, "");
  const cache = await caches.open(SAVED[kind]);
  const key = url.pathname + url.search;
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "content-language": response.headers.get("content-language") || "",
    "x-fragment": fragment ? "1" : "",
    "x-asked": encodeURIComponent(asked),
    "x-title": encodeURIComponent(title), // header-safe
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
    const address = new URL(request.url);
    const path = address.pathname + address.search;
    entries.push({
      key: request,
      path,
      title: decodeURIComponent(response.headers.get("x-title") || ""),
      fragment: Boolean(response.headers.get("x-fragment")),
      asked: decodeURIComponent(response.headers.get("x-asked") || ""),
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

// "Results for “…”" in the offline page's language, for a search saved as a fragment (its query escaped here).
function searchTitle(html, path) {
  const pattern = SEARCH_TITLE.exec(html);
  const query = new URL(path, self.location.origin).searchParams.get("q");
  return pattern && query ? pattern[1].replace("{q}", escapeHtml(query)) : escapeHtml(path);
}

// The offline page (from the network when asked for online, else the saved copy) with the saved pages listed;
// offline, with the note that the page asked for is not saved, or with the saved results of a search.
async function offlinePage(response, results = null, path = "") {
  const source = response || (await (await caches.open(OFFLINE_CACHE)).match(CONFIG.offline));
  if (!source) return Response.error();
  let html = await source.text();
  for (const kind of Object.keys(SAVED)) {
    const items = (await savedList(kind)).map(
      // titles are HTML-escaped text already (from <title>), paths are escaped here
      (entry) => `<li><a href="${escapeHtml(entry.path)}">${entry.title || searchTitle(html, entry.path)}</a></li>`,
    );
    html = html.replace(`<!--saved-${kind}-->`, items.join(""));
  }
  let status = "";
  if (results) {
    const note = NOTE.exec(html);
    const title = searchTitle(html, path);
    status = `${note ? `<p class="offline-note" role="status">${note[1]}</p>` : ""}<h2>${title}</h2>${await results.text()}`;
  } else if (!response) {
    const missing = MISSING.exec(html);
    status = missing ? `<p class="offline-note" role="status">${missing[1]}</p>` : "";
  }
  return htmlResponse(html.replace("<!--offline-status-->", status), source);
}

function htmlResponse(html, source) {
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-language": (source && source.headers.get("content-language")) || "",
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
  return htmlResponse(html, saved);
}

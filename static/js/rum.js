// Real-user vitals (analytics/rum.py): one beacon when the page is hidden or left; sampled here
(function () {
  var d = (document.currentScript || {}).dataset, P = window.PerformanceObserver;
  if (!d || !P || !navigator.sendBeacon || !(Math.random() < parseFloat(d.rate))) return;
  var v = {}, sent = 0, win = 0, first = 0, last = 0, worst = {}, n, b, k, any, all;
  function watch(type, fn, o) {
    o = o || {}; o.type = type; o.buffered = 1;
    try { new P(function (l) { l.getEntries().forEach(fn); }).observe(o); return 1; } catch (e) { /* n/a */ }
  }
  watch('largest-contentful-paint', function (e) { v.lcp = e.startTime; });
  // CLS: worst session window (gaps < 1 s, ≤ 5 s), no input
  watch('layout-shift', function (e) {
    if (e.hadRecentInput) return;
    if (win && e.startTime - last < 1000 && e.startTime - first < 5000) win += e.value;
    else { win = e.value; first = e.startTime; }
    last = e.startTime;
    if (!(v.cls >= win)) v.cls = win;
  }) && (v.cls = v.cls || 0);
  // INP: worst interaction but one per 50
  function ev(e) { if (e.interactionId) worst[e.interactionId] = Math.max(worst[e.interactionId] || 0, e.duration); }
  watch('event', ev, {durationThreshold: 16});
  watch('first-input', ev);
  function send() {
    if (sent) return;
    sent = 1;
    n = performance.getEntriesByType('navigation')[0]; b = {page: d.page};
    if (n && n.responseStart > 0) v.ttfb = n.responseStart;
    all = Object.values(worst).sort(function (a, c) { return c - a });
    if (all.length) v.inp = all[Math.min(all.length - 1, Math.floor(all.length / 50))];
    for (k in v) { b[k] = k == 'cls' ? +v[k].toFixed(4) : Math.round(v[k]); any = 1; }
    if (any) navigator.sendBeacon('/rum', JSON.stringify(b));
  }
  addEventListener('visibilitychange', function () { if (document.hidden) send(); });
  addEventListener('pagehide', send);
  // a boosted link or form swaps the next page in, never unloading this one
  document.addEventListener('htmx:beforeSwap', function (e) { if (e.detail.boosted) send(); });
})();

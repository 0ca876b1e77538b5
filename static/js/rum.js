// Real-user vitals (analytics/rum.py): LCP, INP, CLS, TTFB, one beacon when the page is hidden or left.
// Sampled here (data-rate) so the page stays the same for all; sends the page type and four numbers only.
(function () {
  var s = document.currentScript, d = s && s.dataset, P = window.PerformanceObserver;
  if (!d || !P || !navigator.sendBeacon || !(Math.random() < parseFloat(d.rate))) return;
  var v = {}, sent = 0, win = 0, first = 0, last = 0, worst = {};
  function watch(type, fn, o) {
    o = o || {}; o.type = type; o.buffered = true;
    try { new P(function (l) { l.getEntries().forEach(fn); }).observe(o); } catch (e) { /* unsupported */ }
  }
  watch('largest-contentful-paint', function (e) { v.lcp = e.startTime; });
  // CLS: the largest session window (gaps < 1 s, ≤ 5 s long) of shifts without recent input
  watch('layout-shift', function (e) {
    if (e.hadRecentInput) return;
    if (win && e.startTime - last < 1000 && e.startTime - first < 5000) win += e.value;
    else { win = e.value; first = e.startTime; }
    last = e.startTime;
    if (!(v.cls >= win)) v.cls = win;
  });
  // INP: longest event per interaction; the worst, one skipped per 50 interactions (p98)
  function ev(e) { if (e.interactionId) worst[e.interactionId] = Math.max(worst[e.interactionId] || 0, e.duration); }
  watch('event', ev, {durationThreshold: 16});
  watch('first-input', ev);
  function send() {
    if (sent) return;
    sent = 1;
    var n = performance.getEntriesByType('navigation')[0], b = {page: d.page}, k, any;
    if (n && n.responseStart > 0) v.ttfb = n.responseStart;
    var all = Object.keys(worst).map(function (i) { return worst[i]; }).sort(function (a, c) { return c - a; });
    if (all.length) v.inp = all[Math.min(all.length - 1, Math.floor(all.length / 50))];
    for (k in v) { b[k] = k == 'cls' ? Math.round(v[k] * 1e4) / 1e4 : Math.round(v[k]); any = 1; }
    if (any) navigator.sendBeacon('/rum', JSON.stringify(b));
  }
  addEventListener('visibilitychange', function () { if (document.visibilityState == 'hidden') send(); });
  addEventListener('pagehide', send);
  // a boosted (htmx) link swaps the page without unloading it: this view's vitals end there
  document.addEventListener('htmx:beforeHistorySave', send);
})();

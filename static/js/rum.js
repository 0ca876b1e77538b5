// Real-user vitals (analytics/rum.py): one beacon as the page is hidden or left; sampled here
(function () {
  var d = (document.currentScript || {}).dataset, P = window.PerformanceObserver;
  if (!d || !P || !navigator.sendBeacon || !(Math.random() < parseFloat(d.rate))) return;
  var v = {}, sent = 0, win = 0, first = 0, last = 0, worst = {}, n, b, k, any, all;
  function watch(type, fn, o) {
    o = o || {}; o.type = type; o.buffered = true;
    try { new P(function (l) { l.getEntries().forEach(fn); }).observe(o); return 1; } catch (e) { /* unsupported */ }
  }
  watch('largest-contentful-paint', function (e) { v.lcp = e.startTime; });
  // CLS: the worst session window (gaps < 1 s, at most 5 s) of unprompted shifts
  watch('layout-shift', function (e) {
    if (e.hadRecentInput) return;
    if (win && e.startTime - last < 1000 && e.startTime - first < 5000) win += e.value;
    else { win = e.value; first = e.startTime; }
    last = e.startTime;
    if (!(v.cls >= win)) v.cls = win;
  }) && (v.cls = v.cls || 0);
  // INP: each interaction's longest event; the worst but one per 50
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
    for (k in v) { b[k] = k == 'cls' ? Math.round(v[k] * 1e4) / 1e4 : Math.round(v[k]); any = 1; }
    if (any) navigator.sendBeacon('/rum', JSON.stringify(b));
  }
  addEventListener('visibilitychange', function () { if (document.hidden) send(); });
  addEventListener('pagehide', send);
  document.addEventListener('htmx:beforeHistorySave', send); // a boosted link: the page is never unloaded
})();

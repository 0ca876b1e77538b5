/* The page's scripts run once it has been painted: at the first idle moment after the load event. On slow
   mobile data the HTML, the stylesheet and the photos get the connection first and the phone paints before it
   parses 16 KB of htmx; everything works before (and without) them, as plain links and forms. Each
   <script type="text/plain" data-later="URL" data-…> of the page becomes that script, in order, with its data-…
   attributes (rum.js reads them through document.currentScript). <html> gets data-scripts="loading", then
   "ready" once the last has run. htmx 2 starts only when loaded before DOMContentLoaded or once the document
   is complete: hence after the load event. Inline in every page (core/static.py, with its CSP hash). */
(function () {
  var root = document.documentElement;
  function run() {
    var last;
    root.setAttribute("data-scripts", "loading");
    document.querySelectorAll("script[data-later]").forEach(function (old) {
      var script = document.createElement("script");
      for (var i = 0; i < old.attributes.length; i++) {
        var a = old.attributes[i];
        if (a.name.lastIndexOf("data-", 0) === 0 && a.name !== "data-later") script.setAttribute(a.name, a.value);
      }
      script.async = false; // in the page's order: htmx first
      script.src = old.getAttribute("data-later");
      old.parentNode.replaceChild(script, old);
      last = script;
    });
    if (!last) root.setAttribute("data-scripts", "ready");
    else last.addEventListener("load", function () { root.setAttribute("data-scripts", "ready"); });
  }
  function afterPaint() { // the first idle moment after the frame that follows the load event
    requestAnimationFrame(function () {
      if (window.requestIdleCallback) requestIdleCallback(run, {timeout: 500});
      else setTimeout(run, 50);
    });
  }
  if (document.readyState === "complete") afterPaint();
  else window.addEventListener("load", afterPaint);
})();

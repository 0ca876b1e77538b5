/* Installs the service worker (static/js/sw.js, served at /sw.js) where the browser has them. boot.js runs
   this after the page's load event. */
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(function () {});
}

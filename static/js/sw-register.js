/* Installs the service worker (static/js/sw.js, served at /sw.js) where the browser has them. */
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  });
}

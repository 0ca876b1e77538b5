/* Upload progress: htmx reports the bytes sent; this shows them in the form's <progress> bar. */
(function () {
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("[data-upload-progress]");
    if (!form || !event.detail.lengthComputable) return;
    var bar = form.querySelector("progress");
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("[data-upload-progress]");
    if (form) { form.querySelector("progress").hidden = true; form.reset(); }
  });
})();

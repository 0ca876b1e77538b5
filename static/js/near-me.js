/* "Near me": the one thing htmx cannot do is ask the browser where the phone is.
   Progressive enhancement only: without JavaScript the button stays hidden and people pick a district. */
(function () {
  function reveal() {
    document.querySelectorAll("[data-near-me], [data-pin-me]").forEach(function (b) { b.hidden = !navigator.geolocation; });
  }
  reveal();
  document.addEventListener("htmx:load", reveal);
  // The owner's form: the map pin from the phone's position.
  document.addEventListener("click", function (event) {
    var pin = event.target.closest && event.target.closest("[data-pin-me]");
    if (!pin) return;
    navigator.geolocation.getCurrentPosition(function (position) {
      pin.form.elements.latitude.value = position.coords.latitude.toFixed(6);
      pin.form.elements.longitude.value = position.coords.longitude.toFixed(6);
    }, function () {
      pin.textContent = pin.getAttribute("data-unavailable");
    }, { timeout: 10000, maximumAge: 60000 });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-near-me]");
    if (!button) return;
    var form = button.form;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.near.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
      form.elements.sort.value = "distance";
      button.disabled = false;
      form.requestSubmit();
    }, function () {
      button.disabled = false;
      button.textContent = button.getAttribute("data-unavailable");
    }, { timeout: 10000, maximumAge: 600000 });
  });
})();

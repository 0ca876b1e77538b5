/* Data saver: a photo placeholder, tapped, becomes the photo in place (same box: nothing moves).
   Without JavaScript the placeholder is a plain link to the photo itself. */
(function () {
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-photo]");
    if (!link || !link.hasAttribute("href")) return;
    event.preventDefault();
    event.stopPropagation();
    var box = link.querySelector("svg");
    var img = document.createElement("img");
    img.width = +box.getAttribute("width");
    img.height = +box.getAttribute("height");
    img.alt = box.getAttribute("data-alt") || "";
    img.src = link.getAttribute("href");
    link.removeAttribute("href");
    link.removeAttribute("aria-label");
    link.replaceChildren(img);
  }, true);
})();

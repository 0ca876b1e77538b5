// The API documentation page (/api/docs): Swagger UI (vendored, static/vendor/swagger-ui/) on our OpenAPI.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null,
  });
});

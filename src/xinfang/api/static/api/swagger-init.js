// Starts Swagger UI on /api/v1/docs. Kept in a static file (no inline script) so the page works
// under a strict Content-Security-Policy. Calls are authorised with the "Authorize" button
// (Bearer token); no cookie or CSRF token is ever sent by the API.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();

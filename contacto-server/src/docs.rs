//! Swagger UI at `/docs`, served from assets built into the binary: nothing is fetched from a CDN,
//! so the page works on a machine without internet access.

use crate::routes::DocsAsset;

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLESHEET: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

/// The page; every URL in it is relative to the server. `validatorUrl: null` keeps Swagger UI from
/// sending the document to an online validator.
pub(crate) const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Contacto API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/api/v1/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      tryItOutEnabled: true,
      persistAuthorization: true
    });
  </script>
</body>
</html>
"##;

/// An asset's bytes and media type.
pub(crate) fn asset(asset: DocsAsset) -> (&'static [u8], &'static str) {
    match asset {
        DocsAsset::Bundle => (BUNDLE, "application/javascript; charset=utf-8"),
        DocsAsset::Stylesheet => (STYLESHEET, "text/css; charset=utf-8"),
    }
}

"""`GET /docs`: the interactive API explorer (Swagger UI), served by us.

The Swagger UI assets are the ones aws-lambda-powertools ships (pinned with it in the
layer's requirements.txt) for its `enable_swagger`; we serve them ourselves from our
own paths, so the page needs no third-party CDN at run time. The page loads the API
description (`openapi.json`, relative to the page) and lets a developer paste the API
key (the document's `ApiKey` security scheme: header `x-api-key`) and try every route.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from .errors import NotFound

ASSET_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


@dataclass(frozen=True)
class Asset:
    name: str
    file: str
    content_type: str


ASSETS = {
    asset.name: asset
    for asset in (
        Asset("swagger-ui.css", "swagger-ui.min.css", "text/css; charset=utf-8"),
        Asset("swagger-ui-bundle.js", "swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
        Asset("explorer.js", "", "text/javascript; charset=utf-8"),
    )
}

# Relative URLs: the page is <base>/docs, its assets <base>/docs/<name>, the document
# <base>/openapi.json, wherever the API is served (a stage, a custom domain, locally).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>barcode-backend API explorer</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/explorer.js"></script>
</body>
</html>
"""

EXPLORER_JS = """window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  tryItOutEnabled: true,
  displayRequestDuration: true,
  persistAuthorization: false
});
"""


def page() -> str:
    """The explorer's HTML (its page lives at /docs, so "docs/..." are its assets)."""
    return PAGE


@cache
def asset(name: str) -> tuple[str, str]:
    """(text, content type) of one explorer asset; NotFound for any other name."""
    found = ASSETS.get(name)
    if found is None:
        raise NotFound("no such explorer asset")
    if not found.file:
        return EXPLORER_JS, found.content_type
    text = resources.files(ASSET_PACKAGE).joinpath(found.file).read_text("utf-8")
    return text, found.content_type

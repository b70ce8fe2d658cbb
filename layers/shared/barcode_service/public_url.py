"""The base URL that actually served a request, for links a client follows (status URLs).

API Gateway (REST, Lambda proxy) tells the function how it was reached:

- `requestContext.domainName` is API Gateway's own domain that served the request: the
  `execute-api` domain or a custom domain (the local gateway: its own `host:port`).
  The `Host` header is what the client wrote and is never copied into a link: a
  request with `Host: evil.example` must not get a `status_url` pointing there.
- `X-Forwarded-Proto` is `https` in AWS; the local gateway (`make run`) passes `http`,
  or whatever a proxy in front of it set.
- `requestContext.path` is the path as the client sent it, stage or custom-domain base
  path included (`/v1/uploads`), while the top-level `path` may lack the stage.

So the base is `<proto>://<domainName><requestContext.path minus the route's own path>`:
`https://abc.execute-api.us-east-1.amazonaws.com/v1` in AWS, `https://api.example.com/v1`
behind a base path mapping, `http://127.0.0.1:3000/v1` locally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing else goes
# into a URL we hand out.
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$"
)
_SCHEMES = ("http", "https")


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """The first value of a header, case-insensitively, from either header map."""
    wanted = name.lower()
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if str(key).lower() == wanted and isinstance(values, list) and values:
            return str(values[0])
    for key, value in (event.get("headers") or {}).items():
        if str(key).lower() == wanted and value is not None:
            return str(value)
    return None


def request_base_url(event: Mapping[str, Any], route_path: str) -> str:
    """`<scheme>://<host>[:port]<prefix>` the request with route path `route_path` came to.

    `route_path` is the route's path without the stage (`/uploads`); the prefix is what
    precedes it in the client's path (`/v1`). Falls back to `https` and `/<stage>` for
    whatever the event does not say.
    """
    context = event.get("requestContext") or {}
    proto = (_header(event, "X-Forwarded-Proto") or "https").split(",", 1)[0].strip().lower()
    scheme = proto if proto in _SCHEMES else "https"

    host = str(context.get("domainName") or "").strip()
    if not _HOST.match(host):
        host = "localhost"  # API Gateway always names its domain; an event without one

    stage = str(context.get("stage") or "")
    full_path = str(context.get("path") or "")
    suffix = "/" + route_path.strip("/")
    if full_path.rstrip("/").endswith(suffix):
        prefix = full_path.rstrip("/")[: -len(suffix)]
    else:
        prefix = f"/{stage}" if stage else ""
    return f"{scheme}://{host}{prefix.rstrip('/')}"

"""The keyless image URL: `/img/<type>.<png|svg>?content=...&width=...&height=...`.

An `<img src>` cannot send an API key, so this path is served by CloudFront in front
of a small function (template parameter EnableImagePath): the URL is the request,
CloudFront caches the answer for a year, and a miss renders locally (never the
upstream, so an anonymous caller cannot spend upstream credit). What an abuser can
cost is bounded: the function's reserved concurrency caps parallel renders, sizes
are capped below the API's, unknown parameters are refused (they would only split
the cache), and every answer, errors included, is cacheable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .barcode_request import BarcodeRequest, parse_request
from .errors import InvalidParameter, NotFound
from .text_input import printable

PATH_PREFIX = "/img/"
MAX_DIMENSION = 2000
"""Largest width/height in px here (the API allows 4000): bounds one render's cost."""

QUERY_PARAMETERS = (
    "content",
    "width",
    "height",
    "unit",
    "dpi",
    "fg",
    "bg",
    "rotate",
    "quiet_zone",
    "show_text",
)
"""Everything the path accepts besides type and format; also the CDN's cache key
(a CloudFront cache policy names at most 10 query strings)."""

ERROR_MAX_AGE = 300  # seconds a refused URL stays cached at the edge

_NAME = re.compile(r"([A-Za-z0-9_\-]{1,40})\.(png|svg)")


def request_from_path(path: str, query: Mapping[str, str]) -> BarcodeRequest:
    """The barcode request a keyless image URL encodes, or a 4xx saying what is wrong."""
    name = path[len(PATH_PREFIX) :] if path.startswith(PATH_PREFIX) else ""
    match = _NAME.fullmatch(name)
    if match is None:
        raise NotFound(
            f"image URLs look like {PATH_PREFIX}<type>.png?content=...&width=...&height=... "
            "(or .svg)"
        )
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:5])
        raise InvalidParameter(
            f"unknown parameter {shown}; image URLs take {', '.join(QUERY_PARAMETERS)}",
            field=printable(unknown[0]),
        )
    request = parse_request({**query, "type": match.group(1), "format": match.group(2)})
    for field, size in (("width", request.width), ("height", request.height)):
        if size > MAX_DIMENSION:
            raise InvalidParameter(
                f"{field} is {size} px; image URLs allow at most {MAX_DIMENSION} px "
                "(the API allows more)",
                field=field,
            )
    return request

"""Open Library: books by ISBN through the Books API.

`GET <base>/api/books?bibkeys=ISBN:<isbn>&format=json&jscmd=data` answers
`{"ISBN:<isbn>": {...}}` for a known book and `{}` (HTTP 200) for an unknown one.
Only Bookland codes are books: 978 and 979, except 979-0 (sheet music, ISMN).
No numeric limit is published; the provider asks for an identifying User-Agent with a
contact and moderate rates: 3 requests a second for the whole fleet when the operator's
contact (PROVIDER_CONTACT) is sent, 1 a second without one (it has answered agents
without a contact 403), unless OPENLIBRARY_REQUESTS_PER_MINUTE says otherwise.

`details` of an answer (any may be null or empty): `subtitle`, `authors` (list of
names), `publishers` (list), `publish_date` (text as the provider writes it),
`number_of_pages`, `isbn_10`, `isbn_13` (lists), `url` (the book's page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from ..errors import UpstreamError
from ..gtin import Gtin
from ..transport import Reply, Request, RetryPolicy, exchange
from .base import (
    ProviderNotFound,
    ProviderProduct,
    RateLimit,
    an_hour_later,
    is_book,
    text,
    text_list,
    web_url,
)

NAME = "openlibrary"
DEFAULT_URL = "https://openlibrary.org"
POLITE_LIMIT = RateLimit(requests=60, per_seconds=60)


class OpenLibraryProvider:
    """Books by ISBN-13 from Open Library."""

    name = NAME

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        *,
        policy: RetryPolicy,
        limit: RateLimit = POLITE_LIMIT,
    ) -> None:
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self.session = session
        self.policy = policy
        self.limit = limit
        self.attribution = f"Book data from Open Library ({self.base_url}), Internet Archive."

    def serves(self, gtin: Gtin) -> bool:
        return is_book(gtin)

    def prepare(self) -> None:
        """Nothing to get ready: keyless, and the session is shared."""

    def quota_reset(self, now: datetime) -> datetime:
        return an_hour_later(now)  # no quota, only a rate limit

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        key = f"ISBN:{gtin.gtin14[1:]}"
        request = Request(
            "Open Library",
            f"{self.base_url}/api/books",
            params={"bibkeys": key, "format": "json", "jscmd": "data"},
            pause_on_429=True,
            retry_timeouts=False,
        )
        body = exchange(self.session, request, self.policy, Reply.json, deadline=deadline)
        if not isinstance(body, dict):
            raise UpstreamError("Open Library sent an unexpected body")
        book = body.get(key)
        if book is None and not body:
            return ProviderNotFound()
        if not isinstance(book, dict):
            raise UpstreamError("Open Library sent an answer for another key")
        return _book(book)


def _names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    names = (text(item.get("name")) for item in value if isinstance(item, dict))
    return [name for name in names if name]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _book(data: dict[str, Any]) -> ProviderProduct:
    title, subtitle = text(data.get("title")), text(data.get("subtitle"))
    publishers = _names(data.get("publishers"))
    pages = data.get("number_of_pages")
    pages = pages if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0 else None
    cover = _mapping(data.get("cover"))
    identifiers = _mapping(data.get("identifiers"))
    return ProviderProduct(
        name=f"{title}: {subtitle}" if title and subtitle else title,
        company=publishers[0] if publishers else None,
        spec=f"{pages} pages" if pages else None,
        image_url=web_url(cover.get("large"))
        or web_url(cover.get("medium"))
        or web_url(cover.get("small")),
        details={
            "subtitle": subtitle,
            "authors": _names(data.get("authors")),
            "publishers": publishers,
            "publish_date": text(data.get("publish_date")),
            "number_of_pages": pages,
            "isbn_10": text_list(identifiers.get("isbn_10")),
            "isbn_13": text_list(identifiers.get("isbn_13")),
            "url": web_url(data.get("url")),
        },
    )

"""`POST /v1/scans`: raw scanner output or a photo -> one entry per code, each looked up.

The request is JSON `{"text", "format"?}`, an image body (JPEG, PNG, WebP, HEIC; up
to MAX_IMAGE_BYTES) or multipart with the file in field `image`. Each code goes
through the canonicaliser and then the normal LookupService (catalog, cache,
single-flight, quota guard): restricted numbers and codes without a GTIN never reach a
provider. A photo without any code answers `scans: []` and advice from measurements.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .canonical import Canonical, InvalidGs1Code, Kind, attempted_kind, canonicalise
from .errors import (
    InvalidGtin,
    InvalidParam,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
    refuse_unknown,
)
from .request_body import body_bytes, media_type, multipart_file

if TYPE_CHECKING:
    from .decode import Position
    from .lookup import LookupService
    from .router import Spender

ScanStatus = Literal[
    "found", "not_found", "invalid_gtin", "invalid_gs1", "error", "restricted", "no_gtin"
]
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024
IMAGE_TYPES = ("image/jpeg", "image/jpg", "image/png", "image/webp", "image/heic", "image/heif")
MAX_CODES = 20  # codes looked up from one photo; more are listed with status `error`


@dataclass(frozen=True)
class ScanRequest:
    """What was sent: scanner text (with its symbology name) or image bytes."""

    text: str | None = None
    format: str | None = None
    image: bytes | None = None


@dataclass(frozen=True)
class ScanEntry:
    """One code of a scan, as the API shows it."""

    text: str
    format: str | None
    kind: Kind
    status: ScanStatus
    canonical: Canonical | None = None
    product: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    position: Position | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text, "format": self.format, "kind": self.kind}
        gtin = self.canonical.gtin if self.canonical is not None else None
        if gtin is not None:
            body["gtin"] = gtin.gtin14
        if self.canonical is not None and self.canonical.ai:
            body["ai"] = self.canonical.ai_values()
        body["status"] = self.status
        if self.product is not None:
            body["product"] = self.product
        if self.error is not None:
            body["error"] = self.error
        if self.position is not None:
            body["position"] = self.position.to_dict()
        return body


@dataclass(frozen=True)
class ScanReport:
    entries: tuple[ScanEntry, ...]
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"scans": [entry.to_dict() for entry in self.entries]}
        if self.message is not None:
            body["message"] = self.message
        return body


# --- the request -----------------------------------------------------------------------


def parse_scan_request(
    content_type: str | None, body: str | None, base64_encoded: bool
) -> ScanRequest:
    """A ScanRequest from the HTTP request; 400/413/415 problems saying what is wrong."""
    media = media_type(content_type or "application/json")
    if media in IMAGE_TYPES:
        return ScanRequest(image=body_bytes(body, base64_encoded, MAX_IMAGE_BYTES))
    if media == "multipart/form-data":
        raw = body_bytes(body, base64_encoded, MAX_IMAGE_BYTES + 64 * 1024)
        image = multipart_file(content_type or "", raw, "image", "the photo")
        if len(image) > MAX_IMAGE_BYTES:
            raise PayloadTooLarge("the photo is over 4 MB")
        return ScanRequest(image=image)
    if media != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type {media[:100]!r} is not accepted; send application/json "
            f'{{"text": ...}}, an image ({", ".join(IMAGE_TYPES)}) or multipart/form-data '
            "with the photo in field 'image'"
        )
    raw = body_bytes(body, base64_encoded, MAX_JSON_BYTES)
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidParameter("request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter("request body must be a JSON object")
    refuse_unknown(parsed, ("text", "format"), "body")
    text, fmt = parsed.get("text"), parsed.get("format")
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter(
            "'text' must be the scanner's output, a non-empty string",
            invalid_params=[InvalidParam("text", "must be a non-empty string")],
        )
    if fmt is not None and not isinstance(fmt, str):
        raise InvalidParameter(
            "'format' must be a symbology name",
            invalid_params=[InvalidParam("format", "must be a string")],
        )
    return ScanRequest(text=text, format=fmt)


# --- the scan ----------------------------------------------------------------------------


class ScanService:
    """Resolves scans through the canonicaliser, the photo decoder and LookupService."""

    def __init__(
        self, lookups: LookupService, workers: int = 4, *, budget: Spender | None = None
    ) -> None:
        self.lookups = lookups
        self.workers = workers
        self.budget = budget  # the caller's daily lookup budget pays for provider calls

    def scan(self, request: ScanRequest) -> ScanReport:
        if request.image is not None:
            return self.scan_image(request.image)
        return ScanReport((self.entry(request.text or "", request.format),))

    def scan_image(self, data: bytes) -> ScanReport:
        from .decode import decode_photo, load_photo, measure  # noqa: PLC0415 - Pillow, zxing

        photo = load_photo(data)
        codes = decode_photo(photo)
        if not codes:
            return ScanReport((), measure(photo).advice())
        jobs = [(code.text, code.format, code.position) for code in codes[:MAX_CODES]]
        # Each lookup runs in the caller's context (the request's language, for problems).
        contexts = [copy_context() for _ in jobs]
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(jobs)))) as pool:
            entries = list(
                pool.map(
                    lambda pair: pair[0].run(self.entry, *pair[1]),
                    zip(contexts, jobs, strict=True),
                )
            )
        skipped = ServiceError(f"at most {MAX_CODES} codes of one photo are looked up")
        entries += [
            ScanEntry(
                code.text,
                code.format,
                attempted_kind(code.text),
                "error",
                error=skipped.to_problem(),
                position=code.position,
            )
            for code in codes[MAX_CODES:]
        ]
        return ScanReport(tuple(entries))

    def entry(self, text: str, fmt: str | None, position: Position | None = None) -> ScanEntry:
        """One code understood and looked up; never raises for a bad code."""
        try:
            found = canonicalise(text, fmt, rcn_region=self.lookups.settings.gs1_rcn_region)
        except InvalidGs1Code as error:  # GS1 data breaking GS1's rules: reported as read
            problem = error.to_problem()
            read = error.read
            return ScanEntry(
                text, fmt, read.kind, error.scan_status, read, error=problem, position=position
            )
        except InvalidGtin as error:
            kind = attempted_kind(text)
            problem = error.to_problem()
            return ScanEntry(text, fmt, kind, "invalid_gtin", error=problem, position=position)

        def answer(
            status: ScanStatus,
            product: dict[str, Any] | None = None,
            error: ServiceError | None = None,
        ) -> ScanEntry:
            problem = error.to_problem() if error is not None else None
            return ScanEntry(text, fmt, found.kind, status, found, product, problem, position)

        if found.gtin is None:
            return answer("no_gtin", error=InvalidGtin(found.no_gtin_reason()))
        try:
            product = self.lookups.lookup(found.gtin, budget=self.budget).to_dict()
        except NotFound as error:
            return answer("restricted" if found.restricted else "not_found", error=error)
        except ServiceError as error:
            return answer("error", error=error)
        return answer("found", product)

"""`POST /v1/scans`: raw scanner output or a photo -> one entry per code, each looked up.

The request is JSON `{"text", "format"?}`, an image body (JPEG, PNG, WebP, HEIC; up
to MAX_IMAGE_BYTES) or multipart with the file in field `image`. Each code goes
through the canonicaliser and then the normal LookupService (catalog, cache,
single-flight, quota guard): restricted numbers and codes without a GTIN never reach a
provider. A photo without any code answers `scans: []` and advice from measurements.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import deadline
from .canonical import InvalidGs1Code, attempted_kind, canonicalise
from .errors import (
    InvalidGtin,
    InvalidParam,
    InvalidParameter,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
    refuse_unknown,
)
from .request_body import body_bytes, media_type, multipart_file
from .rows import CodeRow
from .statuses import CodeStatus
from .text_input import require_valid_text

if TYPE_CHECKING:
    from .decode import DecodedCode, Position
    from .lookup import LookupService
    from .router import Budget, Pace

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
class ScanReport:
    """The answer of a scan: one entry per code, or advice when a photo held none."""

    entries: tuple[CodeRow, ...]
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
    require_valid_text(parsed)
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
    """Reads codes (scanner text or a photo) and looks each up: one `CodeRow` per code.

    The one path from a code read to its row, for `POST /v1/scans` and upload photos
    alike: canonicalise once, then `LookupService.resolve` (catalog, cache,
    single-flight, providers), whose outcome gives the status.
    """

    def __init__(
        self,
        lookups: LookupService,
        workers: int = 4,
        *,
        budget: Budget | None = None,
        pace: Pace | None = None,
        caller: str | None = None,
    ) -> None:
        self.lookups = lookups
        self.workers = workers
        self.budget = budget  # the caller's daily lookup budget pays for provider calls
        self.pace = pace  # upload workers' pacing before each provider call
        self.caller = caller  # callers.Caller.key: its own pending contributions answer it

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
        return ScanReport(self.entries(codes))

    def entries(self, codes: Sequence[DecodedCode]) -> tuple[CodeRow, ...]:
        """The rows of codes decoded from one photo, in their order; past MAX_CODES they
        are listed with status `error` and not looked up."""
        jobs = [(code.text, code.format, code.position) for code in codes[:MAX_CODES]]
        # Each lookup runs in the caller's context (the request's language, for problems).
        contexts = [copy_context() for _ in jobs]
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(jobs) or 1))) as pool:
            entries = list(
                pool.map(
                    lambda pair: pair[0].run(self._entry_in_time, *pair[1]),
                    zip(contexts, jobs, strict=True),
                )
            )
        skipped = ServiceError(f"at most {MAX_CODES} codes of one photo are looked up")
        entries += [
            CodeRow(
                CodeStatus.ERROR,
                text=code.text,
                format=code.format,
                kind=attempted_kind(code.text),
                error=skipped.to_problem(),
                position=_place(code.position),
            )
            for code in codes[MAX_CODES:]
        ]
        return tuple(entries)

    def _entry_in_time(self, text: str, fmt: str | None, position: Position | None) -> CodeRow:
        """`entry`, or an `error` row saying it was not done once the deadline passed."""
        until = deadline.current()
        if until.expired:
            return CodeRow(
                CodeStatus.ERROR,
                text=text,
                format=fmt,
                kind=attempted_kind(text),
                error=until.exceeded("the lookup of this code").to_problem(),
                position=_place(position),
            )
        return self.entry(text, fmt, position)

    def entry(self, text: str, fmt: str | None, position: Position | None = None) -> CodeRow:
        """One code understood and looked up; never raises for a bad code."""
        read: dict[str, Any] = {"text": text, "format": fmt, "position": _place(position)}
        try:
            found = canonicalise(text, fmt, rcn_region=self.lookups.policy.gs1_rcn_region)
        except InvalidGs1Code as error:  # GS1 data breaking GS1's rules: reported as read
            seen = error.read
            return CodeRow(
                error.scan_status,
                kind=seen.kind,
                gtin=seen.gtin.gtin14 if seen.gtin is not None else None,
                ai=seen.ai_values() or None,
                error=error.to_problem(),
                **read,
            )
        except InvalidGtin as error:
            kind = attempted_kind(text)
            return CodeRow(CodeStatus.INVALID_GTIN, kind=kind, error=error.to_problem(), **read)
        read["kind"] = found.kind
        read["ai"] = found.ai_values() or None
        if found.gtin is None:
            problem = InvalidGtin(found.no_gtin_reason()).to_problem()
            return CodeRow(CodeStatus.NO_GTIN, error=problem, **read)
        outcome = self.lookups.resolve(
            found.gtin, budget=self.budget, pace=self.pace, caller=self.caller
        )
        row = CodeRow.of(outcome, gtin=found.gtin.gtin14, **read)
        if found.restricted and row.status is CodeStatus.NOT_FOUND:
            return dataclasses.replace(row, status=CodeStatus.RESTRICTED)
        return row


def _place(position: Position | None) -> dict[str, int] | None:
    return position.to_dict() if position is not None else None

"""Label sheets, stored and cached by content like barcode images.

The PDF of a request is named by the request's digest (`barcodes/<sha256>.pdf` in the
images bucket, beside the images: the same lifecycle, CDN and permissions). An object
under that name is that very sheet, and only sheets whose every barcode read back are
ever stored: a repeated request costs one HEAD (or one GET for the bytes), no render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .label_pdf import render_labels
from .labels import LabelsRequest, parse_labels
from .storage import ImageStore, image_key


@dataclass(frozen=True)
class LabelSheet:
    """Where a request's PDF is, and what it holds."""

    url: str
    request: LabelsRequest
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        """The public response body."""
        request = self.request
        return {
            "url": self.url,
            "format": "pdf",
            "sheet": request.sheet.to_dict(),
            "pages": request.pages,
            "labels": request.count,
            "start_at": request.start_at,
            "dpi": request.dpi,
            "verified": True,
            "cached": self.cached,
        }


class LabelService:
    """Renders label sheets once and hands out their stored PDF."""

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    @staticmethod
    def parse(body: Mapping[str, Any]) -> LabelsRequest:
        """A POST /labels body validated (`labels.parse_labels`)."""
        return parse_labels(body)

    def sheet(self, request: LabelsRequest) -> LabelSheet:
        """The stored PDF of `request` (rendered and stored when it is new)."""
        key = image_key(request.digest, "pdf")
        cached = self.images.exists(key)
        if not cached:
            self.images.put(key, render_labels(request).body, "pdf")
        return LabelSheet(self.images.url(key), request, cached)

    def pdf(self, request: LabelsRequest) -> tuple[LabelSheet, bytes]:
        """The PDF bytes of `request`, from storage or rendered (and stored) now."""
        key = image_key(request.digest, "pdf")
        body = self.images.get(key)
        cached = body is not None
        if body is None:
            body = render_labels(request).body
            self.images.put(key, body, "pdf")
        return LabelSheet(self.images.url(key), request, cached), body

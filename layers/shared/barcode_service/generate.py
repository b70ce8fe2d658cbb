"""The generate service: pick a backend for a validated request, cache the resulting URL.

Backends (GENERATE_BACKEND): `upstream` (GuGuData only), `local` (zint only) and
`auto`: the upstream for the types it has, local for the rest, and local when the
upstream is down, rate limited, out of credit or has no usable appkey. SVG, styled
requests (colours, rotation, no quiet zone, a DPI) and image bytes (`response=image`
or `redirect`, unless GENERATE_IMAGE_BACKEND=configured) are always local: the
upstream cannot draw them, and a local render is exact and verified.

Every local render is decoded back with zxing-cpp (`verify`) before it is stored; one
that does not read back is never returned (422 `unscannable`, naming a size that
works). Every request is normalised and hashed (`barcode_request`); the hash names
the DynamoDB item that remembers its URL (`BARCODE#<sha256>`), the S3 object of a
local render and its ETag, so a repeated request costs neither an upstream call nor
a render.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import deadline
from .barcode_request import (
    MAX_DIMENSION,
    MIN_DIMENSION,
    PARAMETERS,
    BarcodeRequest,
    ImageFormat,
    parse_request,
)
from .errors import (
    CredentialsMissing,
    CredentialsNotConfigured,
    InvalidParameter,
    ServiceError,
    UnsupportedType,
    UpstreamError,
    refuse_unknown,
)
from .observability import count, logger, tracer
from .storage import CONTENT_TYPES, ImageStore, image_key
from .url_cache import Backend, CachedUrl, UrlCache
from .verify import RenderFacts, render_verified, upstream_png

if TYPE_CHECKING:
    # The upstream client stack (requests, Secrets Manager, pydantic models) is
    # imported only when a request is not in the URL cache: see build_generate_service.
    from .gugudata import GuGuDataClient


BATCH_MAX = 100
BATCH_UPSTREAM_BUDGET_SECONDS = 15.0
"""A batch stops calling the upstream after this long and renders the rest locally."""


# --- the service -------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedBarcode:
    url: str
    type: str
    width: int
    height: int
    format: ImageFormat
    backend: Backend
    cached: bool
    verified: bool | None = None  # None: upstream render, or no decoder reads the type
    module_px: float | None = None  # None: upstream render (its geometry is unknown)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The public response body."""
        return {
            "url": self.url,
            "type": self.type,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "backend": self.backend,
            "cached": self.cached,
            "verified": self.verified,
            "module_px": self.module_px,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class BarcodeImage:
    """The image itself (response=image): a local render, or the upstream's image once it
    was fetched and read back."""

    barcode: GeneratedBarcode
    body: bytes
    etag: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.barcode.format]


@dataclass(frozen=True)
class BatchOutcome:
    """One row of a batch: the barcode, or the problem that request has."""

    barcode: GeneratedBarcode | None = None
    problem: ServiceError | None = None

    def to_dict(self, index: int) -> dict[str, Any]:
        if self.barcode is not None:
            return {"index": index, "status": 200, **self.barcode.to_dict()}
        assert self.problem is not None
        return {"index": index, "status": self.problem.status, "problem": self.problem.to_problem()}


class GenerateService:
    """Turns a validated request into an image URL through the configured backend.

    `upstream` is the generation client, or None for none; `upstream_factory` builds
    it on first use instead (so cache hits never load the upstream's HTTP stack).
    `image_backend`: "local" renders image bytes and redirects locally whatever the
    mode; "configured" follows the mode (an upstream render is then a redirect).
    """

    def __init__(
        self,
        *,
        mode: Literal["upstream", "local", "auto"],
        images: ImageStore,
        cache: UrlCache,
        upstream: GuGuDataClient | None,
        upstream_factory: Callable[[], GuGuDataClient] | None = None,
        image_backend: Literal["local", "configured"] = "local",
        clock: Callable[[], float] = time.monotonic,
        upstream_seconds: float = 15.0,
    ) -> None:
        self.mode = mode
        self.images = images
        self.cache = cache
        self._upstream = upstream
        self._upstream_factory = upstream_factory
        self.image_backend = image_backend
        self.clock = clock
        self.upstream_seconds = upstream_seconds  # the longest one upstream call may take
        self._noted_keyless = False

    @property
    def has_upstream(self) -> bool:
        """Whether an upstream is configured (without building its client)."""
        return self._upstream is not None or self._upstream_factory is not None

    @property
    def upstream(self) -> GuGuDataClient | None:
        """The generation client, built on first use; None when there is no upstream."""
        if self._upstream is None and self._upstream_factory is not None:
            self._upstream = self._upstream_factory()
        return self._upstream

    def plan(self, request: BarcodeRequest) -> Backend:
        """The backend to try first; UnsupportedType when upstream-only mode cannot serve it."""
        if self.mode == "local" or request.format != "png":  # the upstream draws PNGs only
            return "local"
        if request.symbology.upstream is None or not self.has_upstream or not request.plain:
            if self.mode == "upstream":
                why = (
                    "is only rendered locally"
                    if request.symbology.upstream is None or not self.has_upstream
                    else "with colours, rotation, quiet_zone=false or a dpi is only rendered "
                    "locally"
                )
                raise UnsupportedType(
                    f"type {request.symbology.name} {why}, and this "
                    "deployment uses the upstream backend only (GENERATE_BACKEND=upstream)"
                )
            return "local"
        return "upstream"

    def generate(self, request: BarcodeRequest, *, local: bool = False) -> GeneratedBarcode:
        """The image URL for `request`, from the cache when it was made before.

        `local`: render here whatever the mode would choose (image bytes, budgets).
        """
        planned: Backend = "local" if local else self.plan(request)
        if planned == "upstream" and deadline.current().remaining() < self.upstream_seconds:
            # An upstream call could outlast the request: render here (the render checks
            # the deadline too), or in upstream-only mode say it was not done.
            if self.mode == "upstream":
                raise deadline.current().exceeded("the barcode")
            planned = "local"
        digest = request.digest
        cached = self.cache.get(digest)
        usable = cached is not None and (
            cached.backend == planned or (self.mode == "auto" and not local)
        )
        if cached is not None and usable:
            count("GenerateCacheHit")
            if cached.url:
                return self._result(request, cached.url, "upstream", cached=True)
            if cached.key and cached.facts:
                url = self.images.url(cached.key)
                return self._result(request, url, "local", cached=True, facts=cached.facts)

        if planned == "upstream":
            try:
                made = self._from_upstream(request)
            except UpstreamError as error:
                count("UpstreamGenerateError")
                if self.mode == "upstream":
                    raise
                count("GenerateLocalFallback")
                logger.warning(
                    "generation upstream failed; rendering locally",
                    extra={"code": error.code, "type": request.symbology.name},
                )
            else:
                if made is not None:
                    self.cache.put(digest, CachedUrl("upstream", url=made))
                    return self._result(request, made, "upstream", cached=False)
                count("GenerateLocalFallback")
        return self._local(request, digest)[0]

    def image(self, request: BarcodeRequest) -> BarcodeImage:
        """The image bytes for response=image (rendered here unless the operator chose).

        With GENERATE_IMAGE_BACKEND=configured, an upstream render is fetched from its
        URL, read back with zxing-cpp and stored under the request's key like a local
        render; one that cannot be fetched or does not read back (or of a type no
        decoder here reads) is rendered locally instead.
        """
        if self.image_backend == "configured" and self.plan(request) == "upstream":
            barcode = self.generate(request)
            if barcode.backend == "upstream":
                body = self._upstream_image(request, barcode.url)
                if body is not None:
                    return BarcodeImage(barcode, body, request.etag)
        barcode, local_body = self._local(request, request.digest, want_body=True)
        assert local_body is not None  # want_body: the stored or rendered bytes
        return BarcodeImage(barcode, local_body, request.etag)

    @tracer.capture_method(capture_response=False)  # image bytes are no trace metadata
    def _upstream_image(self, request: BarcodeRequest, url: str) -> bytes | None:
        """The upstream's image of `request` as checked PNG bytes, stored once (None: render
        here instead)."""
        key = image_key(request.digest, request.format)
        # The key is the request's hash: an existing object is an image of this request.
        stored = self.images.get(key)
        if stored is not None:
            return stored
        client = self.upstream
        if client is None:  # pragma: no cover - plan() chose the upstream
            return None
        try:
            fetched = client.fetch_image(url)
        except UpstreamError as error:
            count("UpstreamImageFallback")
            logger.warning(
                "generation upstream image could not be fetched; rendering locally",
                extra={"code": error.code, "type": request.symbology.name},
            )
            return None
        body = upstream_png(request, fetched)
        if body is None:
            count("UpstreamImageFallback")
            logger.warning(
                "generation upstream image does not read back; rendering locally",
                extra={"type": request.symbology.name, "bytes": len(fetched)},
            )
            return None
        # No render facts: the local paths re-render rather than trust its geometry.
        self.images.put(key, body, request.format)
        count("UpstreamImageStored")
        return body

    def redirect(self, request: BarcodeRequest) -> GeneratedBarcode:
        """Where response=redirect sends the client."""
        return self.generate(request, local=self.image_backend == "local")

    def generate_batch(
        self,
        items: Sequence[Any],
        *,
        budget_seconds: float = BATCH_UPSTREAM_BUDGET_SECONDS,
        until: deadline.Deadline | None = None,
    ) -> list[BatchOutcome]:
        """One outcome per item, in order; a request repeated in the batch is made once.

        Within `until` (default: the request's deadline): past it, what is cached is still
        answered and the rest gets a 503 `deadline_exceeded` row each.
        """
        with deadline.applying(until or deadline.current()):
            return self._batch(items, budget_seconds)

    def _batch(self, items: Sequence[Any], budget_seconds: float) -> list[BatchOutcome]:
        started = self.clock()
        done: dict[str, BatchOutcome] = {}
        outcomes: list[BatchOutcome] = []
        for item in items:
            try:
                if not isinstance(item, Mapping):
                    raise InvalidParameter("each request must be a JSON object")
                refuse_unknown(item, PARAMETERS, "body")
                request = parse_request(item)
                if request.digest not in done:
                    # Past the budget no more upstream calls: the answer must fit the timeout.
                    local = self.clock() - started > budget_seconds
                    done[request.digest] = BatchOutcome(self.generate(request, local=local))
                outcomes.append(done[request.digest])
            except ServiceError as error:
                outcomes.append(BatchOutcome(problem=error))
        return outcomes

    @tracer.capture_method
    def _from_upstream(self, request: BarcodeRequest) -> str | None:
        """The upstream's image URL; None when no appkey is configured at all.

        A keyless deployment (or `make run` without GENERATE_APPKEY) is how it was set
        up, not a failure: said once, at INFO, instead of a WARNING per request, and
        raised nowhere (a traced method that raises is logged as an error).
        """
        client, upstream_type = self.upstream, request.symbology.upstream
        if client is None or upstream_type is None:  # pragma: no cover - plan() checked
            raise AssertionError("no upstream for this request")
        try:
            image = client.generate(
                type=upstream_type,
                content=request.content,
                width=request.width,
                height=request.height,
                show_label=request.show_text,
            )
        except CredentialsNotConfigured as error:
            # No appkey: no call was made, and none is counted.
            if self.mode == "upstream":
                raise
            if not self._noted_keyless:
                self._noted_keyless = True
                logger.info(
                    "no generation appkey is configured: images are rendered locally",
                    extra={"code": error.code},
                )
            return None
        except CredentialsMissing:
            raise  # the secret is unusable: no call was made either
        except UpstreamError:
            count("UpstreamGenerateCall")  # called, and it failed
            raise
        count("UpstreamGenerateCall")
        return image.url

    @tracer.capture_method(capture_response=False)  # its result holds the image bytes
    def _local(
        self, request: BarcodeRequest, digest: str, *, want_body: bool = False
    ) -> tuple[GeneratedBarcode, bytes | None]:
        key = image_key(digest, request.format)
        # The key is the request's hash: an existing object is this very image.
        body = self.images.get(key) if want_body else None
        facts = None if want_body and body is None else self.images.facts(key)
        rendered = facts is None
        if facts is None:
            deadline.current().check("the barcode")  # a render takes up to a second
            made = render_verified(request)
            self.images.put(key, made.body, request.format, made.facts)
            body, facts = made.body, made.facts
            count("BarcodeRendered")
        self.cache.put(digest, CachedUrl("local", key=key, facts=facts))
        url = self.images.url(key)
        result = self._result(request, url, "local", cached=not rendered, facts=facts)
        return result, body

    @staticmethod
    def _result(
        request: BarcodeRequest,
        url: str,
        backend: Backend,
        *,
        cached: bool,
        facts: RenderFacts | None = None,
    ) -> GeneratedBarcode:
        return GeneratedBarcode(
            url=url,
            type=request.symbology.name,
            width=request.width,
            height=request.height,
            format=request.format,
            backend=backend,
            cached=cached,
            verified=facts.verified if facts else None,
            module_px=facts.module_px if facts else None,
            warnings=facts.warnings if facts else (),
        )


__all__ = [
    "MAX_DIMENSION",
    "MIN_DIMENSION",
    "BarcodeRequest",
    "GenerateService",
    "parse_request",
    "render_verified",
]

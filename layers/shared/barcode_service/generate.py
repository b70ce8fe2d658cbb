"""The generate service: validate a request, pick a backend, cache the resulting URL.

Backends (GENERATE_BACKEND): `upstream` (GuGuData only), `local` (zint only) and
`auto`: the upstream for the types it has, local for the rest, and local when the
upstream is down, rate limited, out of credit or has no usable appkey. SVG is
always local (the upstream only returns raster images).

Every request is normalised and hashed; the hash names both the DynamoDB item that
remembers its URL (`BARCODE#<sha256>`) and the S3 object of a local render, so a
repeated request costs neither an upstream call nor a render.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from . import render
from .errors import InvalidParameter, UnsupportedType, UpstreamError
from .observability import logger, metrics, tracer
from .settings import Settings
from .storage import ImageStore, S3ImageStore, image_key
from .symbologies import Symbology, find_symbology, validate_content

if TYPE_CHECKING:
    # The upstream client stack (requests, Secrets Manager, pydantic models) is
    # imported only when a request is not in the URL cache: see build_generate_service.
    from .gugudata import GuGuDataClient

MIN_DIMENSION = 32
MAX_DIMENSION = 4000
FORMATS = ("png", "svg")
ImageFormat = Literal["png", "svg"]
Backend = Literal["upstream", "local"]

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


# --- the request -----------------------------------------------------------------------


@dataclass(frozen=True)
class BarcodeRequest:
    """A validated request: content already normalised for its type."""

    symbology: Symbology
    content: str
    width: int
    height: int
    format: ImageFormat = "png"
    show_text: bool = False

    @property
    def digest(self) -> str:
        """sha256 of the normalised request: the cache key and the S3 object name."""
        canonical = json.dumps(
            {
                "v": 1,
                "type": self.symbology.name,
                "content": self.content,
                "width": self.width,
                "height": self.height,
                "format": self.format,
                "show_text": self.show_text,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text_param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter(f"parameter {name!r} is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidParameter(f"parameter {name!r} must be a string")
    return str(value)


def _dimension(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter(
            f"parameter {name!r} is required: an integer from {MIN_DIMENSION} to {MAX_DIMENSION}"
        )
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (
        isinstance(value, str)
        and len(value.strip()) <= 9  # int() refuses > 4300 digits; no size needs 10
        and value.strip().isascii()
        and value.strip().isdigit()
    ):
        number = int(value.strip())
    else:
        number = None
    if number is None or not MIN_DIMENSION <= number <= MAX_DIMENSION:
        raise InvalidParameter(
            f"{name} must be an integer from {MIN_DIMENSION} to {MAX_DIMENSION} (pixels); "
            f"got {value!r}"
        )
    return number


def _format(params: Mapping[str, Any]) -> ImageFormat:
    value = params.get("format")
    if value is None or value == "":
        return "png"
    text = str(value).strip().lower()
    if text == "png":
        return "png"
    if text == "svg":
        return "svg"
    raise InvalidParameter(f"format must be 'png' or 'svg'; got {value!r}")


def _flag(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameter(f"{name} must be true or false; got {value!r}")


def parse_request(params: Mapping[str, Any]) -> BarcodeRequest:
    """Validate raw parameters (query, JSON or form) into a request, or raise a 400."""
    symbology = find_symbology(_text_param(params, "type"))
    content = validate_content(symbology, _text_param(params, "content"))
    width = _dimension(params, "width")
    height = _dimension(params, "height")
    image_format = _format(params)
    show_text = _flag(params, "show_text")
    # zint measures the real symbol: too-small sizes are refused before any backend runs.
    render.check_size(symbology, content, show_text, width, height)
    return BarcodeRequest(symbology, content, width, height, image_format, show_text)


# --- the URL cache -----------------------------------------------------------------------


@dataclass(frozen=True)
class CachedUrl:
    backend: Backend
    url: str | None = None  # upstream CDN URL
    key: str | None = None  # S3 key of a local render (its URL is made per response)


class UrlCache(Protocol):
    """Remembers where the image of a request digest is."""

    def get(self, digest: str) -> CachedUrl | None:
        """The remembered image of `digest`, or None."""
        ...

    def put(self, digest: str, entry: CachedUrl) -> None:
        """Remember the image of `digest` (best effort)."""
        ...


class DynamoUrlCache:
    """`BARCODE#<sha256>` items in the cache table (a `UrlCache`). Failures cost a miss."""

    def __init__(
        self, table: Any | None, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.table = table
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def get(self, digest: str) -> CachedUrl | None:
        if self.table is None:
            return None
        try:
            item = self.table.get_item(Key={"pk": f"BARCODE#{digest}"}).get("Item")
        except (ClientError, BotoCoreError) as error:
            logger.warning("barcode URL cache read failed", extra={"error": type(error).__name__})
            return None
        # DynamoDB deletes expired items lazily: an item past expires_at is a miss.
        if not item or int(item.get("expires_at", 0)) <= self.clock():
            return None
        backend = item.get("backend")
        if backend == "upstream" and item.get("url"):
            return CachedUrl("upstream", url=str(item["url"]))
        if backend == "local" and item.get("key"):
            return CachedUrl("local", key=str(item["key"]))
        return None

    def put(self, digest: str, entry: CachedUrl) -> None:
        if self.table is None or self.ttl_seconds <= 0:
            return
        now = self.clock()
        item: dict[str, Any] = {
            "pk": f"BARCODE#{digest}",
            "backend": entry.backend,
            "created_at": int(now),
            "expires_at": int(now) + self.ttl_seconds,
        }
        if entry.url:
            item["url"] = entry.url
        if entry.key:
            item["key"] = entry.key
        try:
            self.table.put_item(Item=item)
        except (ClientError, BotoCoreError) as error:
            logger.warning("barcode URL cache write failed", extra={"error": type(error).__name__})


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
        }


def _count(name: str) -> None:
    # One metric name per event and no dimensions: cheap, and each one alarms on its own.
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


class GenerateService:
    """Turns a validated request into an image URL through the configured backend.

    `upstream` is the generation client, or None for none; `upstream_factory` builds
    it on first use instead (so cache hits never load the upstream's HTTP stack).
    """

    def __init__(
        self,
        *,
        mode: Literal["upstream", "local", "auto"],
        images: ImageStore,
        cache: UrlCache,
        upstream: GuGuDataClient | None,
        upstream_factory: Callable[[], GuGuDataClient] | None = None,
    ) -> None:
        self.mode = mode
        self.images = images
        self.cache = cache
        self._upstream = upstream
        self._upstream_factory = upstream_factory

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
        if self.mode == "local" or request.format == "svg":
            return "local"
        if request.symbology.upstream is None or not self.has_upstream:
            if self.mode == "upstream":
                raise UnsupportedType(
                    f"type {request.symbology.name} is only rendered locally, and this "
                    "deployment uses the upstream backend only (GENERATE_BACKEND=upstream)"
                )
            return "local"
        return "upstream"

    def generate(self, request: BarcodeRequest) -> GeneratedBarcode:
        """The image URL for `request`, from the cache when it was made before."""
        planned = self.plan(request)
        digest = request.digest
        cached = self.cache.get(digest)
        if cached is not None and (self.mode == "auto" or cached.backend == planned):
            _count("GenerateCacheHit")
            url = cached.url if cached.url else self.images.url(str(cached.key))
            return self._result(request, url, cached.backend, cached=True)

        if planned == "upstream":
            try:
                url = self._from_upstream(request)
            except UpstreamError as error:
                _count("UpstreamGenerateError")
                if self.mode == "upstream":
                    raise
                _count("GenerateLocalFallback")
                logger.warning(
                    "generation upstream failed; rendering locally",
                    extra={"code": error.code, "type": request.symbology.name},
                )
            else:
                self.cache.put(digest, CachedUrl("upstream", url=url))
                return self._result(request, url, "upstream", cached=False)
        return self._local(request, digest)

    @tracer.capture_method
    def _from_upstream(self, request: BarcodeRequest) -> str:
        client, upstream_type = self.upstream, request.symbology.upstream
        if client is None or upstream_type is None:  # pragma: no cover - plan() checked
            raise AssertionError("no upstream for this request")
        _count("UpstreamGenerateCall")
        image = client.generate(
            type=upstream_type,
            content=request.content,
            width=request.width,
            height=request.height,
            show_label=request.show_text,
        )
        return image.url

    @tracer.capture_method
    def _local(self, request: BarcodeRequest, digest: str) -> GeneratedBarcode:
        key = image_key(digest, request.format)
        # The key is the request's hash: an existing object is this very image.
        rendered = not self.images.exists(key)
        if rendered:
            draw = render.render_svg if request.format == "svg" else render.render_png
            body = draw(
                request.symbology, request.content, request.width, request.height, request.show_text
            )
            self.images.put(key, body, request.format)
            _count("BarcodeRendered")
        self.cache.put(digest, CachedUrl("local", key=key))
        return self._result(request, self.images.url(key), "local", cached=not rendered)

    @staticmethod
    def _result(
        request: BarcodeRequest, url: str, backend: Backend, *, cached: bool
    ) -> GeneratedBarcode:
        return GeneratedBarcode(
            url=url,
            type=request.symbology.name,
            width=request.width,
            height=request.height,
            format=request.format,
            backend=backend,
            cached=cached,
        )


def build_generate_service(settings: Settings) -> GenerateService:
    """The service wired to AWS and the upstream from settings (one per cold start)."""
    import boto3  # noqa: PLC0415 - only the generate routes need AWS clients
    from botocore.config import Config  # noqa: PLC0415

    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    images = S3ImageStore(
        s3,
        settings.images_bucket,
        base_url=settings.images_base_url,
        presign_expires=settings.presign_expires_seconds,
    )
    table = boto3.resource("dynamodb").Table(settings.cache_table) if settings.cache_table else None
    cache = DynamoUrlCache(table, settings.generate_url_ttl_seconds)

    def upstream() -> GuGuDataClient:
        # Lazy: requests, Powertools Parameters and the credential models cost ~40 ms
        # at import, and only a request missing from the URL cache needs them.
        from .credentials import SecretStore  # noqa: PLC0415
        from .gugudata import GuGuDataClient  # noqa: PLC0415

        secrets = SecretStore(settings.secret_id, settings.secret_max_age)

        def appkey(refresh: bool) -> str:
            return secrets.generate(refresh).appkey.get_secret_value()

        return GuGuDataClient(
            settings.generate_api_url,
            appkey,
            mode=settings.generate_request_mode,
            policy=settings.retry_policy(),
        )

    return GenerateService(
        mode=settings.generate_backend,
        images=images,
        cache=cache,
        upstream=None,
        upstream_factory=upstream if settings.generate_backend != "local" else None,
    )

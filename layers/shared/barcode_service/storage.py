"""S3 storage of locally rendered images, and the URLs clients fetch them from.

Keys are content-addressed (`barcodes/<sha256 of the normalised request>.<ext>`, and
community product photos `products/<sha256 of the bytes>.jpg`, uploads/product_image.py),
so an object never changes once written: it is cached forever by CloudFront and
browsers, and an existing object means the request was already rendered.
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError

from .errors import StorageError
from .verify import RenderFacts

CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "eps": "application/postscript",
    "jpg": "image/jpeg",
}
PREFIX = "barcodes/"


def image_key(digest: str, image_format: str) -> str:
    """The object key of a rendered request."""
    return f"{PREFIX}{digest}.{image_format}"


class ImageStore(Protocol):
    """Where rendered images live and the URLs clients fetch them from."""

    def exists(self, key: str) -> bool:
        """Whether `key` is already stored."""
        ...

    def facts(self, key: str) -> RenderFacts | None:
        """The render facts of a stored image; None when it is not stored."""
        ...

    def get(self, key: str) -> bytes | None:
        """The stored bytes of `key`, or None when it is not stored."""
        ...

    def put(
        self, key: str, body: bytes, image_format: str, facts: RenderFacts | None = None
    ) -> None:
        """Store an image under `key` (with what its render was checked to be)."""
        ...

    def url(self, key: str) -> str:
        """A URL a client can GET the image from."""
        ...


class S3ImageStore:
    """Puts images into the images bucket and hands out URLs for them (an `ImageStore`)."""

    def __init__(
        self, s3: Any, bucket: str, *, base_url: str = "", presign_expires: int = 604_800
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.base_url = base_url.rstrip("/")
        self.presign_expires = presign_expires

    def _require_bucket(self) -> None:
        if not self.bucket:
            raise StorageError("no images bucket is configured (IMAGES_BUCKET)")

    def exists(self, key: str) -> bool:
        """Whether `key` is already stored."""
        return self._head(key) is not None

    def facts(self, key: str) -> RenderFacts | None:
        """The render facts of a stored image; None when it is not stored (or predates them)."""
        head = self._head(key)
        return None if head is None else RenderFacts.from_metadata(head.get("Metadata") or {})

    def _head(self, key: str) -> dict[str, Any] | None:
        self._require_bucket()
        try:
            head: dict[str, Any] = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                return None
            raise StorageError(f"could not check the images bucket ({_code(error)})") from None
        return head

    def get(self, key: str) -> bytes | None:
        """The stored bytes of `key`, or None when it is not stored."""
        self._require_bucket()
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _missing(error):
                return None
            raise StorageError(f"could not read the images bucket ({_code(error)})") from None
        return body

    def put(
        self, key: str, body: bytes, image_format: str, facts: RenderFacts | None = None
    ) -> None:
        """Store an image with a forever-cacheable Cache-Control (and its render facts)."""
        self._require_bucket()
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=CONTENT_TYPES[image_format],
                CacheControl=CACHE_CONTROL,
                Metadata=facts.to_metadata() if facts else {},
            )
        except ClientError as error:
            raise StorageError(f"could not store the image ({_code(error)})") from None

    def url(self, key: str) -> str:
        """The CDN URL when IMAGES_BASE_URL is set, else a presigned GET URL."""
        if self.base_url:
            return f"{self.base_url}/{key}"
        self._require_bucket()
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.presign_expires,
        )
        return url


def _missing(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown"))

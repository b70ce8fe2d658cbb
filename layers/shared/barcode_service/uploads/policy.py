"""Which uploads are accepted: file types, upload ids, object keys, size limits.

Keys are built from an id we generate and an extension from our own table, never
from the client's filename, so an upload can only ever land on `uploads/<id>.<ext>`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from typing import Any, Literal

from ..errors import InvalidParameter, UnsupportedFileType
from ..settings import Settings

Kind = Literal["list", "image"]
Purpose = Literal["lookup", "product_image", "labels"]
PURPOSES: tuple[Purpose, ...] = ("lookup", "product_image", "labels")
"""What an upload is for: its codes looked up (a list or a photo), or a product's photo
for a community contribution (`product_image`: stored, never decoded for barcodes)."""
UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"
MAX_FILENAME = 255

# Canonical extension per accepted extension: the key only ever holds one of these.
EXTENSIONS: dict[str, tuple[str, Kind]] = {
    "csv": ("csv", "list"),
    "txt": ("txt", "list"),
    "jpg": ("jpg", "image"),
    "jpeg": ("jpg", "image"),
    "png": ("png", "image"),
    "webp": ("webp", "image"),
    "heic": ("heic", "image"),
    "heif": ("heic", "image"),
}
CONTENT_TYPES: dict[str, tuple[str, Kind]] = {
    "text/csv": ("csv", "list"),
    "text/plain": ("txt", "list"),
    "image/jpeg": ("jpg", "image"),
    "image/jpg": ("jpg", "image"),  # not registered, but what many clients send
    "image/png": ("png", "image"),
    "image/webp": ("webp", "image"),
    "image/heic": ("heic", "image"),
    "image/heif": ("heic", "image"),
}
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_KEY = re.compile(r"^uploads/([0-9a-f]{32})\.([a-z0-9]{1,8})$")


def new_upload_id() -> str:
    return uuid.uuid4().hex


def check_upload_id(upload_id: str) -> str:
    """The id if well-formed; InvalidParameter otherwise (ids are 32 lower-case hex digits)."""
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise InvalidParameter("an upload id is 32 hexadecimal characters", field="id")
    return upload_id


def upload_ref(upload_id: str) -> str:
    """What logs say instead of an upload id: an id is what reads a job, so it never goes
    into a log or trace; an operator who has an id can compute its ref to find its lines."""
    return hashlib.sha256(f"upload:{upload_id}".encode()).hexdigest()[:16]


def upload_key(upload_id: str, ext: str) -> str:
    """Object key of an upload: built from the id and a canonical extension only."""
    return f"{UPLOADS_PREFIX}{check_upload_id(upload_id)}.{EXTENSIONS[ext][0]}"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(upload id, extension as written) of an uploads/ key, or None if not ours."""
    match = _UPLOAD_KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


def kind_of(ext: str) -> Kind | None:
    entry = EXTENSIONS.get(ext)
    return entry[1] if entry else None


def results_key(upload_id: str, suffix: Literal["json", "csv"]) -> str:
    return f"{RESULTS_PREFIX}{upload_id}.{suffix}"


def display_filename(raw: str) -> str:
    """The client's filename as data only: NFKC, no control characters, bounded length."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return text.strip()[:MAX_FILENAME]


def choose_type(filename: Any, content_type: Any) -> tuple[str, Kind, str]:
    """(canonical extension, kind, bare content type) of an upload request, or a 400."""
    if not isinstance(filename, str) or not filename.strip():
        raise InvalidParameter("'filename' must be a non-empty string", field="filename")
    if not isinstance(content_type, str) or not content_type.strip():
        raise InvalidParameter("'content_type' must be a non-empty string", field="content_type")
    if len(filename) > 4 * MAX_FILENAME:
        raise InvalidParameter(
            f"'filename' is longer than {MAX_FILENAME} characters", field="filename"
        )
    accepted = "accepted: .csv/.txt (text/csv, text/plain), .jpg/.jpeg/.png/.webp/.heic images"
    bare = content_type.split(";", 1)[0].strip().lower()
    if bare not in CONTENT_TYPES:
        raise UnsupportedFileType(
            f"content type {bare[:100]!r} is not accepted; {accepted}", field="content_type"
        )
    # NFKC folds look-alike characters (full-width letters) so only plain ASCII remains
    # to compare; the extension then comes from our table, never from the client.
    name = display_filename(filename).replace("\\", "/").rsplit("/", 1)[-1].rstrip(". ")
    suffix = name.rsplit(".", 1)[1].lower() if "." in name else ""
    type_ext, type_kind = CONTENT_TYPES[bare]
    if not suffix:
        return type_ext, type_kind, bare
    if suffix not in EXTENSIONS:
        raise UnsupportedFileType(
            f"files ending in .{suffix[:20]} are not accepted; {accepted}", field="filename"
        )
    ext, kind = EXTENSIONS[suffix]
    if kind != type_kind:
        raise InvalidParameter(
            f"content type {bare} does not match a .{suffix} file", field="content_type"
        )
    return ext, kind, bare


def choose_purpose(purpose: Any, kind: Kind) -> Purpose:
    """The upload's purpose, or a 400 naming the field."""
    if purpose == "lookup":
        return "lookup"
    if purpose == "labels":  # a label sheet's CSV and options: uploads/labels.py checks them
        return "labels"
    if purpose != "product_image":
        raise InvalidParameter(
            f"purpose must be {' or '.join(repr(p) for p in PURPOSES)}", field="purpose"
        )
    if kind != "image":
        raise InvalidParameter(
            'purpose "product_image" takes a photo (.jpg, .png, .webp or .heic)',
            field="content_type",
        )
    return "product_image"


def work_key(upload_id: str, run: str, name: str) -> str:
    """Intermediate files of a run (chunk inputs, outputs, partial progress)."""
    return f"{RESULTS_PREFIX}{upload_id}/runs/{run}/{name}"


def max_bytes(settings: Settings, kind: Kind) -> int:
    """The largest file of `kind` accepted (S3 enforces it on the POST, the worker again)."""
    return settings.upload_max_image_bytes if kind == "image" else settings.upload_max_list_bytes

"""Before a snapshot (SnapStart): what a function's first request loads, loaded.

Each handler's before-snapshot hook (snapshot.py) builds its service, then calls its
`prepare_*`: every `wiring.Lazy` part is built, and what a first request would import
or load (zint, zxing-cpp, Pillow, GS1 tables, the OpenAPI document) is imported and
loaded. What they run are pure computations on made-up input, without a network call
or a secret read: they leave nothing behind but caches of constant data. (The uploads
function needs nothing beyond its service.) Without SnapStart nothing calls them.
"""

from __future__ import annotations

import importlib

from . import snapshot
from .settings import Settings
from .wiring import Lazy, prepare_secrets

_SAMPLE_EAN13 = {"type": "ean13", "content": "5901234123457", "width": "300", "height": "150"}
_SAMPLE_SCAN = "]C101095060001343521727123110AB1"  # a GS1-128 scan: GS1 tables, zint's check


def _build_lazy_parts() -> None:
    """Every part a service would build on its first use (no part reads a secret), and
    the parts those make while they are built (a provider's own secret store)."""
    done: set[int] = set()
    while pending := [part for part in list(Lazy.made) if id(part) not in done]:
        for part in pending:
            part()
            done.add(id(part))


def _client_exceptions() -> None:
    """Each AWS client's exception classes: botocore builds them from the whole service
    model on the client's first error answer (a refused conditional write, which every
    taken lease or limiter slot is), ~10-20 ms of a restored copy's first lookup miss."""
    for pool in snapshot.pooled():
        getattr(pool, "exceptions", None)  # a boto3 client's; HTTP sessions have none


def _import(*modules: str) -> None:
    for name in modules:
        importlib.import_module(name)


def _render_and_read() -> bytes:
    """An EAN-13 PNG rendered and read back, and an SVG: zint, Pillow and zxing-cpp loaded."""
    from .barcode_request import parse_request  # noqa: PLC0415
    from .verify import render_verified  # noqa: PLC0415

    render_verified(parse_request({**_SAMPLE_EAN13, "format": "svg"}))
    return render_verified(parse_request(_SAMPLE_EAN13)).body


def _scan_tables(settings: Settings) -> None:
    """Scanner text and a photo read as a request would read them."""
    from .canonical import canonicalise  # noqa: PLC0415
    from .decode import decode_photo, load_photo  # noqa: PLC0415

    canonicalise(_SAMPLE_SCAN, rcn_region=settings.gs1_rcn_region)
    if settings.gs1_rcn_region:  # biip's variable-measure rules (gtin.variable_measure)
        canonicalise("2012345678907", rcn_region=settings.gs1_rcn_region)
    decode_photo(load_photo(_render_and_read()))
    _import("pi_heif")  # HEIC photos


def _credential_models(needed: bool) -> None:
    """The secret's models, for a deployment whose upstream may have a key (loading them
    is ~105-140 ms: in the snapshot, no restore pays it; the secret is not read)."""
    if needed:
        _import("barcode_service.credential_models")


def prepare_lookup(settings: Settings) -> None:
    """The lookup function's first request, ready: providers, scans, the API description."""
    from . import explorer, openapi  # noqa: PLC0415

    _build_lazy_parts()
    prepare_secrets(settings)  # UPCitemdb's key, Baichuan's, the community's account
    _client_exceptions()
    _credential_models("baichuan" in settings.provider_names())
    _import("barcode_service.scans", "barcode_service.batch")
    _scan_tables(settings)
    openapi.openapi_document()
    for name in explorer.ASSETS:
        explorer.asset(name)


def prepare_generate(settings: Settings) -> None:
    """The generate function's first request, ready: renders, the upstream client."""
    from .symbologies import types_document  # noqa: PLC0415

    _build_lazy_parts()
    if settings.generate_backend != "local":
        prepare_secrets(settings)
    _credential_models(settings.generate_backend != "local")
    _render_and_read()
    types_document()


def prepare_upload_worker(settings: Settings) -> None:
    """The upload worker's first message, ready: lists, photos and their lookups."""
    _build_lazy_parts()
    prepare_secrets(settings)
    _client_exceptions()
    _credential_models("baichuan" in settings.provider_names(uploads=True))
    _import("barcode_service.codelist", "barcode_service.scans", "barcode_service.i18n")
    _scan_tables(settings)


def prepare_image() -> None:
    """The keyless image function's first request, ready (it builds no service)."""
    _render_and_read()

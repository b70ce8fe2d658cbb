"""Upload photos: every barcode decoded and looked up, none found, no GTIN."""

from __future__ import annotations

import io

import responses
import zint
from PIL import Image

from barcode_service.uploads.worker import NO_BARCODE
from tests.support.workers import (
    FOUND,
    UID,
    Env,
    Upstream,
    make_worker,
    upload,
    zint_png,
)


def test_photo_is_decoded_and_looked_up(env: Env, mock: responses.RequestsMock) -> None:
    Upstream(mock, {FOUND})
    make_worker(env).handle(upload(env, "photo.jpg", zint_png(FOUND[:12])))
    job = env.job()
    assert job.status == "done"
    assert job.results is not None
    assert [(r["code"], r["format"], r["status"]) for r in job.results] == [
        (FOUND, "EAN-13", "found")
    ]
    assert job.results_csv_key is None
    assert env.read_json(f"results/{UID}.json")["results"] == job.results


def test_photo_without_barcode_is_done_with_a_message(env: Env) -> None:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 60)).save(out, format="PNG")
    make_worker(env).handle(upload(env, "photo.png", out.getvalue()))
    job = env.job()
    assert job.status == "done"
    assert job.results == []
    assert job.message == NO_BARCODE


def test_qr_without_gtin_gets_a_row(env: Env) -> None:
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.outfile = "x.png"
    symbol.scale = 4
    symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
    symbol.encode("https://example.com/menu")
    symbol.print()
    make_worker(env).handle(upload(env, "photo.png", bytes(symbol.memfile)))
    job = env.job()
    assert job.results is not None
    row = job.results[0]
    assert row["status"] == "invalid_gtin"
    assert row["text"] == "https://example.com/menu"
    assert "holds no GTIN" in row["error"]["detail"]

"""The native parts left out of the layer (layers/shared/unused-native.txt) are unused.

The layer's wheels are aarch64 and cannot run here, but the tests' own Pillow is the same
release for this machine with the same layout, so each check runs on it: every listed
pattern still matches a file (the list does not go stale on an upgrade), nothing kept
links a removed library, and the service's image work runs on a copy of Pillow with the
listed files removed, in a fresh interpreter.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from pathlib import Path

import PIL
import pytest

ROOT = Path(__file__).resolve().parents[2]
LIST = ROOT / "layers" / "shared" / "unused-native.txt"
SITE = Path(PIL.__file__).resolve().parents[1]
COPIED = ("PIL", "pillow.libs")


def _patterns() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in LIST.read_text().splitlines())
    return [line for line in lines if line]


def _files(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for d in COPIED for p in (root / d).rglob("*") if p.is_file()]


def _removed(root: Path) -> set[str]:
    files = _files(root)
    return {f for pattern in _patterns() for f in fnmatch.filter(files, pattern)}


def test_every_listed_pattern_matches_a_file_of_the_pinned_pillow() -> None:
    files = _files(SITE)
    assert [p for p in _patterns() if not fnmatch.filter(files, p)] == []


def test_nothing_kept_links_a_removed_library() -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed")
    removed = {Path(f).name for f in _removed(SITE)}
    kept = [f for f in _files(SITE) if f not in _removed(SITE) and ".so" in f]
    assert kept
    for name in kept:
        dynamic = subprocess.run(
            [readelf, "-d", str(SITE / name)], capture_output=True, text=True, check=True
        ).stdout
        assert not [lib for lib in removed if f"[{lib}]" in dynamic], name


WORK = """
import io, json, sys
from PIL import Image
assert Image.__file__.startswith(sys.argv[1]), Image.__file__
import zint
from barcode_service.barcode_request import parse_request
from barcode_service.decode import decode_image
from barcode_service.verify import render_verified

made = {}
for options in ({}, {"fg": "1133AA", "bg": "transparent", "rotate": 90}, {"unit": "mm",
        "width": 40, "height": 20, "dpi": 300}, {"format": "svg"}):
    query = {"type": "ean13", "content": "690123456789", "width": 400, "height": 200}
    request = parse_request({**query, **options})
    made[json.dumps(options)] = render_verified(request).facts.verified
symbol = zint.Symbol()
symbol.symbology = zint.Symbology.EANX
symbol.scale = 2
symbol.encode("690123456789")
symbol.buffer()
height, width = symbol.bitmap.shape[:2]
drawn = Image.frombytes("RGB", (width, height), bytes(symbol.bitmap))
photo = Image.new("RGB", (900, 600), (210, 200, 190))
photo.paste(drawn, (200, 200))
read = {}
for fmt in ("JPEG", "PNG", "WEBP"):
    out = io.BytesIO()
    photo.save(out, format=fmt)
    read[fmt] = [code.gtin for code in decode_image(out.getvalue())]
print(json.dumps({"made": made, "read": read}))
"""


def test_the_service_image_work_runs_without_the_removed_files(tmp_path: Path) -> None:
    for name in COPIED:
        shutil.copytree(SITE / name, tmp_path / name)
    for name in _removed(tmp_path):
        (tmp_path / name).unlink()
    assert not list((tmp_path / "PIL").glob("_avif.*.so"))
    path = f"{tmp_path}:{ROOT / 'layers' / 'shared'}:{SITE}"
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = {path.split(':')!r}\n" + WORK,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert set(result["made"].values()) == {True}, result
    assert result["read"] == {fmt: ["6901234567892"] for fmt in ("JPEG", "PNG", "WEBP")}

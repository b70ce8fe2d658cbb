"""HEIC photos are read by the layer's decode-only libheif (pi-heif), not the tests' encoder.

The tests make HEIC files with pillow-heif (an encoder); once it is imported it also
registers a HEIF reader with Pillow, which would hide a broken reader in the layer.
So the photo is read in a fresh interpreter in which pillow-heif cannot be imported.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import zint
from PIL import Image

from tests.unit.test_decode import render

ROOT = Path(__file__).resolve().parents[2]
READ = """
import json, sys
sys.modules["pillow_heif"] = None  # the encoder is not in the layer
from barcode_service.decode import decode_image
data = open(sys.argv[1], "rb").read()
print(json.dumps([c.gtin for c in decode_image(data)]))
"""


def test_a_heic_photo_is_read_without_pillow_heif(tmp_path: Path) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    photo = Image.new("RGB", (900, 600), (210, 200, 190))
    photo.paste(render(zint.Symbology.EANX, "690123456789", scale=3), (250, 200))
    out = io.BytesIO()
    photo.save(out, format="HEIF", quality=90)
    path = tmp_path / "shelf.heic"
    path.write_bytes(out.getvalue())
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'layers' / 'shared'}", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["6901234567892"]

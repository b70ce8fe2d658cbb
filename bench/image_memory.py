"""Photo decoding within the function's memory: peak RSS per image, in a fresh process.

Each image is decoded by `decode.decode_image` (what scans and the upload worker run)
in its own child process, under an address-space limit equal to the function's memory
(1024 MB, `resource.setrlimit(RLIMIT_AS)`), so a decoder that needs more fails there
with a MemoryError instead of swapping. The child reports its peak RSS (`ru_maxrss`)
and what it had after its imports, and the answer: the codes found, or the problem's
code (`image_too_large` for the bombs, which are refused from their header).

Images: the issue's bombs (a 13000 x 13000 flat RGBA PNG of ~0.9 MB and a 9400 x 9400
RGB PNG), the worst accepted image (a flat RGBA PNG just under image_budget.MAX_PIXELS:
4 bytes a pixel decoded, the largest buffer an accepted image can need) and a 12 MP
phone-like JPEG for scale. The PNGs are written without ever holding their pixels: every
row is zero, so after the first rows each row compresses to the same deflate bytes
(`flat_png`), and a 169 MP bomb is made in milliseconds.

`tests/unit/test_image_memory.py` runs the same children with the bombs and the worst
accepted image; the figures here are for a quiet machine.
"""

from __future__ import annotations

import io
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from .common import ROOT, Figure, ensure_paths

FUNCTION_MEMORY_MB = 1024  # template.yaml: the lookup and upload worker functions
RESULT_MARK = "IMAGE-MEMORY "
_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _zero_rows(row_bytes: int, rows: int) -> bytes:
    """A zlib stream of `rows` rows of `row_bytes` zero bytes, without compressing each.

    Once the 32 KB window holds only zeros, a row followed by a sync flush always
    compresses to the same bytes; the stream is those bytes repeated, then the end
    block and the Adler-32 of all-zero data (a = 1, b = length mod 65521).
    """
    if rows < 4:
        return zlib.compress(bytes(row_bytes * rows), 9)
    compressor = zlib.compressobj(9)
    row = bytes(row_bytes)
    head = b"".join(
        compressor.compress(row) + compressor.flush(zlib.Z_SYNC_FLUSH) for _ in range(2)
    )
    repeated = compressor.compress(row) + compressor.flush(zlib.Z_SYNC_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)[:-4]
    adler = ((row_bytes * rows) % 65521) << 16 | 1
    return head + repeated * (rows - 2) + end + struct.pack(">I", adler)


def flat_png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A valid PNG of `width` x `height` zero pixels (transparent black for RGBA)."""
    colour_type, channels = _COLOUR_TYPES[mode]
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    pixels = _zero_rows(1 + width * channels, height)  # each row: filter byte 0 + pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def phone_jpeg(width: int = 4032, height: int = 3024) -> bytes:
    """A 12 MP greyish frame with noise, JPEG-encoded like a phone photo."""
    from PIL import Image

    frame = Image.effect_noise((width, height), 40).convert("RGB")
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass(frozen=True)
class Decoded:
    """What one child process reported (or how it died)."""

    outcome: str  # "decoded", a problem code, "MemoryError", or "died <returncode>"
    codes: int = 0
    baseline_mb: float = 0.0
    peak_mb: float = 0.0
    seconds: float = 0.0


def decode_in_child(
    data: bytes, limit_mb: int = FUNCTION_MEMORY_MB, timeout: float = 300
) -> Decoded:
    """`decode_image(data)` in a fresh process limited to `limit_mb` of address space."""
    with tempfile.NamedTemporaryFile(suffix=".img") as file:
        file.write(data)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-m", "bench.image_memory", file.name, str(limit_mb)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return Decoded(**json.loads(line[len(RESULT_MARK) :]))
    return Decoded(f"died {done.returncode}: {done.stderr.strip()[-300:]}")


def _rss_mb() -> float:
    """This process's peak RSS: VmHWM, which starts afresh at exec (ru_maxrss keeps the
    parent's peak across a vfork + exec, so a large test runner would show as ours)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(path: str, limit_mb: int) -> None:
    """The child's side: limit the address space, import, decode, report one line."""
    limit = limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    ensure_paths()
    from barcode_service.decode import decode_image
    from barcode_service.errors import ServiceError

    data = Path(path).read_bytes()
    baseline = _rss_mb()
    started = time.perf_counter()
    codes, outcome = 0, "decoded"
    try:
        codes = len(decode_image(data))
    except ServiceError as error:
        outcome = error.code
    except MemoryError:
        outcome = "MemoryError"
    report = {
        "outcome": outcome,
        "codes": codes,
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(_rss_mb(), 1),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(RESULT_MARK + json.dumps(report), flush=True)


def worst_accepted() -> tuple[int, int]:
    """The largest 4:3 size within the pixel budget."""
    ensure_paths()
    from barcode_service.image_budget import MAX_PIXELS

    height = int((MAX_PIXELS * 3 / 4) ** 0.5)
    return MAX_PIXELS // height, height


def images(quick: bool) -> list[tuple[str, bytes]]:
    width, height = worst_accepted()
    chosen = [
        ("bomb 13000x13000 RGBA PNG", flat_png(13000, 13000)),
        ("bomb 9400x9400 RGB PNG", flat_png(9400, 9400, "RGB")),
        (f"worst accepted {width}x{height} RGBA PNG", flat_png(width, height)),
    ]
    if not quick:
        chosen.append(("12 MP JPEG", phone_jpeg()))
    return chosen


def run(*, quick: bool = False) -> list[Figure]:
    figures = []
    for name, data in images(quick):
        result = decode_in_child(data)
        added = result.peak_mb - result.baseline_mb
        accepted = name.startswith(("worst", "12 MP"))
        expected = "decoded" if accepted else "image_too_large"
        figures.append(
            Figure(
                "image_memory",
                f"{name} ({len(data) // 1024} KB)",
                f"{result.outcome}, peak RSS {result.peak_mb:.0f} MB ({added:+.0f} MB over "
                f"the {result.baseline_mb:.0f} MB after imports) in {result.seconds:.1f} s, "
                f"under a {FUNCTION_MEMORY_MB} MB address-space limit",
                target=f"{expected}, peak < {FUNCTION_MEMORY_MB // 2} MB",
                ok=result.outcome == expected and result.peak_mb < FUNCTION_MEMORY_MB // 2,
            )
        )
    return figures


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))

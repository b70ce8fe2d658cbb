"""Photo decoding: our decoder against raw zxing-cpp, on real barcode photos, same run.

Photos: zxing-cpp's own test samples (Apache-2.0, bench/photos/zxing-cpp, see NOTICE
there) for the formats the product reads; an image counts as read when its expected
text (the sample's .txt) is among the texts decoded. Then 12 MP frames: a sample
pasted at its own size into a 4032x3024 frame, JPEG-encoded like a phone photo; and
12 MP close-ups: the same sample enlarged to ~40% of the frame's width (a phone held
close to the code, the usual case).

Raw zxing-cpp = `zxingcpp.read_barcodes(image)` at full resolution with all formats
(its defaults). Ours = `decode.decode_image(bytes)` (loading included). Each image is
measured for both, interleaved, so load on the machine hits both alike.
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass
from pathlib import Path

from .common import Figure, ensure_paths, median

PHOTOS = Path(__file__).resolve().parent / "photos" / "zxing-cpp"
FRAME = (4032, 3024)
IMAGE_SUFFIXES = (".png", ".jpg", ".webp")


@dataclass(frozen=True)
class Sample:
    path: Path
    expected: str


@dataclass(frozen=True)
class Trial:
    raw_read: bool
    ours_read: bool
    raw_seconds: float
    ours_seconds: float


def samples() -> list[Sample]:
    """Every sample image with an expected text, in a stable order."""
    found = []
    for path in sorted(PHOTOS.rglob("*")):
        text = path.with_suffix(".txt")
        if path.suffix in IMAGE_SUFFIXES and text.exists():
            found.append(Sample(path, text.read_text(encoding="utf-8", errors="replace")))
    return found


def _trial(data: bytes, expected: str) -> Trial:
    import zxingcpp
    from PIL import Image

    from barcode_service.decode import decode_image

    started = time.perf_counter()
    image = Image.open(io.BytesIO(data))
    raw = [str(b.text) for b in zxingcpp.read_barcodes(image)]
    raw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = [code.text for code in decode_image(data)]
    ours_seconds = time.perf_counter() - started
    return Trial(expected in raw, expected in ours, raw_seconds, ours_seconds)


def frame_of(sample: Sample, rng: random.Random, fill: float = 0.0) -> bytes:
    """The sample pasted into a 12 MP frame, as a phone-quality JPEG: at its own size,
    or (`fill` > 0) enlarged to about that share of the frame's width, like a close-up."""
    from PIL import Image

    symbol = Image.open(sample.path).convert("L")
    if fill:
        factor = max(1, round(FRAME[0] * fill / symbol.width))
        factor = max(1, min(factor, FRAME[1] // symbol.height))
        size = (symbol.width * factor, symbol.height * factor)
        symbol = symbol.resize(size, Image.Resampling.NEAREST)
    frame = Image.new("L", FRAME, rng.randrange(150, 230))
    x = rng.randrange(0, FRAME[0] - symbol.width)
    y = rng.randrange(0, FRAME[1] - symbol.height)
    frame.paste(symbol, (x, y))
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=92)
    return out.getvalue()


def _summary(name: str, trials: list[Trial]) -> list[Figure]:
    raw = sum(t.raw_read for t in trials)
    ours = sum(t.ours_read for t in trials)
    lost = sum(t.raw_read and not t.ours_read for t in trials)
    gained = sum(t.ours_read and not t.raw_read for t in trials)
    times = sorted(t.ours_seconds for t in trials)
    raw_times = sorted(t.raw_seconds for t in trials)
    p90 = times[int(0.9 * (len(times) - 1))] if times else float("nan")
    return [
        Figure(
            "scan",
            f"{name} read",
            f"{ours}/{len(trials)} vs raw zxing-cpp {raw}/{len(trials)} "
            f"(+{gained} only ours, -{lost} only raw)",
            target=">= raw",
            ok=ours >= raw,
        ),
        Figure(
            "scan",
            f"{name} time",
            f"median {median(times) * 1000:.0f} ms (p90 {p90 * 1000:.0f} ms) vs raw "
            f"median {median(raw_times) * 1000:.0f} ms",
            target="median < 10 s" if name.startswith("12 MP") else "",
            ok=median(times) < 10 if name.startswith("12 MP") else None,
        ),
    ]


def run(*, quick: bool = False) -> list[Figure]:
    ensure_paths()
    every = samples()
    photos = every[::8] if quick else every
    trials = [_trial(s.path.read_bytes(), s.expected) for s in photos]
    figures = _summary(f"photos ({len(trials)} zxing-cpp samples)", trials)
    count = 6 if quick else 48
    rng = random.Random(12)
    chosen = every[:: max(1, len(every) // count)][:count]
    frames = [_trial(frame_of(s, rng), s.expected) for s in chosen]
    figures += _summary(f"12 MP frames ({len(frames)})", frames)
    close = [_trial(frame_of(s, rng, fill=0.4), s.expected) for s in chosen]
    figures += _summary(f"12 MP close-ups ({len(close)})", close)
    return figures

"""Layer size: the shared layer (and the print layer) as `sam build` makes them.

Runs `sam build SharedLayer` (layers/shared/Makefile, wheels for arm64) into a fresh
build directory, then adds up the bytes of every file under python/ (what Lambda
unpacks to /opt/python and counts against the 250 MB unzipped limit) and zips it
the way SAM uploads it. Also checks that nothing the Lambda runtime provides (boto3,
botocore, s3transfer, jmespath, dateutil, six) is in it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .common import ROOT, Figure, module_main

TARGET_MIB = 35.0
MIB = 1024 * 1024
SAM = ROOT / ".venv-sam" / "bin" / "sam"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py")


def build(directory: Path, layer: str = "SharedLayer") -> Path:
    """`sam build <layer>` into `directory`; the layer's python/ folder."""
    tmp = str(directory)
    result = subprocess.run(
        [str(SAM), "build", layer, "--template", "template.yaml", "--build-dir", tmp],
        cwd=ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "BYTECODE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed: {result.stdout[-400:]} {result.stderr[-400:]}")
    return directory / layer / "python"


def sizes(python: Path) -> dict[str, int]:
    """Bytes per top-level entry of python/ (a package with its .libs and .dist-info)."""
    totals: dict[str, int] = {}
    for file in python.rglob("*"):
        if file.is_file() and not file.is_symlink():
            top = file.relative_to(python).parts[0]
            name = top.split("-")[0].removesuffix(".libs").split(".")[0].lower()
            name = {"pil": "pillow", "zint_bindings": "zint", "zxing_cpp": "zxingcpp"}.get(
                name, name
            )
            totals[name] = totals.get(name, 0) + file.stat().st_size
    return totals


def zipped_bytes(python: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(python.rglob("*")):
            if file.is_file():
                archive.write(file, Path("python") / file.relative_to(python))
    return buffer.tell()


def run(quick: bool = False) -> list[Figure]:
    if not SAM.is_file():
        return [Figure("layer", "built layer size", "not measured: no .venv-sam (make install)")]
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as tmp:
        python = build(Path(tmp))
        per_package = sizes(python)
        total = sum(per_package.values())
        zipped = zipped_bytes(python)
        shadowing = [name for name in RUNTIME_PROVIDED if (python / name).exists()]
        pycs = [f.stat().st_size for f in python.rglob("*.pyc")]
        printing = build(Path(tmp) / "print", "PrintLayer")
        print_total = sum(sizes(printing).values())
        print_zipped = zipped_bytes(printing)
    top = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:8]
    mib = total / MIB
    return [
        Figure(
            "layer",
            "built layer, unzipped (sam build)",
            f"{mib:.1f} MiB ({total / 1e6:.1f} MB), {zipped / MIB:.1f} MiB zipped",
            f"<= {TARGET_MIB:g} MiB",
            mib <= TARGET_MIB,
            (
                "largest: " + ", ".join(f"{name} {size / MIB:.1f}" for name, size in top),
                f"bytecode: {len(pycs)} modules, {sum(pycs) / MIB:.1f} MiB of it "
                "(barcode_service and layers/shared/bytecode.txt)",
                "was 63.2 MiB with SAM's python3.13 builder (botocore 25 MB through aws-xray-sdk)",
            ),
        ),
        Figure(
            "layer",
            "print layer, unzipped (sam build)",
            f"{print_total / MIB:.1f} MiB, {print_zipped / MIB:.1f} MiB zipped; the generate "
            f"function carries both: {(total + print_total) / MIB:.1f} MiB",
            notes=(
                "reportlab alone (its pillow and charset-normalizer are the shared layer's); "
                "a layer of its own so the shared one keeps its target (docs/generate.md)",
            ),
        ),
        Figure(
            "layer",
            "runtime packages shadowed by the layer",
            ", ".join(shadowing)
            if shadowing
            else "none (boto3, botocore, s3transfer, jmespath, "
            "dateutil, six come from the runtime)",
            "none",
            not shadowing,
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run))

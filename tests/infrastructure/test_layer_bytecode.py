"""The layer ships bytecode for what a cold start loads (layers/shared/compile_bytecode.py).

Lambda mounts the layer read-only: a module without bytecode there is compiled from
source at every cold start. These check that the bytecode written is the kind the
runtime uses as it is, that the list names real modules of the pinned layer packages,
and that every module a handler imports from the layer is on it. (The list also covers
what requests load; `python -m bench.bytecode` rebuilds it and the bench reports it.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import compile_bytecode
import pytest

from bench import bytecode

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
SITE = Path(pytest.__file__).resolve().parents[1]
FUNCTIONS = ("lookup", "generate", "uploads", "upload_worker", "image")
TRACE = "Root=1-6744a1b2-0a1b2c3d4e5f60718293a4b5;Parent=53995c3f42cd8ad8;Sampled=1"


def _fresh_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "_X_"))}
    env.update(extra)
    return env


def test_the_bytecode_is_used_without_reading_the_source(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    shutil.copytree(LAYER / "barcode_service", layer / "barcode_service")
    (layer / "vendor").mkdir()
    (layer / "vendor" / "__init__.py").write_text("")
    (layer / "vendor" / "thing.py").write_text("ANSWER = 42\n")
    listing = tmp_path / "list.txt"
    listing.write_text("# comment\nvendor/__init__.py\nvendor/thing.py  # why\n\n")

    count = compile_bytecode.compile_layer(layer, listing)

    ours = list((layer / "barcode_service").rglob("*.py"))
    assert count == len(ours) + 2
    # Sources changed after the build are not even read: the bytecode is unchecked.
    for source in [layer / "vendor" / "thing.py", layer / "barcode_service" / "gtin.py"]:
        source.write_text("raise SystemExit('the source was compiled')\n")
    result = _fresh_python(
        "import vendor.thing, barcode_service.gtin; print(vendor.thing.ANSWER)",
        _plain_env(PYTHONPATH=str(layer), PYTHONDONTWRITEBYTECODE="1"),
        tmp_path,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "42"), result.stderr


def test_a_listed_file_the_layer_lacks_fails_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "barcode_service").mkdir()
    listing = tmp_path / "list.txt"
    listing.write_text("gone/module.py\n")

    assert compile_bytecode.main([str(tmp_path), str(listing)]) == 1
    assert "listed but not in the layer: gone/module.py" in capsys.readouterr().err


def test_the_build_refuses_a_python_other_than_the_runtimes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compile_bytecode, "RUNTIME", (3, 99))
    assert compile_bytecode.main([str(tmp_path), str(tmp_path / "list.txt")]) == 2
    assert "set BYTECODE_PYTHON" in capsys.readouterr().err


def test_the_runtime_is_the_templates() -> None:
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    major, minor = compile_bytecode.RUNTIME
    assert f"python{major}.{minor}" in template
    assert sys.version_info[:2] == compile_bytecode.RUNTIME  # the tests' venv writes it


def test_every_listed_file_is_a_module_of_a_pinned_layer_package() -> None:
    top_levels = bytecode.layer_top_levels()
    listed = bytecode.listed()
    assert listed
    assert sorted(p for p in listed if not (SITE / p).is_file()) == []
    assert sorted(p for p in listed if p.split("/", 1)[0] not in top_levels) == []
    assert not {"botocore", "boto3", "s3transfer", "jmespath", "dateutil"} & top_levels


def test_the_makefile_writes_bytecode_after_clearing_caches_from_the_list() -> None:
    recipe = (LAYER / "Makefile").read_text(encoding="utf-8")
    cleared = recipe.index("-name __pycache__ -prune -exec rm -rf")
    compiled = recipe.index('$(BYTECODE_PYTHON) compile_bytecode.py "$(TARGET)" bytecode.txt')
    assert cleared < compiled
    assert "export BYTECODE_PYTHON := $(CURDIR)/$(PY)" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_module_a_handler_imports_from_the_layer_is_listed(function: str) -> None:
    code_dir = ROOT / "functions" / function
    if not (code_dir / "app.py").is_file():
        pytest.skip(f"no {function} function")
    child = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, ".")
        import app
        print(json.dumps(sorted(
            m.__file__ for m in list(sys.modules.values())
            if (getattr(m, "__file__", None) or "").endswith(".py")
        )))
        """
    )
    env = _plain_env(
        PYTHONPATH=str(LAYER),
        LAMBDA_TASK_ROOT=str(code_dir),
        AWS_LAMBDA_FUNCTION_NAME=f"test-{function}",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
        _X_AMZN_TRACE_ID=TRACE,
        POWERTOOLS_SERVICE_NAME=function,
    )
    result = _fresh_python(child, env, code_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    top_levels = bytecode.layer_top_levels()
    from_layer = {bytecode.layer_path(f, top_levels) for f in json.loads(result.stdout)}
    third_party = {p for p in from_layer if p and not p.startswith("barcode_service/")}
    assert third_party, "the handler imported nothing from the layer's packages"
    assert sorted(third_party - bytecode.listed()) == []

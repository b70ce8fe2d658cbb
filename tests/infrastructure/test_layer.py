"""The shared layer's requirements: closed, pinned, and free of what the runtime provides.

layers/shared/Makefile installs layers/shared/requirements.txt with --no-deps, so the
list must name every package the layer imports at run time, except those the Lambda
python3.13 runtime already has. The tests run with exactly these pins installed.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
PRINT_REQUIREMENTS = ROOT / "layers" / "print" / "requirements.txt"
# In the Lambda Python runtime (not pinned here on purpose: the layer must not shadow them).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"}


def _pins(path: Path = REQUIREMENTS) -> dict[str, Requirement]:
    lines = path.read_text(encoding="utf-8").splitlines()
    requirements = [Requirement(line.strip()) for line in lines if re.match(r"^\s*[A-Za-z]", line)]
    return {canonicalize_name(r.name): r for r in requirements}


def _runtime_requires(requirement: Requirement) -> set[str]:
    """Names the installed distribution requires with the requested extras, markers applied."""
    found = set()
    for text in importlib.metadata.requires(requirement.name) or []:
        dependency = Requirement(text)
        extras = requirement.extras | {""}
        if dependency.marker is None or any(
            dependency.marker.evaluate({"extra": extra}) for extra in extras
        ):
            found.add(canonicalize_name(dependency.name))
    return found


def test_every_layer_package_is_pinned_exactly() -> None:
    for name, requirement in {**_pins(), **_pins(PRINT_REQUIREMENTS)}.items():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", name


def test_the_tests_run_with_the_layer_pins() -> None:
    for name, requirement in {**_pins(), **_pins(PRINT_REQUIREMENTS)}.items():
        (specifier,) = requirement.specifier
        assert importlib.metadata.version(name) == specifier.version, name


def test_the_layer_list_is_closed_over_its_dependencies() -> None:
    pins = _pins()
    missing = {
        f"{dependency} (required by {name})"
        for name, requirement in pins.items()
        for dependency in _runtime_requires(requirement)
        if dependency not in pins and dependency not in RUNTIME_PROVIDED
    }
    assert not missing


def test_the_layer_leaves_the_runtime_packages_to_the_runtime() -> None:
    assert not set(_pins()) & RUNTIME_PROVIDED
    # aws-xray-sdk is why: it requires botocore, which the runtime provides.
    assert "botocore" in _runtime_requires(_pins()["aws-xray-sdk"])


def test_the_print_layer_needs_nothing_the_shared_layer_lacks() -> None:
    # It rides beside the shared layer (template.yaml): together they are closed.
    printing, shared = _pins(PRINT_REQUIREMENTS), _pins()
    assert not set(printing) & set(shared)
    missing = {
        f"{dependency} (required by {name})"
        for name, requirement in printing.items()
        for dependency in _runtime_requires(requirement)
        if dependency not in printing | shared and dependency not in RUNTIME_PROVIDED
    }
    assert not missing


def test_functions_bring_no_dependencies_of_their_own() -> None:
    """Each function's requirements.txt is empty: its code imports the layers only. The
    file is there so that `sam build` does not warn, once per function, that it is missing."""
    for function in sorted((ROOT / "functions").iterdir()):
        if not (function / "app.py").is_file():
            continue
        lines = (function / "requirements.txt").read_text(encoding="utf-8").splitlines()
        assert all(not line.strip() or line.startswith("#") for line in lines), function.name

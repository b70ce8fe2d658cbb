"""Every request example in README.md and docs/ runs against the local stack and answers
what the docs show (issue 27), so the docs cannot drift from the API.

The convention is in tests/support/doc_examples.py. The stack is a newcomer's: no
upstream keys (local renders, the keyless providers), the providers being the fakes of
fake_upstreams.py. Examples run in page order, each page's in its order, from the
repository root (so `make import-catalog` and `@docs/examples/...` work); a file they
write goes to `$TMPDIR`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fake_upstreams import FakeUpstreams
from tests.e2e.running import API_KEY, ROOT, RunningStack
from tests.support.doc_examples import Example, examples, mismatches, unmarked_requests

pytestmark = pytest.mark.e2e

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLES = [example for page in PAGES for example in examples(page, ROOT)]
NO_KEYS = ("GENERATE_APPKEY", "LOOKUP_API_KEY", "LOOKUP_SECRET_KEY", "LOOKUP_PROVIDERS")


class KeylessUpstreams(FakeUpstreams):
    """The fakes, with no upstream key given to the stack: what `make run` has at first.

    UPCitemdb's trial is asked at most 6 times a minute; the examples that reach it
    follow each other faster than that, and its rate is not what they show."""

    def environment(self) -> dict[str, str]:
        environment = {k: v for k, v in super().environment().items() if k not in NO_KEYS}
        return {**environment, "UPCITEMDB_REQUESTS_PER_MINUTE": "600"}


@pytest.fixture(scope="module")
def upstreams() -> Iterator[FakeUpstreams]:
    fakes = KeylessUpstreams().start()
    yield fakes
    fakes.stop()


def test_every_request_example_is_run_or_says_why_not() -> None:
    assert [where for page in PAGES for where in unmarked_requests(page, ROOT)] == []
    assert len(EXAMPLES) >= 30
    assert sum(example.has_answer for example in EXAMPLES) >= 20


def test_no_example_writes_into_the_checkout() -> None:
    """Examples run from the repository root, as a reader does: files go to $TMPDIR."""
    for example in EXAMPLES:
        targets = re.findall(r"\s(?:-o|--output|>>?)\s*(\S+)", example.script)
        for target in targets:
            assert target.startswith(('"${TMPDIR:-/tmp}/', "/dev/null", "&")), (
                example.name,
                target,
            )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_the_example_runs_and_answers_as_shown(
    stack: RunningStack, example: Example, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "BASE": stack.api,
        "KEY": API_KEY,
        "TMPDIR": str(tmp_path),
        "LOCAL_STATE_DIR": str(stack.running.state_dir),
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example.script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{example.script}\n{done.stdout}\n{done.stderr}"
    if example.has_answer:
        answer = json.loads(done.stdout)
        assert mismatches(example.answer, answer) == [], f"{example.script}\n{done.stdout}"


def test_the_banner_lists_each_route_once(stack: RunningStack) -> None:
    banner = "".join(stack.output)
    routes = re.findall(r"\b(?:GET|POST|ANY) /[^\s,]+", banner.split("Try:")[0])
    assert routes
    assert not [route for route in routes if route.startswith("ANY ")]
    assert len(routes) == len(set(routes)), sorted(routes)

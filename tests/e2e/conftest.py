"""The local stack (`python -m local.stack` in a subprocess) the e2e test files drive.

One stack and one set of fake upstreams per test file: a file's scenarios may build on
each other (a lookup fills the cache the next one reads, the quota scenario blocks the
provider for the rest of the day), so no file sees another file's state. The upstreams
are the fakes in fake_upstreams.py; AWS is the stack's own moto. Nothing leaves the
machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.fake_upstreams import FakeUpstreams
from tests.e2e.running import API_KEY, RunningStack
from tests.e2e.stack_process import StackDidNotStart, local_stack


@pytest.fixture(scope="module")
def upstreams() -> Iterator[FakeUpstreams]:
    fakes = FakeUpstreams().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("home")
    try:
        with local_stack(upstreams, home, API_KEY) as running:
            assert f"READY {running.base}\n" in running.output
            yield RunningStack(running, upstreams)
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")
    assert running.exit_code == 0, "".join(running.output[-60:])

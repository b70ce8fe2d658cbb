"""Upload lists look rows up ahead of the row being written (WORKER_LOOKUP_CONCURRENCY).

A worker paced at N lookups/s keeps that rate only if a provider call takes less than
1/N s, unless it runs the next rows' lookups while one is on the wire. These tests check
what must not change when it does: rows in order, a repeated code looked up once, a block
met at the right row with nothing lost, one shared pacing schedule.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from barcode_service.uploads.pacing import Pacer
from tests.support.workers import (
    RESET,
    UID,
    Env,
    Upstream,
    Wall,
    gtin13,
    make_worker,
    record_sends,
    upload,
)


class SlowUpstream(Upstream):
    """An upstream that takes a while per call and records how many were on the wire."""

    def __init__(self, mock: responses.RequestsMock, known: set[str]) -> None:
        super().__init__(mock, known)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(0.05)  # overlap, not a time the test asserts on
            return super().__call__(request)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.mark.parametrize("depth", [1, 4])
def test_rows_stay_in_order_and_each_code_is_asked_once(
    env: Env, mock: responses.RequestsMock, depth: int
) -> None:
    codes = [gtin13(n) for n in range(10)]
    repeated = [*codes[:6], codes[2], *codes[6:], codes[0], "6901234567890"]
    upstream = SlowUpstream(mock, set(codes[::2]))
    worker = make_worker(env, worker_lookup_concurrency=depth, worker_lookups_per_second=1000)
    worker.handle(upload(env, "codes.txt", "\n".join(repeated).encode()))
    job = env.job()
    assert job.status == "done"
    statuses = [(r["code"], r["status"]) for r in job.results or []]
    expected = {c: "found" if c in codes[::2] else "not_found" for c in codes}
    assert statuses == [(c, expected.get(c, "invalid_gtin")) for c in repeated]
    assert sorted(upstream.calls) == sorted(codes)  # repeats and the typo never asked
    if depth == 1:
        assert upstream.most_in_flight == 1
    else:
        assert 1 < upstream.most_in_flight <= depth


def test_a_block_met_ahead_defers_at_its_row_and_loses_nothing(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(12)]
    upstream = SlowUpstream(mock, set(codes))
    upstream.quota = 3
    wall = Wall()
    sent = record_sends(env, monkeypatch)
    worker = make_worker(
        env, wall=wall, worker_lookup_concurrency=4, worker_lookups_per_second=1000
    )
    result = worker.handle(upload(env, "codes.txt", "\n".join(codes).encode())).to_dict()
    # Lookups ahead answer in any order: the chunk stops at the first row, in row order,
    # whose lookup met the quota, and keeps every row before it.
    answered = set(upstream.calls[:3])
    stopped = result["objects"][0]["deferred_at"]
    assert stopped == min(n for n, code in enumerate(codes) if code not in answered)
    job = env.job()
    assert job.status == "processing"
    assert job.waiting == {
        "code": "upstream_quota_exhausted",
        "until": datetime.fromtimestamp(RESET, UTC).isoformat(),
    }
    before = len(upstream.calls)
    assert before <= 3 + 4  # the answers, then at most one refusal per lookup running

    wall.now = RESET + 5
    upstream.quota = None
    worker.handle(sent[-1]["MessageBody"])
    done = env.job()
    assert done.status == "done"
    assert [(r["row"], r["code"], r["status"]) for r in done.results or []] == [
        (n, code, "found") for n, code in enumerate(codes, start=1)
    ]
    # Every code not answered before the quota ran out is asked once after the reset.
    assert sorted(upstream.calls[before:]) == sorted(set(codes) - answered)
    assert UID in sent[-1]["MessageBody"]


def test_the_pacer_hands_each_thread_its_own_slot() -> None:
    clock = [50.0]
    slots: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slots.append(clock[0] + seconds)

    pacer = Pacer(10, clock=lambda: clock[0], sleep=sleep)
    threads = [threading.Thread(target=pacer.take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One call at once, the other seven 0.1 s apart: never two in the same slot.
    assert sorted(slots) == pytest.approx([50.0 + 0.1 * n for n in range(1, 8)])

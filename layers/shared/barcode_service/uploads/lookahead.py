"""Looking a chunk's rows up ahead of the row being written (WORKER_LOOKUP_CONCURRENCY)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from ..errors import InvalidGtin
from ..gtin import Gtin
from ..lookup import LookupService
from ..lookup_outcome import LookupOutcome
from ..router import Budget, Pace


class Lookahead:
    """The lookups of a chunk's rows, run up to `depth` at once ahead of the row being
    written, so a worker keeps its provider rate when one call takes longer than the
    pacing interval (a far provider, a slow table). The caller still writes, defers and
    continues the rows strictly in order. Repeats of a GTIN in the chunk share the first
    one's outcome and never count as a call of their own. At `depth` 1 each lookup runs
    in the caller's thread when its row is reached (nothing ahead). On exit the lookups
    not started are dropped and the running ones finish, so none outlives the
    invocation; one done ahead of a row that is then deferred or continued is in the
    cache for the message that resumes there.
    """

    def __init__(
        self,
        lookups: LookupService,
        codes: list[str],
        depth: int,
        *,
        budget: Budget | None,
        pace: Pace,
        caller: str | None = None,
    ) -> None:
        self.lookups = lookups
        self.codes = codes
        self.budget = budget  # the upload's creator pays its lookups ...
        self.caller = caller  # ... and is answered its own pending contributions
        self.pace = pace
        self.depth = max(1, depth)
        self._pool: ThreadPoolExecutor | None = None
        self._rows: dict[int, InvalidGtin | int] = {}  # row -> its error, or the row it repeats
        self._lookups: dict[int, Future[LookupOutcome]] = {}  # first row of a GTIN -> lookup
        self._first: dict[str, int] = {}  # gtin14 -> the row that looks it up
        self._next = 0  # the next row to prepare

    def __enter__(self) -> Lookahead:
        if self.depth > 1:
            self._pool = ThreadPoolExecutor(self.depth, thread_name_prefix="lookahead")
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def outcome(self, index: int) -> tuple[LookupOutcome, bool]:
        """(row `index`'s outcome, whether a provider was called for it just now)."""
        self._next = max(self._next, index)
        while self._next <= index:
            self._prepare(self._next)
        if self._pool is not None:
            horizon = min(len(self.codes), index + 4 * self.depth)
            while self._next < horizon and self._running(index) < self.depth:
                self._prepare(self._next)
        row = self._rows[index]
        if isinstance(row, InvalidGtin):
            return LookupOutcome(row), False
        outcome = self._lookups[row].result()
        return outcome, row == index and outcome.called_provider

    def _running(self, index: int) -> int:
        """Lookups started for rows from `index` on (at most 4 x depth rows ahead) not done."""
        ahead = (self._lookups.get(row) for row in range(index, self._next))
        return sum(1 for lookup in ahead if lookup is not None and not lookup.done())

    def _prepare(self, index: int) -> None:
        self._next = index + 1
        try:
            gtin = self.lookups.canonical_gtin(self.codes[index])
        except InvalidGtin as error:
            self._rows[index] = error
            return
        first = self._rows[index] = self._first.setdefault(gtin.gtin14, index)
        if first != index:
            return
        if self._pool is None:
            done: Future[LookupOutcome] = Future()
            done.set_result(self._resolve(gtin))
            self._lookups[index] = done
        else:
            self._lookups[index] = self._pool.submit(self._resolve, gtin)

    def _resolve(self, gtin: Gtin) -> LookupOutcome:
        return self.lookups.resolve(gtin, budget=self.budget, pace=self.pace, caller=self.caller)

"""SnapStart: the work a snapshot keeps, and what every restored copy must renew.

With SnapStart, Lambda initialises a function once, when a version is published, runs
the hooks registered with its runtime's `snapshot_restore_py` (`register_before_snapshot`),
and snapshots the execution environment's memory. Each cold start then restores a copy
of that memory and runs the `register_after_restore` hooks before the first request.
Without SnapStart no hook ever runs, and the functions build what a request needs
lazily, on the request, as before.

The rules this module keeps:
- Before the snapshot: everything a request needs is imported and built (the handlers
  register that work, see `wiring.prepare_*`), but nothing may reach the network and no
  secret is read: a secret in the snapshot would live in every copy and outlive its
  rotation. Secrets are read on first use, after restore.
- After restore, in every copy: pooled HTTP connections are dropped (a socket opened
  before the snapshot belongs to a machine that no longer exists, and every copy would
  share it), `random` is reseeded (every copy would otherwise draw the same numbers:
  Lambda runs no fork handlers), and what was drawn from the clock or the random state
  at init is drawn again.

`snapshot_restore_py` ships with Lambda's Python runtimes and is absent elsewhere: the
hooks are then only recorded here (a no-op fallback), and whoever emulates a snapshot
(the local stack, the bench, the tests) runs them with `run_before_snapshot` and
`run_after_restore`.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Hook = Callable[[], object]


class Pooled(Protocol):
    """Something holding pooled connections that `close()` drops (and that stays usable:
    a requests Session, a botocore client)."""

    def close(self) -> None: ...


_before: list[Hook] = []
_after: list[Hook] = []
_pools: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()


def before_snapshot[H: Hook](hook: H) -> H:
    """Run `hook` once before the snapshot is taken (usable as a decorator)."""
    _before.append(hook)
    return hook


def after_restore[H: Hook](hook: H) -> H:
    """Run `hook` in every restored copy, before its first request (usable as a decorator)."""
    _after.append(hook)
    return hook


def renew_after_restore[P: Pooled](pool: P) -> P:
    """Drop `pool`'s connections after a restore; held weakly, returned for chaining."""
    with _lock:
        _pools.add(pool)
    return pool


def pooled() -> tuple[Pooled, ...]:
    """The pools `renew_after_restore` holds (boto3 clients, HTTP sessions)."""
    with _lock:
        return tuple(_pools)


def before_snapshot_hooks() -> tuple[Hook, ...]:
    """The before-snapshot hooks registered so far, in order (for emulators)."""
    return tuple(_before)


def run_before_snapshot(hooks: Sequence[Hook] | None = None) -> None:
    """The before-snapshot hooks (or those of `hooks`), in the order they were registered."""
    for hook in _before if hooks is None else hooks:
        hook()


def run_after_restore() -> None:
    """The after-restore hooks, in the order they were registered."""
    for hook in list(_after):
        hook()


@after_restore
def _reseed_random() -> None:
    # From os.urandom, which the kernel of each restored copy serves anew.
    random.seed()


@after_restore
def _drop_pooled_connections() -> None:
    with _lock:
        pools = list(_pools)
    for pool in pools:
        pool.close()


def _register_with_the_runtime() -> None:
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]  # noqa: PLC0415
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:  # not in a Lambda Python runtime: hooks run only when emulated
        return
    register_before_snapshot(run_before_snapshot)
    register_after_restore(run_after_restore)


_register_with_the_runtime()

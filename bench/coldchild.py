"""One fresh Lambda environment, run as a script by bench.cold_start (not imported).

`python bench/coldchild.py PLAN.json`: the plan names either the floor (what every
handler loads before its own code: import boto3 and Powertools' Logger, Tracer patching
botocore, Metrics and REST resolver; its "request" creates a DynamoDB client and makes
one GetItem) or a handler (its code directory goes first on sys.path and `app` is
imported, as Lambda imports `app.lambda_handler`), and the events to serve: the first
is the cold request, the rest are warm ones.

A "restore" plan emulates SnapStart: the handler is imported and the before-snapshot
hooks run (the snapshot's init, exactly), then copies of that process are forked: one
is the warm environment (restored, one uncounted request), the others each a restored
copy that runs the after-restore hooks and serves its first request. Rounds alternate:
a restored copy's first request, then the same kind of request in the warm one, then
in a fork of the warm one (the control: what a fork's copy-on-write page faults cost
any first request after it, restored or not).
Times are taken inside this process from just before the first import (interpreter
start-up is the same for both and not counted): wall (perf_counter) and CPU
(process_time: user+sys of this process). During the warm requests every AWS API
call is counted by service and operation. The result is the last stdout line,
prefixed with RESULT_MARK (Powertools writes its logs and metrics to stdout too); it
names the source files of the modules loaded from the layer (PYTHONPATH) and from
site-packages by then, which bench.bytecode compares with what the layer ships compiled.
"""

import json
import sys
import time
from collections.abc import Callable
from typing import Any

RESULT_MARK = "BENCH-RESULT "


class Context:
    """The Lambda context fields Powertools reads."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def _status(response: Any) -> int:
    if isinstance(response, dict) and "statusCode" in response:
        return int(response["statusCode"])
    if isinstance(response, dict) and "batchItemFailures" in response:
        return 207 if response["batchItemFailures"] else 200
    return 200


def _peak_rss_kib() -> int:
    """VmHWM of this process: unlike ru_maxrss it does not carry the parent's RSS from
    before exec (a fork of a large parent would show the parent's peak)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def count_aws_calls(calls: dict[str, int]) -> None:
    """From now on every AWS API call adds to `calls` (and the items DynamoDB bills by)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: dict[str, Any]) -> Any:
        name = f"{self.meta.service_model.service_name}:{operation}"
        items = 1  # what DynamoDB bills by: items read or written
        if operation in ("BatchGetItem", "BatchWriteItem"):
            tables = params.get("RequestItems", {}).values()
            items = sum(len(t["Keys"]) if "Keys" in t else len(t) for t in tables)
            consistent = any(isinstance(t, dict) and t.get("ConsistentRead") for t in tables)
        elif operation.startswith("Transact"):
            items = len(params.get("TransactItems", []))
            name += ":transactional"
            consistent = False
        else:
            consistent = bool(params.get("ConsistentRead"))
        if consistent:
            name += ":consistent"
        calls[name] = calls.get(name, 0) + 1
        calls[name + "#items"] = calls.get(name + "#items", 0) + items
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = counted


def loaded_sources() -> list[str]:
    """Source files of the loaded modules that live in the layer or in site-packages."""
    import os

    roots = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    files = {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())}
    return sorted(
        f
        for f in files
        if f.endswith(".py") and ("site-packages" in f or any(f.startswith(r) for r in roots))
    )


def _timed(serve: Callable[[Any], int], event: Any, before: Callable[[], object]) -> list[float]:
    """[CPU, wall, status] of `before()` and then serving `event`."""
    wall, cpu = time.perf_counter(), time.process_time()
    before()
    status = serve(event)
    return [time.process_time() - cpu, time.perf_counter() - wall, status]


def _warm_environment(
    serve: Callable[[Any], int], events: list[Any], asks: int, answers: int
) -> None:
    """The warm environment's loop: each order is an event's index, served and timed here,
    or "fork <index>", served and timed in a fork of this process (the control)."""
    import os

    with os.fdopen(asks) as orders, os.fdopen(answers, "w") as out:
        for line in orders:
            order = line.strip()
            control = order.startswith("fork ")
            event = events[int(order.removeprefix("fork "))]
            if control and os.fork() != 0:
                os.wait()
                continue
            out.write(json.dumps(_timed(serve, event, lambda: None)) + "\n")
            out.flush()
            if control:
                os._exit(0)


def restores(plan: dict[str, Any]) -> None:
    """Restored copies' first requests beside the warm environment's (see the docstring)."""
    import importlib
    import os
    import random

    sys.path.insert(0, plan["code_dir"])
    app = importlib.import_module("app")
    from barcode_service import snapshot

    snapshot.run_before_snapshot()
    context = Context()
    context.memory_limit_in_mb = int(plan.get("memory", 512))

    def serve(event: Any) -> int:
        return _status(app.lambda_handler(event, context))

    state = random.getstate()  # a fork reseeds random; a restore does not

    def restored() -> None:
        random.setstate(state)
        snapshot.run_after_restore()

    events: list[Any] = plan["events"]
    asks, answers = os.pipe(), os.pipe()
    warm = os.fork()
    if warm == 0:
        os.close(asks[1])
        os.close(answers[0])
        restored()
        serve(events[0])  # uncounted: from now on this environment is warm
        _warm_environment(serve, events, asks[0], answers[1])
        os._exit(0)
    os.close(asks[0])
    os.close(answers[1])
    orders, results = os.fdopen(asks[1], "w"), os.fdopen(answers[0])
    measured: dict[str, list[list[float]]] = {"restored": [], "warm": [], "forked": []}
    for index in range(1, len(events) - 2, 3):
        reader, writer = os.pipe()
        copy = os.fork()
        if copy == 0:
            outcome = _timed(serve, events[index], restored)
            with os.fdopen(writer, "w") as out:
                out.write(json.dumps(outcome))
            os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as answer:
            measured["restored"].append(json.load(answer))
        os.waitpid(copy, 0)
        for kind, order in (("warm", f"{index + 1}"), ("forked", f"fork {index + 2}")):
            orders.write(order + "\n")
            orders.flush()
            measured[kind].append(json.loads(results.readline()))
    orders.close()
    os.waitpid(warm, 0)
    print(RESULT_MARK + json.dumps(measured), flush=True)


def main(plan_file: str) -> None:
    with open(plan_file, encoding="utf-8") as handle:
        plan: dict[str, Any] = json.load(handle)
    if plan["kind"] == "restore":
        restores(plan)
        return
    serve: Callable[[Any], int]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if plan["kind"] == "baseline":
        # The floor: what each API handler imports and builds before its own code,
        # boto3 and Powertools' Logger, Tracer (patching botocore), Metrics and REST
        # resolver; its first "request" is a DynamoDB client and one GetItem.
        import boto3
        from aws_lambda_powertools import Logger, Metrics, Tracer
        from aws_lambda_powertools.event_handler import APIGatewayRestResolver

        Logger()
        Tracer(patch_modules=("botocore",))
        Metrics(namespace="bench")
        APIGatewayRestResolver()
        wall1, cpu1 = time.perf_counter(), time.process_time()
        client = boto3.client("dynamodb")
        key = plan["key"]

        def serve_baseline(_event: Any) -> int:
            found = "Item" in client.get_item(TableName=plan["table"], Key=key)
            return 200 if found else 404

        serve = serve_baseline
    else:
        sys.path.insert(0, plan["code_dir"])
        import importlib

        app = importlib.import_module("app")
        wall1, cpu1 = time.perf_counter(), time.process_time()
        context = Context()
        context.memory_limit_in_mb = int(plan.get("memory", 512))

        def serve_handler(event: Any) -> int:
            return _status(app.lambda_handler(event, context))

        serve = serve_handler

    events: list[Any] = plan["events"]
    statuses = [serve(events[0])]
    wall2, cpu2 = time.perf_counter(), time.process_time()

    calls: dict[str, int] = {}
    count_aws_calls(calls)
    warm: list[tuple[float, float]] = []
    for event in events[1:]:
        w, c = time.perf_counter(), time.process_time()
        statuses.append(serve(event))
        warm.append((time.perf_counter() - w, time.process_time() - c))
    result = {
        "max_rss_kib": _peak_rss_kib(),
        "import_wall": wall1 - wall0,
        "import_cpu": cpu1 - cpu0,
        "first_wall": wall2 - wall0,
        "first_cpu": cpu2 - cpu0,
        "warm": warm,
        "statuses": statuses,
        "calls": calls,
        "modules": loaded_sources(),
    }
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""What a user waits for at a cold start, per function: restores (SnapStart) and plain
cold starts, with handler imports, peak memory and warm durations.

Every sample is a fresh interpreter (bench/coldchild.py) in Lambda's environment:
LAMBDA_TASK_ROOT, the function's code directory first on sys.path, the layer on
PYTHONPATH (as /opt/python), tracing on as `Tracing: Active` deploys it (a trace
header, segments sent to a UDP port nobody reads), the function's environment from
template.yaml resolved against a moto server (its own process) that holds the
template's table, buckets, queues and secret. Upstreams are fakes on loopback.

Restore to first response (SnapStart): one process per request kind imports its
handler and runs the before-snapshot hooks, exactly as Lambda initialises a version
before its snapshot; forked copies of it are the restores (coldchild.restores): each
runs the after-restore hooks and serves its first real request, alternating with the
same kind of request served by a warm copy. The figure is restored / warm, CPU and
wall, per round (RESTORE_ROUNDS). Forking leaves out the platform's own restore time,
which only AWS can measure (docs/cold-starts.md).

Plain cold start (no SnapStart): the floor process loads what every API handler
loads before its own code (boto3 and Powertools' Logger, Tracer patching botocore,
Metrics and REST resolver) and then creates a DynamoDB client and makes one GetItem
(of the cached product). Each function's process imports its handler and serves its
first real request (its event from events/, with what it needs seeded), then a few
warm ones. Runs are interleaved (floor, scenario, scenario, floor, ...), each
scenario gets ROUNDS samples, and every sample is compared to the nearest floor: the
figure is the median of those ratios (handler import / floor import, first response /
floor's GetItem answered), the spread their min-max. CPU time (user+sys of the child,
time.process_time) is the figure, wall time goes alongside; a busy machine stretches
wall time much more than CPU time.

The same children give: peak RSS (VmHWM of the child, interpreter included), the
child's whole CPU time (wait4), and warm request durations with the AWS calls each
makes, which bench.cost prices.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import bytecode
from .common import (
    LAYER,
    REGION,
    ROOT,
    Figure,
    Spread,
    apply_environment,
    ean13_codes,
    fake_aws_environment,
    free_port,
    load_event,
    median,
    module_main,
    moto_server,
    seed_product,
    template_resolver,
)
from .upstream import FakeLookupUpstream

CHILD = Path(__file__).resolve().parent / "coldchild.py"
RESULT_MARK = "BENCH-RESULT "
IMPORT_TARGET = 1.10  # handler import / the floor's
COLD_TARGET = 1.25  # first response / the floor's
RESTORE_TARGETS = {"LookupFunction": 1.5, "GenerateFunction": 1.5}  # restored / warm
RESTORE_TARGET_OTHERS = 2.0
RESTORE_ROUNDS = 3
FLOOR_IMPORTS = (
    "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver"
)
TRACE_HEADER = "Root=1-6744a1b2-0a1b2c3d4e5f60718293a4b5;Parent=53995c3f42cd8ad8;Sampled=1"
GTIN14 = "06901234567892"  # the code of events/lookup_get.json
SHORT_NAMES = {
    "LookupFunction": "lookup",
    "GenerateFunction": "generate",
    "UploadsFunction": "uploads",
    "UploadWorkerFunction": "upload_worker",
}
FIRST_PARTY = ("barcode_service", "app")
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)$")


@dataclass
class Sample:
    import_wall: float
    import_cpu: float
    first_wall: float
    first_cpu: float
    warm: list[tuple[float, float]]
    statuses: list[int]
    calls: dict[str, int]
    max_rss_kib: int  # VmHWM of the child (interpreter included)
    child_cpu: float  # user+sys of the whole child from wait4 (interpreter start-up included)
    modules: list[str] = field(default_factory=list)  # sources loaded from layer/site-packages


@dataclass
class Scenario:
    """One request kind: the function that serves it and how to make its events."""

    name: str  # e.g. "lookup GET /products/{code} (cache hit)"
    function: str  # logical id in template.yaml
    events: Callable[[Any, int], list[dict[str, Any]]]  # (stack, count) -> fresh events
    cold_figure: bool = False  # the function's cold-start figure (its first real request)
    warm: int | None = None  # warm requests after the first (None: the run's default)
    restore: bool = False  # measured as restores from a snapshot too
    pairs: list[tuple[Sample, Sample]] = field(default_factory=list)  # (sample, its floor)
    # (restored, warm) per round: [CPU s, wall s, status] each
    # (restored, warm, a fork of the warm environment): [CPU, wall, status] each
    restores: list[tuple[list[float], list[float], list[float]]] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # sources its children loaded (bench.bytecode)

    @property
    def samples(self) -> list[Sample]:
        return [sample for sample, _ in self.pairs]


# ---------------------------------------------------------------- the stack in moto


@dataclass
class Stack:
    """The template's resources on a moto server, and each function's resolved spec."""

    endpoint: str
    specs: dict[str, Any]
    upstream_url: str
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        import boto3

        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=REGION)
        return self.clients[service]

    def env(self, function: str, name: str) -> str:
        return str(self.specs[function].environment[name])


def start_stack(endpoint: str, upstream_url: str) -> Stack:
    from local.lambdas import function_specs
    from local.resources import create_resources, put_secret
    from local.stack import upstream_secret

    resolver = template_resolver("bench-cold")
    create_resources(resolver)
    specs = function_specs(resolver)
    secrets = {spec.environment.get("SECRET_ID") for spec in specs.values()} - {None, ""}
    for secret_id in secrets:
        # Lookup keys set (a miss goes to the fake upstream); generate keyless (local render).
        put_secret(
            str(secret_id),
            upstream_secret({"LOOKUP_API_KEY": "bench-api-key", "LOOKUP_SECRET_KEY": "bench"}),
            REGION,
        )
    stack = Stack(endpoint, specs, upstream_url)
    table = stack.env("LookupFunction", "CACHE_TABLE")
    seed_product(stack.client("dynamodb"), table, GTIN14)
    return stack


def child_environment(stack: Stack, function: str, xray_port: int) -> dict[str, str]:
    spec = stack.specs[function]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON", "_X_AMZN"))
    }
    env.update({k: str(v) for k, v in spec.environment.items()})
    env.update(fake_aws_environment(stack.endpoint))
    env.update(
        {
            "PYTHONPATH": str(LAYER),
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{xray_port}",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "LOOKUP_API_URL": stack.upstream_url,
            "GENERATE_API_URL": "http://127.0.0.1:9/never-called",
        }
    )
    env.setdefault("POWERTOOLS_SERVICE_NAME", SHORT_NAMES.get(function, function))
    return env


def run_child(plan: dict[str, Any], env: dict[str, str]) -> Sample:
    """One fresh interpreter serving `plan`; its figures, CPU time and peak RSS (wait4)."""
    result, usage = run_plan(plan, env)
    return Sample(**result, child_cpu=usage.ru_utime + usage.ru_stime)


def run_plan(plan: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """One fresh interpreter running `plan`: its result line and its rusage (wait4)."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            process = subprocess.Popen(
                [sys.executable, str(CHILD), str(plan_file)],
                env=env,
                cwd=plan.get("code_dir", str(ROOT)),
                stdout=out,
                stderr=err,
            )
            # Reaped here, not by Popen: wait4 gives this child's own rusage.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = (
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
            )
    lines = [x for x in stdout.splitlines() if x.startswith(RESULT_MARK)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({process.returncode}): {stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARK) :])
    return result, usage


# ---------------------------------------------------------------- request kinds

LIST_CODES = ean13_codes(20, prefix="693")  # cached products: a list of known codes


def _copies(name: str) -> Callable[[Stack, int], list[dict[str, Any]]]:
    def events(_stack: Stack, count: int) -> list[dict[str, Any]]:
        return [load_event(name) for _ in range(count)]

    return events


def _lookup_misses(_stack: Stack, count: int) -> list[dict[str, Any]]:
    """GET /products/{code} for codes nobody asked before (one upstream call each)."""
    prefix = f"694{random.randrange(10**5):05d}"
    events = []
    for code in ean13_codes(count, prefix=prefix):
        event = load_event("lookup_get.json")
        event["path"] = f"/products/{code}"
        event["pathParameters"] = {"code": code}
        event["requestContext"]["path"] = f"/v1/products/{code}"
        events.append(event)
    return events


def ean13_photo(code: str = "6901234567892", size: tuple[int, int] = (4032, 3024)) -> bytes:
    """A 12 MP phone-camera-like JPEG with an EAN-13 on a noisy, lit background."""
    from PIL import Image, ImageFilter

    left = ["0001101", "0011001", "0010011", "0111101", "0100011"]
    left += ["0110001", "0101111", "0111011", "0110111", "0001011"]
    right = ["".join("1" if b == "0" else "0" for b in bits) for bits in left]
    parity = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG"]
    parity += ["LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]
    digits = [int(d) for d in code]
    bits = "101"
    for digit, kind in zip(digits[1:7], parity[digits[0]], strict=True):
        bits += left[digit] if kind == "L" else right[digit][::-1]
    bits += "01010" + "".join(right[d] for d in digits[7:]) + "101"
    module, height, quiet = 9, 700, 12
    symbol = Image.new("L", ((len(bits) + 2 * quiet) * module, height + 2 * quiet * module), 250)
    for index, bit in enumerate(bits):
        if bit == "1":
            x = (quiet + index) * module
            symbol.paste(20, (x, quiet * module, x + module, quiet * module + height))
    noise = Image.effect_noise(size, 40).filter(ImageFilter.GaussianBlur(2))
    photo = Image.merge(
        "RGB", [noise.point(lambda v, k=k: min(255, v // 2 + 60 + k)) for k in (0, 10, 20)]
    )
    tilted = symbol.rotate(7, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    tilted = tilted.filter(ImageFilter.GaussianBlur(1.5))
    photo.paste(tilted.convert("RGB"), (size[0] // 4, size[1] // 3))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


_PHOTO: list[bytes] = []


def _upload_events(stack: Stack, count: int, ext: str, body: bytes) -> list[dict[str, Any]]:
    """S3 notifications (through SQS) of fresh uploads: a pending job and the object each."""
    from barcode_service.uploads.jobs import DynamoJobStore
    from barcode_service.uploads.policy import new_upload_id, upload_key

    function = "UploadWorkerFunction"
    bucket = stack.env(function, "UPLOADS_BUCKET")
    jobs = DynamoJobStore(
        stack.env(function, "CACHE_TABLE"), stack.client("dynamodb"), ttl_seconds=3600
    )
    content_type = "text/csv" if ext == "csv" else "image/jpeg"
    template = load_event("sqs_s3_upload.json")["Records"][1]
    events = []
    for _ in range(count):
        upload_id = new_upload_id()
        key = upload_key(upload_id, ext)
        jobs.create(upload_id, "list" if ext == "csv" else "image", f"bench.{ext}", content_type)
        stack.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        record = copy.deepcopy(template)
        notification = json.loads(record["body"])
        s3 = notification["Records"][0]["s3"]
        s3["bucket"]["name"] = bucket
        s3["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        s3["object"].update({"key": key, "size": len(body)})
        record["body"] = json.dumps(notification)
        record["messageId"] = str(uuid.uuid4())
        events.append({"Records": [record]})
    return events


def _list_uploads(stack: Stack, count: int) -> list[dict[str, Any]]:
    csv = ("code\n" + "\n".join(LIST_CODES) + "\n").encode()
    return _upload_events(stack, count, "csv", csv)


def _photo_uploads(stack: Stack, count: int) -> list[dict[str, Any]]:
    if not _PHOTO:
        _PHOTO.append(ean13_photo())
    return _upload_events(stack, count, "jpg", _PHOTO[0])


def scenarios() -> list[Scenario]:
    return [
        Scenario(
            "lookup GET /products/{code}, cache hit",
            "LookupFunction",
            _copies("lookup_get.json"),
            cold_figure=True,
            restore=True,
        ),
        Scenario(
            "lookup GET /products/{code}, miss (upstream)",
            "LookupFunction",
            _lookup_misses,
            restore=True,
        ),
        Scenario("lookup POST /products/lookup", "LookupFunction", _copies("lookup_batch.json")),
        Scenario(
            "generate GET /barcodes (EAN-13 PNG)",
            "GenerateFunction",
            _copies("generate_get.json"),
            cold_figure=True,
            restore=True,
        ),
        Scenario(
            "generate GET /barcodes/types", "GenerateFunction", _copies("generate_types.json")
        ),
        Scenario(
            "uploads POST /uploads",
            "UploadsFunction",
            _copies("uploads_create.json"),
            cold_figure=True,
            restore=True,
        ),
        Scenario(
            "upload_worker list of 20 codes",
            "UploadWorkerFunction",
            _list_uploads,
            cold_figure=True,
            restore=True,
        ),
        Scenario("upload_worker 12 MP JPEG photo", "UploadWorkerFunction", _photo_uploads, warm=2),
    ]


# ---------------------------------------------------------------- import tree


@dataclass
class _Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[_Node] = field(default_factory=list)


def import_tree(code: str, env: dict[str, str], cwd: str) -> list[_Node]:
    """`-X importtime` of `code` as a forest (the output lists children before parents)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    stack: list[tuple[int, _Node]] = []
    for line in result.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        depth = len(match.group(3))
        node = _Node(match.group(4), int(match.group(1)), int(match.group(2)))
        while stack and stack[-1][0] > depth:
            node.children.insert(0, stack.pop()[1])
        stack.append((depth, node))
    return [node for _, node in stack]


def _walk(nodes: list[_Node]) -> Iterator[tuple[_Node | None, _Node]]:
    pending: list[tuple[_Node | None, _Node]] = [(None, n) for n in nodes]
    while pending:
        parent, node = pending.pop()
        yield parent, node
        pending.extend((node, child) for child in node.children)


def _first_party(name: str) -> bool:
    return name.split(".", maxsplit=1)[0] in FIRST_PARTY


def heavy_imports(
    code_dir: str, env: dict[str, str], baseline: set[str], top: int = 6
) -> list[str]:
    """What the handler adds to the floor: third-party imports made by our modules
    (cumulative, only what the floor does not load) and our modules' own time."""
    code = f"import sys; sys.path.insert(0, {code_dir!r}); import app"
    found: dict[str, int] = {}
    own = 0
    for parent, node in _walk(import_tree(code, env, code_dir)):
        if _first_party(node.name):
            own += node.self_us
        elif parent is not None and _first_party(parent.name) and node.name not in baseline:
            found[f"{node.name} (from {parent.name})"] = node.cumulative_us
    ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)[:top]
    lines = [f"{name} {us / 1000:.0f} ms" for name, us in ranked]
    lines.append(f"first-party modules' own time {own / 1000:.0f} ms")
    return lines


# ---------------------------------------------------------------- measurement


@dataclass
class Measurement:
    baselines: list[Sample]
    scenarios: list[Scenario]
    failures: dict[str, str]
    heavy: dict[str, list[str]]
    specs: dict[str, Any]


_LAST: list[Measurement] = []


def last_measurement() -> Measurement | None:
    """The measurement of the last run() in this process (bench.cost prices it)."""
    return _LAST[-1] if _LAST else None


def _plan(stack: Stack, scenario: Scenario, warm: int) -> dict[str, Any]:
    spec = stack.specs[scenario.function]
    return {
        "kind": "handler",
        "code_dir": str(spec.code_dir),
        "memory": spec.memory,
        "events": scenario.events(stack, 1 + (warm if scenario.warm is None else scenario.warm)),
    }


def measure(rounds: int, warm: int) -> Measurement:
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint, FakeLookupUpstream(latency=0.02) as upstream:
            apply_environment(fake_aws_environment(endpoint))
            stack = start_stack(endpoint, upstream.url)
            return _measure(stack, rounds, warm)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _measure(stack: Stack, rounds: int, warm: int) -> Measurement:
    table = stack.env("LookupFunction", "CACHE_TABLE")
    for code in LIST_CODES:
        seed_product(stack.client("dynamodb"), table, "0" + code)
    xray_port = free_port()
    base_plan = {
        "kind": "baseline",
        "table": table,
        "key": {"pk": {"S": f"PRODUCT#{GTIN14}"}},
        "events": [None] * (1 + warm),
    }
    kinds = scenarios()
    envs = {s.function: child_environment(stack, s.function, xray_port) for s in kinds}
    failures: dict[str, str] = {}

    def sample(scenario: Scenario) -> Sample | None:
        if scenario.name in failures:
            return None
        try:
            result = run_child(_plan(stack, scenario, warm), envs[scenario.function])
            if not 200 <= result.statuses[0] < 300:
                raise RuntimeError(f"first request answered {result.statuses[0]}")
            scenario.modules.update(result.modules)
            return result
        except Exception as error:  # one broken request kind must not hide the others
            failures[scenario.name] = f"{type(error).__name__}: {error}"[:400]
            return None

    # One uncounted round fills the page cache and writes .pyc files.
    run_child(base_plan, envs["LookupFunction"])
    for scenario in kinds:
        sample(scenario)
    baselines: list[Sample] = []
    for index in range(rounds):
        order = kinds[index % len(kinds) :] + kinds[: index % len(kinds)]
        for position, scenario in enumerate(order):
            if position % 2 == 0:  # a baseline next to every two request kinds
                baselines.append(run_child(base_plan, envs["LookupFunction"]))
            result = sample(scenario)
            if result is not None:
                scenario.pairs.append((result, baselines[-1]))
    floor_modules = {
        node.name
        for _, node in _walk(import_tree(FLOOR_IMPORTS, envs["LookupFunction"], str(ROOT)))
    }
    heavy = {}
    for scenario in kinds:
        if scenario.cold_figure and scenario.samples:
            spec = stack.specs[scenario.function]
            heavy[scenario.function] = heavy_imports(
                str(spec.code_dir), envs[scenario.function], floor_modules
            )
    for scenario in kinds:
        if scenario.restore and scenario.name not in failures and rounds:
            measure_restores(stack, scenario, envs[scenario.function], RESTORE_ROUNDS, failures)
    return Measurement(baselines, kinds, failures, heavy, stack.specs)


def measure_restores(
    stack: Stack, scenario: Scenario, env: dict[str, str], rounds: int, failures: dict[str, str]
) -> None:
    """`rounds` restores of one snapshot, each beside the same request warm (coldchild)."""
    spec = stack.specs[scenario.function]
    plan = {
        "kind": "restore",
        "code_dir": str(spec.code_dir),
        "memory": spec.memory,
        "events": scenario.events(stack, 1 + 3 * rounds),
    }
    try:
        result, _ = run_plan(plan, env)
    except Exception as error:  # one broken request kind must not hide the others
        failures[f"{scenario.name} (restore)"] = f"{type(error).__name__}: {error}"[:400]
        return
    rounds_measured = zip(result["restored"], result["warm"], result["forked"], strict=True)
    for restored, warm, forked in rounds_measured:
        if not all(200 <= x[2] < 300 for x in (restored, warm, forked)):
            statuses = f"{restored[2]} / {warm[2]} / {forked[2]}"
            failures[f"{scenario.name} (restore)"] = f"answered {statuses}"
            return
        scenario.restores.append((restored, warm, forked))


# ---------------------------------------------------------------- figures


def _ms(values: list[float]) -> str:
    return f"{median(values) * 1000:.0f} ms"


def _calls_text(calls: dict[str, int], requests: int) -> str:
    if not requests:
        return "no warm requests"
    if not calls:
        return "no AWS calls"
    return ", ".join(
        f"{name} {count / requests:.3g}"
        + (f" ({items / requests:.3g} items)" if items != count else "")
        for name, count in sorted(calls.items())
        if "#" not in name
        for items in [calls.get(name + "#items", count)]
    )


# What each deferral of issue 25 saves, measured in fresh interpreters on top of what the
# path already loaded: (name, setup, the import deferred or avoided, the same without).
DEFERRALS = (
    (
        "zint without its own `import pydoc` (zint_loader, every render and GS1 check)",
        FLOOR_IMPORTS,
        "import zint",
        "from barcode_service.zint_loader import load_zint; load_zint()",
    ),
    (
        "the credentials' pydantic models, loaded only once a secret holds a key",
        "import boto3; import barcode_service.credentials",
        "import barcode_service.credential_models",
        "",
    ),
    (
        "Powertools' Batch utility, imported on the worker's first message",
        "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer",
        "from aws_lambda_powertools.utilities.batch import BatchProcessor",
        "",
    ),
)


def import_cpu(setup: str, code: str, env: dict[str, str]) -> float:
    """CPU seconds `code` takes in a fresh interpreter after `setup`."""
    script = (
        f"import time\n{setup}\nstarted = time.process_time()\n{code}\n"
        "print(time.process_time() - started)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def deferral_figures(env: dict[str, str], repeats: int) -> list[Figure]:
    """Each deferral's saving: the import it no longer makes on that path (median)."""
    figures = []
    for name, setup, deferred, instead in DEFERRALS:
        spent = [import_cpu(setup, deferred, env) for _ in range(repeats)]
        kept = [import_cpu(setup, instead or "pass", env) for _ in range(repeats)]
        figures.append(
            Figure(
                "cold_start",
                f"deferred: {name}",
                f"{(median(spent) - median(kept)) * 1000:.0f} ms of CPU saved "
                f"({_ms(spent)} deferred, {_ms(kept)} instead; median of {repeats})",
            )
        )
    return figures


def restore_figures(scenarios: list[Scenario]) -> list[Figure]:
    """Restore to first response (SnapStart) against the same request warm."""
    figures = []
    for scenario in scenarios:
        if not scenario.restores:
            continue
        short = SHORT_NAMES.get(scenario.function, scenario.function)
        target = RESTORE_TARGETS.get(scenario.function, RESTORE_TARGET_OTHERS)
        cpu = Spread(tuple(r[0] / w[0] for r, w, _ in scenario.restores))
        wall = Spread(tuple(r[1] / w[1] for r, w, _ in scenario.restores))
        control = Spread(tuple(f[0] / w[0] for _, w, f in scenario.restores))
        ok, crosses = cpu.verdict(lambda v, t=target: v <= t)
        restored, warm, forked = zip(*scenario.restores, strict=True)
        figures.append(
            Figure(
                "cold_start",
                f"{short} restore to first response (CPU) vs warm: {scenario.name}",
                cpu.text(unit="x") + f"; restored {_ms([r[0] for r in restored])} CPU, "
                f"{_ms([r[1] for r in restored])} wall; warm {_ms([w[0] for w in warm])} CPU, "
                f"{_ms([w[1] for w in warm])} wall",
                f"<= {target}x",
                ok,
                (
                    f"wall: {wall.text(unit='x')}",
                    "after-restore hooks included; the platform's own restore is not "
                    "(only AWS measures it)",
                    f"control, the same request in a fork of the warm environment (no "
                    f"restore, only the fork's copy-on-write page faults): "
                    f"{_ms([f[0] for f in forked])} CPU, {control.text(unit='x')} warm",
                ),
                crosses,
            )
        )
    return figures


def plain_figures(measured: Measurement) -> list[Figure]:
    """Plain cold starts (no SnapStart): import and first response against the floor."""
    figures = []
    for scenario in measured.scenarios:
        if not scenario.cold_figure or not scenario.pairs:
            continue
        short = SHORT_NAMES.get(scenario.function, scenario.function)
        imports = Spread(tuple(s.import_cpu / b.import_cpu for s, b in scenario.pairs))
        imports_wall = Spread(tuple(s.import_wall / b.import_wall for s, b in scenario.pairs))
        ok, crosses = imports.verdict(lambda v: v <= IMPORT_TARGET)
        notes: tuple[str, ...] = (f"wall: {imports_wall.text(unit='x')}",)
        if not ok or crosses:
            notes += tuple(f"heavy: {line}" for line in measured.heavy.get(scenario.function, []))
        figures.append(
            Figure(
                "cold_start",
                f"{short} handler import (CPU) vs the floor's",
                imports.text(unit="x") + f"; {_ms([s.import_cpu for s in scenario.samples])} CPU",
                f"<= {IMPORT_TARGET}x",
                ok,
                notes,
                crosses,
            )
        )
        cold = Spread(tuple(s.first_cpu / b.first_cpu for s, b in scenario.pairs))
        cold_wall = Spread(tuple(s.first_wall / b.first_wall for s, b in scenario.pairs))
        ok, crosses = cold.verdict(lambda v: v <= COLD_TARGET)
        figures.append(
            Figure(
                "cold_start",
                f"{short} cold start to first response (CPU) vs the floor's",
                cold.text(unit="x") + f"; {_ms([s.first_cpu for s in scenario.samples])} CPU, "
                f"{_ms([s.first_wall for s in scenario.samples])} wall",
                f"<= {COLD_TARGET}x",
                ok,
                (f"request: {scenario.name}", f"wall: {cold_wall.text(unit='x')}"),
                crosses,
            )
        )
    return figures


def run(quick: bool = False) -> list[Figure]:
    rounds, warm = (2, 2) if quick else (3, 4)
    measured = measure(rounds, warm)
    _LAST.append(measured)
    base = measured.baselines
    figures = [
        Figure(
            "cold_start",
            "floor: boto3 + Powertools Logger, Tracer, Metrics, REST resolver, then a DynamoDB "
            "client and one GetItem",
            f"import CPU {_ms([b.import_cpu for b in base])}, wall "
            f"{_ms([b.import_wall for b in base])}; first response CPU "
            f"{_ms([b.first_cpu for b in base])}, wall {_ms([b.first_wall for b in base])}; "
            f"median of {len(base)}, interleaved",
            notes=(
                "what every API handler loads before its own code, tracing on as deployed "
                "(the worker's handler loads no REST resolver: its ratios are a little "
                "kinder); peak RSS of the floor process "
                f"{median([b.max_rss_kib for b in base]) / 1024:.0f} MiB",
            ),
        )
    ]
    figures += restore_figures(measured.scenarios)
    figures += plain_figures(measured)
    layer_env = {**os.environ, "PYTHONPATH": str(LAYER)}
    figures += deferral_figures(layer_env, 3 if quick else 5)
    for scenario in measured.scenarios:
        samples = scenario.samples
        if not samples:
            continue
        warm_wall = [w for s in samples for w, _ in s.warm]
        warm_cpu = [c for s in samples for _, c in s.warm]
        requests = sum(len(s.warm) for s in samples)
        calls: dict[str, int] = {}
        for s in samples:
            for name, count in s.calls.items():
                calls[name] = calls.get(name, 0) + count
        rss = [s.max_rss_kib / 1024 for s in samples]
        figures.append(
            Figure(
                "memory",
                f"peak RSS, {scenario.name}",
                f"{median(rss):.0f} MiB (max {max(rss):.0f}, {len(rss)} cold processes, "
                f"each first request + {len(samples[0].warm)} warm)",
                notes=(
                    f"warm request: {_ms(warm_wall)} wall, {_ms(warm_cpu)} CPU "
                    f"(median of {requests}); cold first request "
                    f"{_ms([s.first_wall for s in samples])} wall, "
                    f"{_ms([s.first_cpu for s in samples])} CPU",
                    f"AWS calls per warm request: {_calls_text(calls, requests)}",
                ),
            )
        )
    figures.append(bytecode.figure(measured.scenarios, SHORT_NAMES))
    for name, error in measured.failures.items():
        figures.append(Figure("cold_start", f"{name}: not measured", error, ok=False))
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))

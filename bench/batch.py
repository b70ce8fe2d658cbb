"""Batch throughput: a 2,500-code upload fanned out over concurrent upload workers, 3 times.

What AWS does, emulated on loopback. A moto server (its own process) holds the
template's resources as `local.stack` creates them: the uploads bucket notifying the
uploads queue, the queue with its dead-letter redrive, the cache table and the secret.
The SQS event source runs up to `MaximumConcurrency` worker invocations at once, so
`CONCURRENCY` threads each play one warm Lambda environment: their own copy of
functions/upload_worker/app.py (loaded under its own module name, so their own
module-level `worker()` -> UploadWorker + LookupService + boto3 clients, and their own
BatchProcessor), driven by `local.poller.QueuePoller` exactly as the local stack's
event source mapping does it (receive up to BatchSize, the Lambda SQS event shape,
`ReportBatchItemFailures`, delete what succeeded). The template is resolved with
UploadsMaximumConcurrency = CONCURRENCY and WorkerLookupsPerSecond = RATE / CONCURRENCY,
and UPLOAD_CHUNK_SIZE = 500, so the list splits into chunk messages on the queue.

The job is created as the uploads API does it (DynamoJobStore.create) and the CSV is put at
its upload key; S3's notification starts the run. LOOKUP_API_URL points at a fake
upstream that admits RATE requests/s with a burst of BURST (API Gateway's
LookupBurstLimit default) and answers 429 beyond that, counting each as a violation.
Reported: accepted upstream calls per second from the first to the last upstream call,
as a fraction of RATE, and the violations, with the template's BatchSize; 2,500 rows
over 500 distinct codes (5 chunks: one per worker), each chunk with its own codes;
the upload is repeated REPEATS times (each on a fresh moto server) and the median and
min-max of the fractions are reported.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

from .common import (
    REGION,
    ROOT,
    Figure,
    Spread,
    apply_environment,
    ean13_codes,
    fake_aws_environment,
    module_main,
    moto_server,
    stdout_to_devnull,
    template_resolver,
)
from .upstream import FakeLookupUpstream

WORKER = ROOT / "functions" / "upload_worker" / "app.py"
FUNCTION = "UploadWorkerFunction"
# The template's defaults: LookupRateLimit (the upstream's allowed requests/s, which
# WorkerLookupsPerSecond x UploadsMaximumConcurrency must not exceed) and
# LookupBurstLimit (the token bucket's depth).
RATE = 20.0
BURST = 10.0
# BENCH_LATENCY=0.35: every upstream answer takes that long (a provider far away); the
# workers then need WORKER_LOOKUP_CONCURRENCY > 1 to keep their rate.
LATENCY = float(os.environ.get("BENCH_LATENCY", "0"))
CONCURRENCY = 5  # UploadsMaximumConcurrency: worker invocations the event source runs at once
CHUNK_SIZE = 500  # UPLOAD_CHUNK_SIZE: rows per chunk message
TARGET_FRACTION = 0.95
REPEATS = 3
TIME_LIMIT = 170.0


def worker_ready() -> bool:
    return WORKER.is_file() and "not implemented yet" not in WORKER.read_text(encoding="utf-8")


@dataclasses.dataclass
class Outcome:
    batch_size: int
    job: dict[str, Any]
    seconds: float
    batches: Counter[str]  # per worker instance: invocations
    messages: Counter[str]  # per worker instance: messages handled
    failed: int  # messages a worker reported failed (retried by SQS)
    dead_letters: int


def _code_list(rows: int, distinct: int) -> bytes:
    """Each chunk has its own codes, each repeated a few times, as merchant lists do.

    Codes shared across chunks would make workers wait on each other's single-flight
    leases, which measures lease polling rather than throughput.
    """
    codes = ean13_codes(distinct, prefix="691")
    chunks = max(1, rows // CHUNK_SIZE)
    per_chunk = max(1, distinct // chunks)
    picked = ((i // CHUNK_SIZE) * per_chunk + i % per_chunk for i in range(rows))
    return ("code\n" + "\n".join(codes[j % distinct] for j in picked) + "\n").encode()


@dataclasses.dataclass
class Tally:
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    batches: Counter[str] = dataclasses.field(default_factory=Counter)
    messages: Counter[str] = dataclasses.field(default_factory=Counter)
    failed: int = 0


def _instances(spec: Any, source: Any, concurrency: int) -> tuple[list[Any], Tally]:
    """`concurrency` warm environments of the worker, each behind its own queue poller.

    Each loads app.py as a module of its own, so its module-level `worker()` (UploadWorker,
    LookupService, boto3 clients) and BatchProcessor are its own, as in separate Lambda
    instances. Built one after another: boto3's default session is not thread-safe.
    """
    from local.lambdas import LocalFunction
    from local.poller import QueuePoller

    tally = Tally()

    class Instance(QueuePoller):
        def poll_once(self) -> int:
            handled = super().poll_once()
            if handled:
                with tally.lock:
                    tally.batches[self.name] += 1
                    tally.messages[self.name] += handled
            return handled

        def settle(self, records: list[dict[str, Any]], failed: set[str]) -> None:
            with tally.lock:
                tally.failed += len(failed)
            super().settle(records, failed)

    pollers = []
    for n in range(concurrency):
        name = f"{FUNCTION}{source.batch_size}x{n}"
        function = LocalFunction(dataclasses.replace(spec, logical_id=name))
        function.load()
        sys.modules[function.module_name].worker()
        poller = Instance(source, function, tally.stop, region=REGION, retry_seconds=1)
        poller.name = f"worker-{n}"
        pollers.append(poller)
    return pollers, tally


def emulate(csv: bytes, upstream_url: str, concurrency: int, batch_size: int | None) -> Outcome:
    """The template's worker wiring on a moto server, `concurrency` instances in parallel."""
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint:
            apply_environment(fake_aws_environment(endpoint))
            with stdout_to_devnull():
                return _emulate(csv, upstream_url, concurrency, batch_size)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _emulate(csv: bytes, upstream_url: str, concurrency: int, batch_size: int | None) -> Outcome:
    import boto3

    from local.lambdas import function_specs
    from local.poller import sqs_sources
    from local.resources import QUEUE_TYPE, create_resources, put_secret
    from local.stack import upstream_secret

    resolver = template_resolver(
        "bench-batch",
        {
            "UploadsMaximumConcurrency": str(concurrency),
            "WorkerLookupsPerSecond": str(RATE / concurrency),
            # Baichuan's fleet-wide limit (BAICHUAN_REQUESTS_PER_SECOND) is this rate too.
            "LookupRateLimit": str(RATE),
            **({"UploadsBatchSize": str(batch_size)} if batch_size else {}),
        },
    )
    created = create_resources(resolver)
    spec = function_specs(resolver)[FUNCTION]
    environment = dict(spec.environment)
    environment.update(
        {
            "LOOKUP_API_URL": upstream_url,
            "UPLOAD_CHUNK_SIZE": str(CHUNK_SIZE),
            "POWERTOOLS_SERVICE_NAME": "bench-batch",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        }
    )
    put_secret(
        environment["SECRET_ID"],
        upstream_secret({"LOOKUP_API_KEY": "bench-api-key", "LOOKUP_SECRET_KEY": "bench-key"}),
        REGION,
    )
    os.environ.update(environment)
    from barcode_service.settings import get_settings
    from barcode_service.uploads.jobs import DynamoJobStore
    from barcode_service.uploads.policy import new_upload_id, upload_key

    get_settings.cache_clear()
    queue_urls = {
        str(resolver.attributes[lid]["Arn"]): str(resolver.attributes[lid]["Ref"])
        for lid, r in created.items()
        if r.type == QUEUE_TYPE
    }
    # The worker's uploads queue (its other source is the community share queue).
    (source,) = [
        s for s in sqs_sources(resolver, {FUNCTION: spec}, queue_urls) if s.event_name == "Uploads"
    ]

    pollers, tally = _instances(spec, source, concurrency)
    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    jobs = DynamoJobStore(
        settings.cache_table, dynamodb, ttl_seconds=settings.upload_job_ttl_seconds
    )
    for poller in pollers:
        poller.start()
    try:
        upload_id = new_upload_id()
        jobs.create(upload_id, "list", "codes.csv", "text/csv")
        boto3.client("s3").put_object(
            Bucket=settings.uploads_bucket,
            Key=upload_key(upload_id, "csv"),
            Body=csv,
            ContentType="text/csv",
        )
        started = time.monotonic()
        job = None
        while time.monotonic() - started < TIME_LIMIT:
            job = jobs.get(upload_id)
            if job is not None and job.status in ("done", "failed"):
                break
            time.sleep(0.25)
        seconds = time.monotonic() - started
    finally:
        tally.stop.set()
        for poller in pollers:
            poller.join(timeout=10)
    if job is None or job.status not in ("done", "failed"):
        raise RuntimeError(f"the upload was not done after {TIME_LIMIT:.0f} s: {job}")
    dead = _waiting(boto3.client("sqs"), [u for u in queue_urls.values() if u != source.queue_url])
    return Outcome(
        batch_size=source.batch_size,
        job={"status": job.status, "counts": job.counts, "chunks": job.chunks_total},
        seconds=seconds,
        batches=tally.batches,
        messages=tally.messages,
        failed=tally.failed,
        dead_letters=dead,
    )


def _waiting(sqs: Any, urls: list[str]) -> int:
    """Messages waiting on these queues (the dead-letter queue)."""
    total = 0
    for url in urls:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        total += int(answer["Attributes"].get("ApproximateNumberOfMessages", 0))
    return total


def timeline(times: list[float]) -> tuple[float, int, float]:
    """(time to 95 % of the calls, most calls in any 1 s window, rate over the busiest 90 %)."""
    if len(times) < 2:
        return float("nan"), len(times), float("nan")
    times = sorted(times)
    first = times[0]
    peak, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        peak = max(peak, hi - lo + 1)
    head = times[int(0.95 * (len(times) - 1))] - first
    a, b = times[int(0.05 * (len(times) - 1))], times[int(0.95 * (len(times) - 1))]
    middle = (int(0.95 * (len(times) - 1)) - int(0.05 * (len(times) - 1))) / (b - a)
    return head, peak, middle


@dataclasses.dataclass
class Measured:
    outcome: Outcome
    accepted: int
    violations: int
    span: float
    to95: float
    peak: int
    middle: float

    @property
    def achieved(self) -> float:
        return self.accepted / self.span if self.span > 0 else float("nan")

    def notes(self) -> tuple[str, ...]:
        o = self.outcome
        per_instance = ", ".join(str(o.messages[name]) for name in sorted(o.messages))
        return (
            f"BatchSize {o.batch_size}: job {o.job.get('status')} in {o.seconds:.1f} s, "
            f"{o.job.get('chunks')} chunks; messages per worker instance: {per_instance} "
            f"(in {sum(o.batches.values())} invocations); {o.failed} reported failed, "
            f"{o.dead_letters} dead-lettered; counts {o.job.get('counts')}",
            f"BatchSize {o.batch_size}: upstream {self.accepted} calls accepted over "
            f"{self.span:.1f} s (first to last call), {self.violations} answered 429; "
            f"95 % of the calls within {self.to95:.1f} s; busiest 1 s window {self.peak} calls; "
            f"rate over the middle 90 % of the calls {self.middle:.1f}/s",
        )


def measure(csv: bytes, batch_size: int | None) -> Measured:
    """One upload through CONCURRENCY workers; batch_size None = the template's BatchSize."""
    with FakeLookupUpstream(rate=RATE, burst=BURST, latency=LATENCY) as upstream:
        outcome = emulate(csv, upstream.url, CONCURRENCY, batch_size)
        span = (upstream.last_call or 0) - (upstream.first_call or 0)
        to95, peak, middle = timeline(list(upstream.accepted_at))
        return Measured(outcome, upstream.accepted, upstream.violations, span, to95, peak, middle)


def run(quick: bool = False) -> list[Figure]:
    if not worker_ready():
        return [
            Figure(
                "batch",
                "upload throughput",
                "not measured: functions/upload_worker/app.py is still a placeholder",
            )
        ]
    # Chunks a multiple of CONCURRENCY (each worker gets as many), REPEATS whole uploads.
    rows, distinct, repeats = (2_500, 500, 1) if quick else (2_500, 500, REPEATS)
    csv = _code_list(rows, distinct)
    runs = [measure(csv, None) for _ in range(repeats)]
    fractions = Spread(tuple(m.achieved / RATE for m in runs))
    ok, crosses = fractions.verdict(lambda v: v >= TARGET_FRACTION)
    violations = Spread(tuple(float(m.violations) for m in runs))
    common = (
        f"{rows} rows over {distinct} distinct codes (each chunk its own codes), "
        f"UPLOAD_CHUNK_SIZE={CHUNK_SIZE}; {CONCURRENCY} concurrent worker instances "
        f"(UploadsMaximumConcurrency), each its own handler module, BatchProcessor, "
        f"UploadWorker and LookupService, fed by local.poller.QueuePoller from the moto "
        f"queue; WORKER_LOOKUPS_PER_SECOND={RATE / CONCURRENCY:g}; fake upstream token "
        f"bucket {RATE:g}/s with burst {BURST:g} (LookupBurstLimit default); "
        f"{repeats} uploads one after another",
    )
    per_run = tuple(
        f"run {n + 1}: {m.achieved:.1f} req/s = {m.achieved / RATE:.3f}; {note}"
        for n, m in enumerate(runs)
        for note in m.notes()
    )
    return [
        Figure(
            "batch",
            "upload throughput vs upstream rate limit",
            fractions.text("{:.3f}") + f" of the allowed {RATE:.0f} req/s ({CONCURRENCY} "
            f"workers, template BatchSize {runs[0].outcome.batch_size})",
            f">= {TARGET_FRACTION}",
            ok,
            common + per_run,
            crosses,
        ),
        Figure(
            "batch",
            "rate-limit violations",
            f"{sum(m.violations for m in runs)} requests over the limit (answered 429) in "
            f"{repeats} uploads; most in one upload {max(violations.values):.0f}",
            "0",
            all(m.violations == 0 for m in runs),
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run))

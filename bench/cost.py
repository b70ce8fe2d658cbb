"""Cost per million requests of each kind, and the MemorySize each function gets.

Inputs, measured: bench.cold_start's children (same run): per request kind the warm
request's wall and CPU time, the AWS calls it makes (DynamoDB items read and written,
S3, SQS), the cold first request's CPU time, and the peak RSS. Inputs, stated: the
prices below (AWS public list prices, us-east-1, arm64, no free tier, as of PRICES_AS_OF)
and these assumptions:

- Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB.
  One core of the bench machine is taken as one Lambda vCPU, so on Lambda a request
  takes (wall - CPU) + CPU x max(1, 1769 / MemorySize): the waiting (DynamoDB, S3,
  upstreams; here a moto server on loopback) does not stretch, the CPU work does.
  Billed duration is rounded up to 1 ms.
- DynamoDB on-demand: an item read is 0.5 read units (eventually consistent, <= 4 KB)
  or 1 (strongly consistent); a write is 1 write unit (<= 1 KB), 2 in a transaction.
- API Gateway REST: one request per HTTP request kind (not for the SQS worker).
- SQS: an upload's S3 notification costs 3 requests (S3 sends, Lambda receives, deletes).
- CloudFront: an image URL is fetched once through CloudFront (one HTTPS request plus
  the PNG's bytes out); its S3 origin GET is counted once per image, not per fetch.
Not priced: upstream API fees (Baichuan, GuGuData), CloudWatch Logs and X-Ray, Secrets
Manager calls (cached per container, one per cold start), storage.

SnapStart (the `SnapStart` parameter) for two deployments whose scans are lookups of a
cached product: a quiet one (one scan every 10 minutes, 4,320 a month, each a cold
start: Lambda reclaims an idle environment within minutes, which it does not document)
and a busy one (1M scans a month, BUSY_COLD_FRACTION of them cold starts, an
assumption). Without SnapStart a cold start is billed its init and first request (the
INIT phase of managed runtimes is billed since 2025-08). With it: each function's live
version keeps a snapshot cached, billed per GB-second of MemorySize for the whole
month (VersionDeletionPolicy deletes a replaced version at deploy, but each version is
billed at least 3 hours: DEPLOYS_PER_MONTH x 3 h more); each restore is billed per GB
of MemorySize, plus its duration (after-restore hooks and first request, from
bench.cold_start's restores: restored / warm CPU times the warm request's).

MemorySize per function: the cheapest of MEMORY_CHOICES at which the modelled cold first
request stays within COLD_BUDGET_S for an API function, and whose memory is at least
RSS_HEADROOM x the highest peak RSS measured for that function's request kinds. The
cold first request's CPU is taken as its measured ratio to the baseline beside it times
REFERENCE_BASELINE_CPU_S (the floor's): CPU time itself is inflated on a busy machine
(shared caches, a shared core), the ratio much less.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from . import cold_start
from .common import Figure, median, module_main

PRICES_AS_OF = "2025-06 (AWS public list prices, us-east-1)"
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "apigw_rest_request": 3.50 / 1e6,  # first 333 million a month
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand, since the 2024-11 price cut
    "dynamodb_write_unit": 0.625 / 1e6,
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,
    "sqs_request": 0.40 / 1e6,  # standard queue
    "cloudfront_https_request": 0.0100 / 10_000,  # United States
    "cloudfront_gb_out": 0.085,  # first 10 TB, United States
}
SNAPSTART_PRICES_AS_OF = (
    "2024-11 (Lambda SnapStart for Python and .NET, US East (N. Virginia), the rates of "
    "AWS's Lambda pricing example as published with the launch and still quoted in 2026)"
)
SNAPSTART_PRICES = {
    "cache_gb_second": 0.0000015046,  # per GB-second of the version's memory, while active
    "restore_gb": 0.0001397998,  # per GB of the version's memory, per restore
}
SNAPSTART_MIN_SECONDS = 3 * 3600  # each cached version is billed at least 3 hours
MONTH_SECONDS = 30 * 86_400
DEPLOYS_PER_MONTH = 4
BUSY_COLD_FRACTION = 0.01  # cold starts among a busy deployment's requests (assumed)
DEPLOYMENTS = {  # name: (scans a month, the fraction of them that meet a cold start)
    "quiet (a scan every 10 minutes)": (6 * 24 * 30, 1.0),
    "busy (1M scans a month)": (1_000_000, BUSY_COLD_FRACTION),
}
SCAN_KIND = "lookup GET /products/{code}, cache hit"
SNAPSTART_FUNCTIONS = (
    "LookupFunction",
    "GenerateFunction",
    "UploadsFunction",
    "UploadWorkerFunction",
)
FULL_VCPU_MB = 1769
MEMORY_CHOICES = (256, 512, 768, 1024, 1536, 1769)
COLD_BUDGET_S = 1.0  # a user waits on an API function's cold start
# The floor process (boto3 and Powertools' Logger, Tracer, Metrics and REST resolver, then
# a DynamoDB client and one GetItem) on an idle core of the bench machine: ~172 ms of
# imports (2026-12-02) + ~55 ms client and call.
REFERENCE_BASELINE_CPU_S = 0.23
RSS_HEADROOM = 2.0  # larger inputs (photos, lists) than the bench's
PNG_BYTES = 3_000  # the EAN-13 300x150 PNG, about


@dataclass(frozen=True)
class Kind:
    name: str
    function: str
    warm_wall: float
    warm_cpu: float
    cold_cpu: float
    cold_wall: float
    peak_rss_mib: float
    calls: dict[str, float]  # per request, "service:Operation[:flag]" and "#items"

    @property
    def http(self) -> bool:
        return self.function != "UploadWorkerFunction"

    def duration(self, memory: int, cold: bool = False) -> float:
        """Modelled Lambda duration: the waiting as measured, the CPU work stretched.

        A cold first request waits as long as a warm one (its wall time here is mostly
        waiting for a CPU of the busy bench machine, which Lambda does not share).
        """
        waiting = max(0.0, self.warm_wall - self.warm_cpu)
        cpu = self.cold_cpu if cold else self.warm_cpu
        return waiting + cpu * max(1.0, FULL_VCPU_MB / memory)

    def lambda_cost(self, memory: int) -> float:
        billed = math.ceil(self.duration(memory) * 1000) / 1000
        return billed * memory / 1024 * PRICES["lambda_gb_second_arm64"] + PRICES["lambda_request"]

    def dynamodb_cost(self) -> float:
        reads = writes = 0.0
        for name, count in self.calls.items():
            if not name.startswith("dynamodb:") or "#" in name:
                continue
            items = self.calls.get(name + "#items", count)
            operation = name.split(":")[1]
            if operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
                reads += items * (1.0 if name.endswith(":consistent") else 0.5)
            elif operation.startswith("Transact"):
                writes += items * 2
            else:
                writes += items
        return reads * PRICES["dynamodb_read_unit"] + writes * PRICES["dynamodb_write_unit"]

    def other_costs(self) -> dict[str, float]:
        costs: dict[str, float] = {}
        if self.http:
            costs["API Gateway"] = PRICES["apigw_rest_request"]
        s3 = sum(
            count * (PRICES["s3_get"] if ":Get" in name or ":Head" in name else PRICES["s3_put"])
            for name, count in self.calls.items()
            if name.startswith("s3:") and "#" not in name
        )
        if s3:
            costs["S3"] = s3
        sqs = sum(c for n, c in self.calls.items() if n.startswith("sqs:") and "#" not in n)
        if not self.http:
            sqs += 3
        if sqs:
            costs["SQS"] = sqs * PRICES["sqs_request"]
        if "/barcodes (" in self.name:
            costs["CloudFront"] = (
                PRICES["cloudfront_https_request"] + PNG_BYTES / 1e9 * PRICES["cloudfront_gb_out"]
            )
        return costs


def kinds(measured: cold_start.Measurement) -> list[Kind]:
    found = []
    for scenario in measured.scenarios:
        samples = scenario.samples
        requests = sum(len(s.warm) for s in samples)
        if not samples or not requests:
            continue
        totals: dict[str, float] = {}
        for s in samples:
            for name, count in s.calls.items():
                totals[name] = totals.get(name, 0) + count
        found.append(
            Kind(
                name=scenario.name,
                function=scenario.function,
                warm_wall=median([w for s in samples for w, _ in s.warm]),
                warm_cpu=median([c for s in samples for _, c in s.warm]),
                # As a ratio to the baseline beside it (CPU time too grows on a busy
                # machine), times what the baseline takes on an idle core.
                cold_cpu=median([s.first_cpu / b.first_cpu for s, b in scenario.pairs])
                * REFERENCE_BASELINE_CPU_S,
                cold_wall=median([s.first_wall for s in samples]),
                peak_rss_mib=max(s.max_rss_kib for s in samples) / 1024,
                calls={name: total / requests for name, total in totals.items()},
            )
        )
    return found


def _billed(seconds: float, memory: int) -> float:
    """Lambda's price of `seconds` at `memory` MB (rounded up to 1 ms)."""
    return math.ceil(seconds * 1000) / 1000 * memory / 1024 * PRICES["lambda_gb_second_arm64"]


def snapstart_figures(
    measured: cold_start.Measurement, scan: Kind, memory: dict[str, int]
) -> list[Figure]:
    """A month of scans with and without SnapStart, for each deployment."""
    scenario = next((s for s in measured.scenarios if s.name == scan.name), None)
    if scenario is None or not scenario.restores:
        return []
    mem = memory[scan.function]
    ratio = median([r[0] / w[0] for r, w, _ in scenario.restores])
    waiting = max(0.0, scan.warm_wall - scan.warm_cpu)
    restore_s = waiting + ratio * scan.warm_cpu * max(1.0, cold_start_vcpu(mem))
    cold_s, warm_s = scan.duration(mem, cold=True), scan.duration(mem)
    gigabytes = sum(memory.get(f, 1024) for f in SNAPSTART_FUNCTIONS) / 1024
    cache = (
        gigabytes
        * (MONTH_SECONDS + DEPLOYS_PER_MONTH * SNAPSTART_MIN_SECONDS)
        * SNAPSTART_PRICES["cache_gb_second"]
    )
    figures = []
    for name, (scans, cold_fraction) in DEPLOYMENTS.items():
        colds = scans * cold_fraction
        warm_cost = scans * scan.lambda_cost(mem)
        plain = warm_cost + colds * _billed(max(0.0, cold_s - warm_s), mem)
        restores = colds * (
            mem / 1024 * SNAPSTART_PRICES["restore_gb"] + _billed(max(0.0, restore_s - warm_s), mem)
        )
        snap = warm_cost + restores + cache
        figures.append(
            Figure(
                "cost",
                f"SnapStart, {name}: Lambda a month",
                f"${snap:,.2f} with SnapStart (snapshot cache ${cache:,.2f}, restores "
                f"${restores:,.2f}) vs ${plain:,.2f} without",
                notes=(
                    f"{scans:,} scans ({SCAN_KIND}), {colds:,.0f} of them cold; cache of "
                    f"{len(SNAPSTART_FUNCTIONS)} functions ({gigabytes:g} GB) all month + "
                    f"{DEPLOYS_PER_MONTH} deploys x 3 h",
                    f"a cold scan's own work, modelled at {mem} MB: {cold_s * 1000:.0f} ms "
                    f"plain, {restore_s * 1000:.0f} ms restored (plus the platform's restore, "
                    f"which only AWS measures), {warm_s * 1000:.0f} ms warm",
                ),
            )
        )
    return figures


def cold_start_vcpu(memory: int) -> float:
    """How much slower than one full vCPU a function of `memory` MB runs CPU work."""
    return FULL_VCPU_MB / memory


def choose_memory(function: str, of_function: list[Kind]) -> tuple[int, str]:
    peak = max(k.peak_rss_mib for k in of_function)
    http = of_function[0].http
    fits = [m for m in MEMORY_CHOICES if m >= RSS_HEADROOM * peak]
    candidates = [
        m
        for m in fits
        if not http or max(k.duration(m, cold=True) for k in of_function) <= COLD_BUDGET_S
    ] or fits[-1:]
    chosen = min(candidates, key=lambda m: (sum(k.lambda_cost(m) for k in of_function), m))
    cold = max(k.duration(chosen, cold=True) for k in of_function)
    reason = (
        f"peak RSS {peak:.0f} MiB (x{RSS_HEADROOM:g} headroom: >= {RSS_HEADROOM * peak:.0f} MB)"
        + (f"; modelled cold first request {cold:.2f} s <= {COLD_BUDGET_S:g} s" if http else "")
        + f"; Lambda cost per million of its kinds at {chosen} MB: "
        + ", ".join(f"${k.lambda_cost(chosen) * 1e6:.2f}" for k in of_function)
    )
    return chosen, reason


def run(quick: bool = False) -> list[Figure]:
    measured = cold_start.last_measurement() or cold_start.measure(rounds=1, warm=3)
    all_kinds = kinds(measured)
    figures = []
    memory: dict[str, int] = {}
    for function in dict.fromkeys(k.function for k in all_kinds):
        of_function = [k for k in all_kinds if k.function == function]
        chosen, reason = choose_memory(function, of_function)
        memory[function] = chosen
        configured = measured.specs[function].memory if function in measured.specs else None
        figures.append(
            Figure(
                "cost",
                f"MemorySize {cold_start.SHORT_NAMES.get(function, function)}",
                f"{chosen} MB (template.yaml: {configured} MB)",
                notes=(reason,),
            )
        )
    for kind in all_kinds:
        mem = memory[kind.function]
        parts = {"Lambda": kind.lambda_cost(mem), "DynamoDB": kind.dynamodb_cost()}
        parts.update(kind.other_costs())
        total = sum(parts.values())
        figures.append(
            Figure(
                "cost",
                f"per million: {kind.name}",
                f"${total * 1e6:,.2f} ("
                + ", ".join(f"{name} ${value * 1e6:,.2f}" for name, value in parts.items() if value)
                + ")",
                notes=(
                    f"at {mem} MB: modelled {kind.duration(mem) * 1000:.0f} ms per warm request "
                    f"(measured {kind.warm_wall * 1000:.0f} ms wall, {kind.warm_cpu * 1000:.0f} ms "
                    "CPU on loopback)",
                ),
            )
        )
    scan = next((k for k in all_kinds if k.name == SCAN_KIND), None)
    if scan is not None:
        figures += snapstart_figures(measured, scan, memory)
    figures.append(
        Figure(
            "cost",
            "SnapStart prices (inputs)",
            f"as of {SNAPSTART_PRICES_AS_OF}: snapshot cache "
            f"${SNAPSTART_PRICES['cache_gb_second']:.10f}/GB-s (at least 3 h per version), "
            f"restore ${SNAPSTART_PRICES['restore_gb']:.10f}/GB",
        )
    )
    figures.append(
        Figure(
            "cost",
            "prices (inputs)",
            f"as of {PRICES_AS_OF}: Lambda arm64 ${PRICES['lambda_gb_second_arm64']:.10f}/GB-s "
            "+ $0.20/M requests; API Gateway REST $3.50/M; DynamoDB on-demand $0.125/M read "
            "units, $0.625/M write units; S3 $0.005/1k PUT, $0.0004/1k GET; SQS $0.40/M; "
            "CloudFront $0.01/10k HTTPS requests, $0.085/GB",
        )
    )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))

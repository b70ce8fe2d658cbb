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

MemorySize per function: the cheapest of MEMORY_CHOICES at which the modelled cold first
request stays within COLD_BUDGET_S for an API function, and whose memory is at least
RSS_HEADROOM x the highest peak RSS measured for that function's request kinds. The
cold first request's CPU is taken as its measured ratio to the baseline beside it times
REFERENCE_BASELINE_CPU_S: CPU time itself is inflated on a busy machine (shared caches,
a shared core), the ratio much less.
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
FULL_VCPU_MB = 1769
MEMORY_CHOICES = (256, 512, 768, 1024, 1536, 1769)
COLD_BUDGET_S = 1.0  # a user waits on an API function's cold start
# The baseline process (import boto3, a DynamoDB client, one GetItem) on an idle core of
# the bench machine: 134 ms import (2026-11-25, quiet) + ~55 ms client and call.
REFERENCE_BASELINE_CPU_S = 0.19
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

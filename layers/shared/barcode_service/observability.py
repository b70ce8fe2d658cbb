"""Powertools Logger, Tracer and Metrics singletons shared by every function.

Service name and metric namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set per function in template.yaml).

The Tracer patches what this project calls: botocore (every AWS SDK call, at import:
boto3 is loaded anyway) and requests (the upstream HTTP clients). requests is patched
the moment it is first imported, which only the upstream clients do, so an
invocation that never reaches an upstream (a cache hit) does not pay for importing
it; every upstream call still gets its `remote` subsegment, because the patch is in
place before any Session exists. Powertools' default (`patch_all`) would import
requests and sqlite3 at cold start just to patch them.

The X-Ray SDK records some request parameters of each AWS call in its subsegment; for
S3 those include the object `Key`, and upload keys hold upload ids (what reads a job),
so S3 keys and prefixes are dropped from that list before the first call is traced.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from wrapt import when_imported

from .snapshot import after_restore

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BarcodeBackend")
TRACED_AT_IMPORT = ("botocore",)
TRACED_WHEN_IMPORTED = ("requests",)
UNTRACED_S3_PARAMETERS = frozenset({"Key", "CopySource", "Prefix"})

logger = Logger()
tracer = Tracer(patch_modules=TRACED_AT_IMPORT)
metrics = Metrics(namespace=NAMESPACE)
# A debug sampling rate (POWERTOOLS_LOGGER_SAMPLE_RATE) is drawn at init: with SnapStart
# every restored copy would share the snapshot's draw.
after_restore(logger.refresh_sample_rate_calculation)

# `log_metrics` warns (UserWarning) after every invocation that added no metric, e.g. a
# health check or a cached answer: normal here, not a fault. This is the filter the
# Powertools metrics docs give for it; `raise_on_empty_metrics` stays False (its default).
warnings.filterwarnings("ignore", "No application metrics to publish*")


def _patch_on_import(module: ModuleType) -> None:
    tracer.patch((module.__name__,))  # a no-op when tracing is disabled


for _name in TRACED_WHEN_IMPORTED:
    when_imported(_name)(_patch_on_import)


@when_imported("aws_xray_sdk.ext.boto_utils")
def _untrace_s3_keys(module: ModuleType) -> None:
    """Keep S3 object keys (upload ids) out of the botocore subsegments."""
    operations = module.whitelist.get("services", {}).get("s3", {}).get("operations", {})
    for operation in operations.values():
        names = operation.get("request_parameters")
        if names:
            operation["request_parameters"] = [n for n in names if n not in UNTRACED_S3_PARAMETERS]


def count(name: str, value: float = 1) -> None:
    """Add to a plain count metric (one name per event, no dimensions)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, **dimensions: str) -> None:
    """Add 1 to a count metric with its own dimensions (emitted apart from the others)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)

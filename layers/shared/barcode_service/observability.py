"""Powertools Logger, Tracer and Metrics singletons shared by every function.

Service name and metric namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set per function in template.yaml).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BarcodeBackend")

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=NAMESPACE)

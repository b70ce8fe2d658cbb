"""What the template tests share: routes per function, expected environment, small accessors."""

from __future__ import annotations

from typing import Any

Resources = dict[str, dict[str, Any]]

API_FUNCTIONS = ("LookupFunction", "GenerateFunction", "UploadsFunction")
ALL_FUNCTIONS = (*API_FUNCTIONS, "UploadWorkerFunction", "UploadSweeperFunction")

ROUTES = {
    "LookupFunction": {
        ("GET", "/products/{code}"),
        ("POST", "/products/{code}"),
        ("POST", "/products/lookup"),
        ("POST", "/scans"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/{name}"),
    },
    "GenerateFunction": {
        ("GET", "/barcodes"),
        ("POST", "/barcodes"),
        ("POST", "/barcodes/batch"),
        ("GET", "/barcodes/types"),
        ("POST", "/labels"),
    },
    "UploadsFunction": {("POST", "/uploads"), ("GET", "/uploads/{id}")},
}
GENERATE_ROUTES = ROUTES["GenerateFunction"]
PUBLIC_PATHS = ("/health", "/openapi.json", "/docs", "/docs/{name}")  # no key needed
LOOKUP_ROUTES = {
    ("GET", "/products/{code}"),
    ("POST", "/products/{code}"),  # a community contribution
    ("POST", "/products/lookup"),
    ("POST", "/scans"),
}

# Actions AWS only grants on "*" (no resource-level permissions).
STAR_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
ENV_VARS = {
    "SECRET_ID": {"Ref": "UpstreamSecret"},
    "CACHE_TABLE": {"Ref": "CacheTable"},
    "GENERATE_API_URL": {"Ref": "GenerateApiUrl"},
    "LOOKUP_API_URL": {"Ref": "LookupApiUrl"},
    "GENERATE_BACKEND": {"Ref": "GenerateBackend"},
    "IMAGES_BUCKET": {"Ref": "ImagesBucket"},
    "UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
    "UPLOADS_QUEUE_URL": {"Ref": "UploadsQueue"},
    "COMMUNITY_SHARE_QUEUE_URL": {"Ref": "CommunityShareQueue"},
    "COMMUNITY_CONFIRMATIONS": {"Ref": "CommunityConfirmations"},
    "COMMUNITY_DAILY_LIMIT": {"Ref": "CommunityDailyLimit"},
    "FOUND_TTL_SECONDS": {"Ref": "FoundTtlSeconds"},
    "NOT_FOUND_TTL_SECONDS": {"Ref": "NotFoundTtlSeconds"},
    "POWERTOOLS_METRICS_NAMESPACE": "BarcodeBackend",
    "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
}


def of_type(resources: Resources, kind: str) -> Resources:
    """The resources of one CloudFormation type, by logical id."""
    return {key: value for key, value in resources.items() if value["Type"] == kind}


def default(sam_template: dict[str, Any], parameter: str) -> Any:
    return sam_template["Parameters"][parameter]["Default"]


def ref(value: Any) -> str:
    assert isinstance(value, dict), value
    assert set(value) == {"Ref"}, value
    name: str = value["Ref"]
    return name


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]

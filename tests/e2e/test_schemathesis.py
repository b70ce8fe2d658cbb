"""Schemathesis against the OpenAPI document, served by the local stack over loopback.

Every operation of layers/shared/barcode_service/openapi.json gets generated requests
(valid and invalid), sent with the local API key to `python -m local.stack` running in
a subprocess, with the fake upstreams of fake_upstreams.py. Properties: no 5xx at all,
and every error response is RFC 9457 problem+json with a stable `code`.
Bounded: 25 examples per operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4.0")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.e2e.fake_upstreams import FakeUpstreams  # noqa: E402
from tests.e2e.stack_process import StackDidNotStart, local_stack  # noqa: E402

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "layers" / "shared" / "barcode_service" / "openapi.json"
API_KEY = "schemathesis-local-api-key"
REQUEST_TIMEOUT = 30
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}

if not (ROOT / "local" / "stack.py").is_file():
    pytest.skip("local/stack.py does not exist yet: no stack to test", allow_module_level=True)

schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m local.stack` on a free loopback port; its `/v1` URL once READY."""
    upstreams = FakeUpstreams().start()
    try:
        with local_stack(upstreams, tmp_path_factory.mktemp("home"), API_KEY, "ERROR") as stack:
            yield stack.api
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")
    finally:
        upstreams.stop()


def _header(response: Any, name: str) -> str:
    """A header of a schemathesis Response (its headers map lower-case names to lists)."""
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return ""


def check_problem(response: Any) -> None:
    """No 5xx; an error is problem+json with the core members and a stable code."""
    status = response.status_code
    body_text = response.text[:500]
    method = str(response.request.method).upper()
    if _header(response, "x-amzn-ErrorType") == "MissingAuthenticationTokenException":
        # API Gateway's own answer for a method/path the API does not have: the template
        # makes it a problem+json 404 (see test_gateway_own_errors_are_problems).
        assert status == 404, status
    assert status < 500, (
        f"{method} {response.request.url} {response.request.body!r} -> {status}: {body_text}"
    )
    if status >= 400:
        content_type = _header(response, "Content-Type")
        assert content_type.startswith("application/problem+json"), (
            f"{response.request.method} {response.request.url} -> {status} {content_type!r} "
            f"{dict(response.headers)} {body_text}"
        )
        problem = response.json()
        assert set(problem) >= PROBLEM_FIELDS, problem
        assert problem["status"] == status, problem
        assert isinstance(problem["code"], str)
        assert problem["code"], problem
        assert problem["code"].replace("_", "").isalnum(), problem
    if status in (429, 503):
        assert int(_header(response, "Retry-After")) >= 1


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_with_problems_never_5xx(case: Any, base_url: str) -> None:
    headers = {"x-api-key": API_KEY}
    response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT)
    check_problem(response)
    case.validate_response(response, checks=[not_a_server_error])


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/health"), ("TRACE", "/barcodes"), ("GET", "/no-such-route")]
)
def test_gateway_own_errors_are_problems(base_url: str, method: str, path: str) -> None:
    import requests

    response = requests.request(
        method, base_url + path, headers={"x-api-key": API_KEY}, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code in (403, 404, 405)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert set(response.json()) >= PROBLEM_FIELDS

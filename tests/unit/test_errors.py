"""The ServiceError hierarchy: HTTP status, stable code, problem+json shape, Retry-After."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from barcode_service import errors
from barcode_service.errors import (
    AlreadyKnown,
    ClientBudgetExceeded,
    ContributionLimitExceeded,
    ContributionRefused,
    CredentialsMissing,
    CredentialsNotConfigured,
    DeadlineExceeded,
    EmptyUpload,
    ImageTooLarge,
    InvalidGs1,
    InvalidGtin,
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    NotServed,
    PayloadTooLarge,
    ProcessingStalled,
    ProviderNotConfigured,
    RateLimited,
    ServiceError,
    StorageError,
    UnknownParameter,
    UnreadableUpload,
    Unscannable,
    UnsupportedFileType,
    UnsupportedMediaType,
    UnsupportedType,
    UpstreamAccountError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInArrears,
    UpstreamKeyDisabled,
    UpstreamNoPlan,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

RESET = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def _all_error_classes() -> list[type[ServiceError]]:
    found: list[type[ServiceError]] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


def _instance(cls: type[ServiceError]) -> ServiceError:
    if cls is UpstreamQuotaExhausted:
        return UpstreamQuotaExhausted("quota", reset_at=RESET, now=RESET - timedelta(hours=1))
    if cls is MethodNotAllowed:
        return MethodNotAllowed("DELETE", ["GET", "OPTIONS"])
    if cls is UnknownParameter:
        return UnknownParameter(["colour"])
    return cls("something went wrong")


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (ServiceError, 500, "internal_error"),
        (InvalidParameter, 400, "invalid_parameter"),
        (InvalidGtin, 400, "invalid_gtin"),
        (InvalidGs1, 400, "invalid_parameter"),
        (UnknownParameter, 400, "invalid_parameter"),
        (UnsupportedMediaType, 415, "unsupported_media_type"),
        (MethodNotAllowed, 405, "method_not_allowed"),
        (Unscannable, 422, "unscannable"),
        (UnsupportedType, 400, "unsupported_type"),
        (UnsupportedFileType, 400, "unsupported_type"),
        (NotFound, 404, "not_found"),
        (NotServed, 404, "not_served"),
        (PayloadTooLarge, 413, "payload_too_large"),
        (RateLimited, 429, "rate_limited"),
        (ClientBudgetExceeded, 429, "client_budget_exceeded"),
        (AlreadyKnown, 409, "already_known"),
        (ContributionRefused, 403, "contribution_refused"),
        (ContributionLimitExceeded, 429, "contribution_limit_exceeded"),
        (EmptyUpload, 422, "empty_upload"),
        (UnreadableUpload, 422, "unreadable_upload"),
        (ImageTooLarge, 422, "image_too_large"),
        (DeadlineExceeded, 503, "deadline_exceeded"),
        (ProcessingStalled, 503, "processing_stalled"),
        (StorageError, 503, "storage_error"),
        (UpstreamError, 502, "upstream_error"),
        (UpstreamRejected, 502, "upstream_rejected"),
        (UpstreamUnavailable, 503, "upstream_unavailable"),
        (UpstreamTimeout, 503, "upstream_timeout"),
        (UpstreamRateLimited, 429, "rate_limited"),
        (UpstreamAuthFailed, 503, "upstream_auth_failed"),
        (CredentialsMissing, 503, "upstream_auth_failed"),
        (CredentialsNotConfigured, 503, "upstream_auth_failed"),
        (ProviderNotConfigured, 503, "upstream_not_configured"),
        (UpstreamKeyDisabled, 503, "upstream_key_disabled"),
        (UpstreamNoPlan, 503, "upstream_no_plan"),
        (UpstreamPlanExhausted, 503, "upstream_plan_exhausted"),
        (UpstreamInArrears, 503, "upstream_in_arrears"),
        (UpstreamQuotaExhausted, 503, "upstream_quota_exhausted"),
    ],
)
def test_problem_shape_status_and_code(cls: type[ServiceError], status: int, code: str) -> None:
    error = _instance(cls)
    problem = error.to_problem()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys()
    assert problem["status"] == status == error.status
    assert problem["code"] == code == error.code
    assert problem["type"] == f"https://barcode-backend.dev/problems/{code}"
    assert problem["title"] == cls.title
    assert problem["title"]
    assert problem["detail"] == error.detail
    json.dumps(problem)  # serialisable as the problem+json body


def test_every_error_class_is_covered_by_the_table() -> None:
    names = {cls.__name__ for cls in _all_error_classes()}
    assert names == {
        "ServiceError",
        "InvalidParameter",
        "InvalidGtin",
        "InvalidGs1",
        "UnknownParameter",
        "UnsupportedMediaType",
        "MethodNotAllowed",
        "Unscannable",
        "UnsupportedType",
        "UnsupportedFileType",
        "NotFound",
        "NotServed",
        "PayloadTooLarge",
        "EmptyUpload",
        "UnreadableUpload",
        "ImageTooLarge",
        "DeadlineExceeded",
        "ProcessingStalled",
        "StorageError",
        "RateLimited",
        "ClientBudgetExceeded",
        "AlreadyKnown",
        "ContributionRefused",
        "ContributionLimitExceeded",
        "UpstreamError",
        "UpstreamRejected",
        "UpstreamUnavailable",
        "UpstreamTimeout",
        "UpstreamRateLimited",
        "UpstreamAccountError",
        "UpstreamAuthFailed",
        "CredentialsMissing",
        "CredentialsNotConfigured",
        "ProviderNotConfigured",
        "UpstreamKeyDisabled",
        "UpstreamNoPlan",
        "UpstreamPlanExhausted",
        "UpstreamInArrears",
        "UpstreamQuotaExhausted",
    }


def test_problem_without_extra_has_exactly_the_five_members() -> None:
    assert set(InvalidGtin("bad check digit").to_problem()) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
    }


def test_extra_members_are_added_but_cannot_replace_core_members() -> None:
    error = NotFound(
        "no product for 6901234567892",
        extra={"gs1_prefix": {"prefix": "690", "issuer": "GS1 China"}, "status": 200, "code": "x"},
    )
    problem = error.to_problem()
    assert problem["gs1_prefix"] == {"prefix": "690", "issuer": "GS1 China"}
    assert problem["status"] == 404
    assert problem["code"] == "not_found"


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda cls: cls.__name__)
def test_every_429_and_503_carries_retry_after(cls: type[ServiceError]) -> None:
    error = _instance(cls)
    if error.status in (429, 503):
        assert isinstance(error.retry_after, int)
        assert error.retry_after >= 1
    else:
        assert error.retry_after is None


@pytest.mark.parametrize(
    ("cls", "default"),
    [
        (RateLimited, 1),
        (UpstreamRateLimited, 1),
        (UpstreamUnavailable, 30),
        (UpstreamTimeout, 30),
        (UpstreamAuthFailed, 3600),
        (UpstreamKeyDisabled, 3600),
        (UpstreamNoPlan, 3600),
        (UpstreamPlanExhausted, 3600),
        (UpstreamInArrears, 3600),
        (CredentialsMissing, 3600),
    ],
)
def test_retry_after_defaults_and_overrides(cls: type[ServiceError], default: int) -> None:
    assert cls("x").retry_after == default
    assert cls("x", retry_after=7).retry_after == 7


def test_retry_after_is_not_part_of_the_problem_body() -> None:
    # It travels as the Retry-After header (api.problem_response), not as a member.
    assert "retry_after" not in UpstreamUnavailable("down").to_problem()


def test_hierarchy_lets_callers_catch_by_family() -> None:
    assert issubclass(UpstreamTimeout, UpstreamUnavailable)
    assert issubclass(UpstreamUnavailable, UpstreamError)
    assert issubclass(UpstreamRateLimited, UpstreamError)
    assert issubclass(UpstreamQuotaExhausted, UpstreamError)
    assert issubclass(CredentialsMissing, UpstreamAuthFailed)
    for cls in (UpstreamAuthFailed, UpstreamKeyDisabled, UpstreamNoPlan, UpstreamInArrears):
        assert issubclass(cls, UpstreamAccountError)
    assert not issubclass(UpstreamQuotaExhausted, UpstreamAccountError)
    assert not issubclass(InvalidGtin, UpstreamError)


def test_quota_exhausted_retry_after_counts_to_the_reset() -> None:
    now = datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC)
    error = UpstreamQuotaExhausted("daily quota used up", reset_at=RESET, now=now)
    assert error.retry_after == 1
    assert error.reset_at == RESET
    problem = error.to_problem()
    assert problem["reset_at"] == "2026-11-25T16:00:00+00:00"
    assert problem["code"] == "upstream_quota_exhausted"
    assert problem["status"] == 503


def test_quota_exhausted_retry_after_hours_ahead() -> None:
    now = RESET - timedelta(hours=8)
    error = UpstreamQuotaExhausted("daily quota used up", reset_at=RESET, now=now)
    assert error.retry_after == 8 * 3600


def test_quota_exhausted_rounds_a_part_second_up() -> None:
    # Coming back before the reset only meets the same answer: never round down.
    now = RESET - timedelta(seconds=1, milliseconds=500)
    error = UpstreamQuotaExhausted("daily quota used up", reset_at=RESET, now=now)
    assert error.retry_after == 2


def test_quota_exhausted_in_the_past_still_asks_for_one_second() -> None:
    error = UpstreamQuotaExhausted("x", reset_at=RESET, now=RESET + timedelta(minutes=5))
    assert error.retry_after == 1


def test_quota_exhausted_defaults_now_to_the_current_time() -> None:
    reset = datetime.now(UTC) + timedelta(hours=2)
    error = UpstreamQuotaExhausted("x", reset_at=reset)
    assert error.retry_after is not None
    assert 2 * 3600 - 5 <= error.retry_after <= 2 * 3600


@pytest.mark.parametrize(
    ("cls", "seconds"),
    [
        (UpstreamAuthFailed, 60),
        (CredentialsMissing, 60),
        (UpstreamKeyDisabled, 900),
        (UpstreamNoPlan, 900),
        (UpstreamPlanExhausted, 900),
        (UpstreamInArrears, 60),  # not in the table: blocks like a rejected key
    ],
)
def test_account_errors_carry_their_block_duration(
    cls: type[UpstreamAccountError], seconds: int
) -> None:
    assert cls("x").block_seconds == seconds
    assert errors.account_block(cls.code)[1] == seconds


def test_an_error_is_copied_not_changed_in_flight() -> None:
    from barcode_service.errors import UpstreamQuotaExhausted

    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    raised = UpstreamQuotaExhausted("used up", reset_at=now + timedelta(hours=4), now=now)
    copy = raised.copy(retry_after=60, extra={"provider": "baichuan"}, headers={"X": "1"})
    assert (copy.retry_after, copy.extra["provider"], copy.headers) == (60, "baichuan", {"X": "1"})
    assert copy.extra["reset_at"] == raised.extra["reset_at"]
    assert (raised.retry_after, "provider" in raised.extra, raised.headers) == (4 * 3600, False, {})
    assert type(copy) is UpstreamQuotaExhausted
    assert copy.reset_at == raised.reset_at
    assert raised.about("code") is not raised
    assert not raised.invalid_params

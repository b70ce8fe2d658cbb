"""Sharing with Open Food Facts against a fake write API with its real answer shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import requests
import responses
from pydantic import SecretStr

from barcode_service import deadline as request_deadline
from barcode_service.community.model import CodeRecord, Contribution, Description, ShareState
from barcode_service.community.share import (
    DISABLED,
    OpenFoodFactsWriter,
    ShareMessage,
    Sharing,
    app_uuid,
)
from barcode_service.community.store import DynamoCommunityStore
from barcode_service.credentials import OpenFoodFactsAccount
from barcode_service.errors import (
    CredentialsNotConfigured,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamUnavailable,
)
from barcode_service.transport import RetryPolicy
from tests.conftest import TABLE
from tests.support.upstreams import (
    OFF_BAD_LOGIN_PAGE,
    off_write_accepted,
    off_write_refused,
    off_write_url,
)

GTIN = "00012345678905"
STAGING = "https://world.openfoodfacts.net"
ACCOUNT = OpenFoodFactsAccount(user_id=SecretStr("app-bot"), password=SecretStr("pw-SECRET-5555"))


@pytest.fixture
def fake() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def writer(accounts: list[OpenFoodFactsAccount] | None = None) -> OpenFoodFactsWriter:
    given = accounts or [ACCOUNT]

    def account(refresh: bool) -> OpenFoodFactsAccount:
        return given[-1] if refresh else given[0]

    return OpenFoodFactsWriter(
        STAGING,
        account,
        requests.Session(),
        policy=RetryPolicy(attempts=2, backoff=0),
        app_name="PantryPal",
        app_version="1.2.3",
    )


def soap(share: ShareState | None = None) -> Contribution:
    return Contribution(
        "alice-hash", Description("Soap", "Clean", "1 l", "Soaps"), 1, 1, share=share
    )


def form_of(call: Any) -> dict[str, list[str]]:
    return parse_qs(str(call.request.body))


def test_the_write_is_a_form_with_the_account_the_app_and_an_anonymous_user(
    fake: responses.RequestsMock,
) -> None:
    fake.post(off_write_url(STAGING), json=off_write_accepted())
    verdict = writer().send(GTIN, soap())
    assert (verdict.accepted, verdict.reason) == (True, "fields saved")
    form = form_of(fake.calls[0])
    assert form == {
        "code": ["0012345678905"],
        "product_name": ["Soap"],
        "brands": ["Clean"],
        "quantity": ["1 l"],
        "categories": ["Soaps"],
        "user_id": ["app-bot"],
        "password": ["pw-SECRET-5555"],
        "app_name": ["PantryPal"],
        "app_version": ["1.2.3"],
        "app_uuid": [app_uuid("alice-hash")],
        "comment": ["community catalog of PantryPal"],
    }
    assert app_uuid("alice-hash") != app_uuid("bob-hash")
    assert "alice-hash" not in app_uuid("alice-hash")


@pytest.mark.parametrize(
    ("answer", "accepted", "reason"),
    [
        (off_write_accepted(), True, "fields saved"),
        (off_write_refused("not modified"), True, "Open Food Facts already had these fields"),
        (off_write_refused("no code or invalid code"), False, "no code or invalid code"),
        (off_write_refused("Edit against edit rules"), False, "Edit against edit rules"),
        (off_write_refused("no user credentials"), False, "no user credentials"),
        ({"status": 0}, False, "no reason given"),
    ],
)
def test_verdicts(
    answer: dict[str, Any], accepted: bool, reason: str, fake: responses.RequestsMock
) -> None:
    fake.post(off_write_url(STAGING), json=answer)
    verdict = writer().send(GTIN, soap())
    assert verdict.accepted is accepted
    assert reason in verdict.reason


def test_a_refused_account_is_fetched_again_once(fake: responses.RequestsMock) -> None:
    fake.post(off_write_url(STAGING), body=OFF_BAD_LOGIN_PAGE, status=403)
    rotated = OpenFoodFactsAccount(user_id=SecretStr("app-bot"), password=SecretStr("new-pw"))
    with pytest.raises(UpstreamAuthFailed) as refused:
        writer([ACCOUNT, rotated]).send(GTIN, soap())
    assert [form_of(c)["password"] for c in fake.calls] == [["pw-SECRET-5555"], ["new-pw"]]
    assert "pw-SECRET" not in str(refused.value.to_problem())


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, "upstream connect error", UpstreamUnavailable),
        (200, "<html><body>maintenance</body></html>", UpstreamError),
        (200, '{"unexpected": true}', UpstreamError),
    ],
)
def test_no_verdict_is_an_error_to_retry(
    status: int, body: str, error: type[Exception], fake: responses.RequestsMock
) -> None:
    fake.post(off_write_url(STAGING), body=body, status=status)
    with pytest.raises(error):
        writer().send(GTIN, soap())


# --- Sharing: once in the request, then from the queue --------------------------------------


class Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # boto3's names
        if self.down:
            raise RuntimeError("sqs is down")
        self.sent.append(MessageBody)


@pytest.fixture
def records(table: str) -> DynamoCommunityStore:
    store = DynamoCommunityStore(TABLE, boto3.client("dynamodb"))
    store.change(GTIN, lambda record: record.with_contribution(soap(ShareState("queued", "new"))))
    return store


def sharing(records: DynamoCommunityStore, queue: Queue, *, enabled: bool = True) -> Sharing:
    made = writer()
    return Sharing(
        records,
        (lambda: made) if enabled else None,
        sqs=queue,
        queue_url="https://sqs.example/shares",
        max_receive_count=3,
    )


def current(records: DynamoCommunityStore) -> ShareState:
    record = records.get(GTIN)
    assert record is not None
    share = record.contributions[0].share
    assert share is not None
    return share


def record_of(records: DynamoCommunityStore) -> CodeRecord:
    record = records.get(GTIN)
    assert record is not None
    return record


def test_sharing_off_is_said_and_nothing_is_sent(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    state = sharing(records, Queue(), enabled=False).first_attempt(record_of(records), "alice-hash")
    assert (state.status, state.reason) == ("disabled", DISABLED)
    assert current(records) == state
    assert not fake.calls


def test_no_account_in_the_secret_is_sharing_off(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    def no_account(refresh: bool) -> OpenFoodFactsAccount:
        raise CredentialsNotConfigured("secret has no 'openfoodfacts'")

    share = Sharing(
        records,
        lambda: OpenFoodFactsWriter(
            STAGING,
            no_account,
            requests.Session(),
            policy=RetryPolicy(),
            app_name="a",
            app_version="1",
        ),
        sqs=Queue(),
        queue_url="q",
        max_receive_count=3,
    )
    assert share.first_attempt(record_of(records), "alice-hash").status == "disabled"


def test_a_failed_first_attempt_is_queued_then_retried_until_accepted(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    queue = Queue()
    down = fake.post(off_write_url(STAGING), status=502)
    share = sharing(records, queue)
    state = share.first_attempt(record_of(records), "alice-hash")
    assert len(fake.calls) == 1, "one attempt in the request: the queue retries"
    assert state.status == "queued"
    assert (
        state.reason
        == "Open Food Facts could not be reached (upstream_unavailable); it will be retried"
    )
    (body,) = queue.sent
    message = ShareMessage.parse(json.loads(body))
    assert message == ShareMessage(GTIN, "alice-hash")
    assert "Soap" not in body, "the queue holds which contribution, never its text"

    with pytest.raises(UpstreamUnavailable):
        share.retry(message, receive_count=1)
    assert (current(records).status, current(records).attempts) == ("queued", 2)
    fake.remove(down)
    fake.post(off_write_url(STAGING), json=off_write_accepted())
    accepted = share.retry(message, receive_count=2)
    assert accepted is not None
    assert (accepted.status, accepted.attempts) == ("accepted", 3)
    assert share.retry(message, receive_count=3) is None, "a settled share is not sent again"


def test_the_last_delivery_records_the_failure_for_the_dead_letter_queue(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    fake.post(off_write_url(STAGING), status=503)
    share = sharing(records, Queue())
    with pytest.raises(UpstreamUnavailable):
        share.retry(ShareMessage(GTIN, "alice-hash"), receive_count=3)
    state = current(records)
    assert state.status == "failed"
    assert state.reason.endswith("in the dead-letter queue")
    # A redrive from the dead-letter queue tries it again.
    fake.replace(responses.POST, off_write_url(STAGING), json=off_write_accepted())
    redriven = share.retry(ShareMessage(GTIN, "alice-hash"), receive_count=1)
    assert redriven is not None
    assert redriven.status == "accepted"


def test_a_share_that_cannot_be_queued_is_recorded_as_failed(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    fake.post(off_write_url(STAGING), status=503)
    queue = Queue()
    queue.down = True
    state = sharing(records, queue).first_attempt(record_of(records), "alice-hash")
    assert state.status == "failed"
    assert state.reason.endswith("not queued")


def test_a_share_whose_contribution_is_gone_is_dropped(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    assert sharing(records, Queue()).retry(ShareMessage(GTIN, "nobody"), 1) is None
    assert not fake.calls


def test_sharing_turned_off_meanwhile_settles_a_queued_share(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    state = sharing(records, Queue(), enabled=False).retry(ShareMessage(GTIN, "alice-hash"), 1)
    assert state is not None
    assert state.status == "disabled"
    assert not fake.calls


def test_a_request_without_time_left_queues_the_share_unsent(
    records: DynamoCommunityStore, fake: responses.RequestsMock
) -> None:
    queue = Queue()
    with request_deadline.applying(request_deadline.Deadline.after(0.5)):
        state = sharing(records, queue).first_attempt(record_of(records), "alice-hash")
    assert state.status == "queued"
    assert state.reason.startswith("the request had no time left to send it")
    assert len(queue.sent) == 1
    assert not fake.calls

"""Baichuan lookup client: the form request, products, not found, every documented msg."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from responses import matchers

from barcode_service.errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamKeyDisabled,
    UpstreamNoPlan,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamRejected,
)
from barcode_service.providers import baichuan
from barcode_service.providers.baichuan import (
    UpstreamNotFound,
    UpstreamProduct,
    next_china_midnight,
)
from barcode_service.transport import USER_AGENT
from tests.support.baichuan_client import (
    API_KEY,
    CODE,
    PRODUCT_DATA,
    PROVIDER_EXAMPLE,
    SECRET_KEY,
    URL,
    Keys,
    client,
    failure,
    found,
)

# --- the request -------------------------------------------------------------------


@responses.activate
def test_posts_a_form_with_keys_and_code() -> None:
    responses.post(
        URL,
        json=found(),
        match=[
            matchers.urlencoded_params_matcher(
                {"api_key": API_KEY, "secret_key": SECRET_KEY, "code_sn": CODE}
            )
        ],
    )
    assert isinstance(client().query(CODE), UpstreamProduct)
    request = responses.calls[0].request
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urlsplit(request.url).query == ""  # credentials never ride in the URL
    assert request.headers["User-Agent"] == USER_AGENT


# --- products -----------------------------------------------------------------------


@responses.activate
def test_product_fields() -> None:
    responses.post(URL, json=found())
    assert client().query(CODE) == UpstreamProduct(
        code=CODE,
        name="矿泉水 550ml",
        type="EAN-13",
        company="某某饮料有限公司",
        price="29.90",
        spec="550ml",
        unit="瓶",
        brand="某某",
        image_url="https://img.example.com/a.jpg",
        country="中国",
    )


@responses.activate
def test_numbers_become_strings_as_written() -> None:
    responses.post(
        URL,
        body='{"code": 1, "msg": "查询成功", "data": {"code_sn": 6901234567892, '
        '"code_price": 29.90, "code_spec": 550, "code_name": true}}',
    )
    product = client().query(CODE)
    assert isinstance(product, UpstreamProduct)
    assert product.code == "6901234567892"
    assert product.price == "29.90"
    assert product.spec == "550"
    assert product.name is None  # a boolean is not a name


@responses.activate
def test_empty_and_missing_fields_become_none() -> None:
    responses.post(
        URL,
        json={
            "code": "1",
            "msg": "查询成功",
            "data": {"code_sn": "", "code_name": "  ", "code_price": None, "code_img": ""},
        },
    )
    product = client().query(CODE)
    assert product == UpstreamProduct(
        code=CODE,  # the queried code when the upstream leaves it out
        name=None,
        type=None,
        company=None,
        price=None,
        spec=None,
        unit=None,
        brand=None,
        image_url=None,
        country=None,
    )


@responses.activate
def test_values_are_trimmed() -> None:
    responses.post(URL, json=found(code_name="  矿泉水\n", code_price=" 29.90 "))
    product = client().query(CODE)
    assert isinstance(product, UpstreamProduct)
    assert (product.name, product.price) == ("矿泉水", "29.90")


@responses.activate
def test_a_success_without_msg_is_still_a_product() -> None:
    responses.post(URL, json={"code": 1, "data": PRODUCT_DATA})
    assert isinstance(client().query(CODE), UpstreamProduct)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("/uploads/a.jpg", "https://tiaoma.cnaidc.com/uploads/a.jpg"),
        ("uploads/a.jpg", "https://tiaoma.cnaidc.com/uploads/a.jpg"),
        ("//cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"),
        ("https://img.example.com/b.png", "https://img.example.com/b.png"),
        ("http://img.example.com/b.png", "http://img.example.com/b.png"),
        (" /uploads/a.jpg ", "https://tiaoma.cnaidc.com/uploads/a.jpg"),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("http://[broken/a.jpg", None),
        ("", None),
        (None, None),
    ],
)
@responses.activate
def test_image_url_becomes_absolute_http(image: str | None, expected: str | None) -> None:
    responses.post(URL, json=found(code_img=image))
    product = client().query(CODE)
    assert isinstance(product, UpstreamProduct)
    assert product.image_url == expected
    assert product.name == "矿泉水 550ml"  # a bad image never costs the product


@responses.activate
def test_utf8_bom_is_tolerated() -> None:
    body = "\ufeff" + json.dumps(found(), ensure_ascii=False)
    responses.post(URL, body=body.encode("utf-8"), content_type="text/html")
    product = client().query(CODE)
    assert isinstance(product, UpstreamProduct)
    assert product.company == "某某饮料有限公司"


# --- not found ----------------------------------------------------------------------


@responses.activate
def test_not_found_carries_the_upstream_country() -> None:
    responses.post(URL, json=failure("未找到该条形码对应的产品信息", {"country": "中国"}))
    assert client().query(CODE) == UpstreamNotFound(country="中国")


@pytest.mark.parametrize("data", [None, [], {"country": ""}, {"code_country": "中国"}])
@responses.activate
def test_not_found_without_a_country(data: Any) -> None:
    responses.post(URL, json=failure("未找到该条形码对应的产品信息", data))
    assert client().query(CODE) == UpstreamNotFound(country=None)


# --- documented failures --------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "error", "code"),
    [
        ("参数不完整", UpstreamRejected, "upstream_rejected"),
        ("API Key或Secret Key错误", UpstreamAuthFailed, "upstream_auth_failed"),
        ("API Key已被禁用", UpstreamKeyDisabled, "upstream_key_disabled"),
        ("无可用的套餐", UpstreamNoPlan, "upstream_no_plan"),
        ("套餐查询次数已用完", UpstreamPlanExhausted, "upstream_plan_exhausted"),
        ("今日查询次数已用完", UpstreamQuotaExhausted, "upstream_quota_exhausted"),
    ],
)
@responses.activate
def test_documented_messages_map_to_typed_errors(
    msg: str, error: type[ServiceError], code: str
) -> None:
    responses.post(URL, json=failure(msg))
    keys = Keys()
    with pytest.raises(error) as info:
        client(keys=keys).query(CODE)
    assert type(info.value) is error
    assert info.value.code == code
    assert len(responses.calls) == 1  # none of them is retried
    # Only a key rejection is worth asking the key source again (and it gives the same key).
    assert keys.calls == ([False, True] if error is UpstreamAuthFailed else [False])


@responses.activate
def test_messages_match_with_surrounding_text() -> None:
    responses.post(URL, json=failure("错误：今日查询次数已用完，请明天再试"))
    with pytest.raises(UpstreamQuotaExhausted):
        client(clock=lambda: datetime(2026, 11, 25, 10, tzinfo=UTC)).query(CODE)


@pytest.mark.parametrize(
    ("now", "reset", "retry_after"),
    [
        (datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC), datetime(2026, 11, 25, 16, tzinfo=UTC), 1),
        (
            datetime(2026, 11, 25, 16, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 26, 16, tzinfo=UTC),
            86_399,
        ),
        (datetime(2026, 11, 25, 4, tzinfo=UTC), datetime(2026, 11, 25, 16, tzinfo=UTC), 12 * 3600),
    ],
)
@responses.activate
def test_daily_quota_resets_at_the_next_china_midnight(
    now: datetime, reset: datetime, retry_after: int
) -> None:
    responses.post(URL, json=failure("今日查询次数已用完"))
    with pytest.raises(UpstreamQuotaExhausted) as info:
        client(clock=lambda: now).query(CODE)
    assert info.value.reset_at == reset
    assert info.value.retry_after == retry_after
    assert info.value.to_problem()["reset_at"] == reset.isoformat()


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC), datetime(2026, 11, 25, 16, tzinfo=UTC)),
        (datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC), datetime(2026, 11, 26, 16, tzinfo=UTC)),
        (datetime(2026, 11, 25, 16, 0, 1, tzinfo=UTC), datetime(2026, 11, 26, 16, tzinfo=UTC)),
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), datetime(2027, 1, 1, 16, tzinfo=UTC)),
    ],
)
def test_next_china_midnight(now: datetime, reset: datetime) -> None:
    result = next_china_midnight(now)
    assert result == reset
    assert result.tzinfo == UTC


def test_next_china_midnight_defaults_to_now() -> None:
    before = datetime.now(UTC)
    result = next_china_midnight()
    assert before < result <= before + timedelta(days=1, seconds=1)
    assert result.astimezone(baichuan.CHINA_TZ).time().isoformat() == "00:00:00"


# --- anything else is an upstream error, never a product --------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        "<html><body>风控拦截</body></html>",
        PROVIDER_EXAMPLE,
        "",
        "   ",
        '[{"code": 1}]',
        "null",
        '"查询成功"',
        json.dumps(failure("系统繁忙")),
        json.dumps({"code": 1, "msg": "查询成功"}),
        json.dumps({"code": 1, "msg": "查询成功", "data": "oops"}),
        json.dumps({"code": 1, "msg": "something else", "data": PRODUCT_DATA}),
        json.dumps({"code": 0, "msg": None}),
    ],
    ids=[
        "doctype",
        "html",
        "provider-example-missing-comma",
        "empty",
        "blank",
        "json-array",
        "json-null",
        "json-string",
        "unknown-msg",
        "success-without-data",
        "success-with-string-data",
        "code-1-unknown-msg",
        "null-msg",
    ],
)
@responses.activate
def test_anything_else_is_an_upstream_error(body: str) -> None:
    responses.post(URL, body=body)
    with pytest.raises(UpstreamError) as info:
        client().query(CODE)
    assert type(info.value) is UpstreamError
    assert info.value.status == 502
    assert len(responses.calls) == 1


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404])
@responses.activate
def test_unexpected_http_status_is_an_upstream_error_not_retried(status: int) -> None:
    responses.post(URL, status=status, json=found())
    with pytest.raises(UpstreamError, match=f"HTTP {status}") as info:
        client().query(CODE)
    assert type(info.value) is UpstreamError
    assert len(responses.calls) == 1

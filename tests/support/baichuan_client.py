"""Baichuan client test helpers: its keys, bodies, the documented example and the client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from barcode_service.providers.baichuan import (
    BaichuanClient,
)
from barcode_service.transport import RetryPolicy

URL = "https://tiaoma.cnaidc.com/api/api_query.php"
API_KEY = "bc-apikey-SECRET-2222"
SECRET_KEY = "bc-secret-SECRET-3333"
NEW_KEYS = ("bc-apikey-ROTATED-8888", "bc-secret-ROTATED-7777")
CODE = "6901234567892"
FAST = RetryPolicy(backoff=0, max_backoff=0.001)

PRODUCT_DATA: dict[str, Any] = {
    "code_sn": CODE,
    "code_name": "矿泉水 550ml",
    "code_type": "EAN-13",
    "code_company": "某某饮料有限公司",
    "code_price": "29.90",
    "code_spec": "550ml",
    "code_unit": "瓶",
    "code_pinpai": "某某",
    "code_img": "https://img.example.com/a.jpg",
    "code_country": "中国",
}

# The provider's own documented example: note the missing comma after "code_type".
PROVIDER_EXAMPLE = """{
    "code": 1,
    "msg": "查询成功",
    "data": {
        "code_sn": "6901234567892",
        "code_name": "矿泉水",
        "code_type": "EAN-13"
        "code_company": "某某饮料有限公司",
        "code_price": "29.90"
    }
}"""


def found(**data: Any) -> dict[str, Any]:
    return {"code": 1, "msg": "查询成功", "data": {**PRODUCT_DATA, **data}}


def failure(msg: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": 0, "msg": msg}
    if data is not None:
        body["data"] = data
    return body


class Keys:
    """A key source that records how it was asked (refresh or not)."""

    def __init__(self, *keys: tuple[str, str]) -> None:
        self.keys = list(keys) or [(API_KEY, SECRET_KEY)]
        self.calls: list[bool] = []

    def __call__(self, refresh: bool) -> tuple[str, str]:
        self.calls.append(refresh)
        return self.keys[min(len(self.calls), len(self.keys)) - 1]


def client(keys: Keys | None = None, **kw: Any) -> BaichuanClient:
    return BaichuanClient(URL, keys or Keys(), policy=kw.pop("policy", FAST), **kw)


def form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)

"""GuGuData client test helpers: bodies in both spellings, a recording key source, the client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from barcode_service.gugudata import GuGuDataClient, RequestMode
from barcode_service.transport import RetryPolicy

URL = "https://api.gugudata.com/barcode/barcode"
IO_URL = "https://api.gugudata.io/v1/barcode"
KEY = "gg-appkey-SECRET-1111"
NEW_KEY = "gg-appkey-ROTATED-9999"
IMAGE = "https://cdn.gugudata.com/barcode/2026/abc.png"
FAST = RetryPolicy(backoff=0, max_backoff=0.001)

ARGS: dict[str, Any] = {"type": "EAN13", "content": "6901234567892", "width": 300, "height": 120}


def pascal(code: int = 100, url: str | None = IMAGE, description: str = "ok") -> dict[str, Any]:
    data: dict[str, Any] = {"Content": "EAN13:6901234567892"}
    if url is not None:
        data["Url"] = url
    return {
        "DataStatus": {
            "StatusCode": code,
            "StatusDescription": description,
            "ResponseDateTime": "2026-11-25 10:00:00",
            "DataTotalCount": 1,
        },
        "Data": data,
    }


def camel(code: int = 100, url: str = IMAGE) -> dict[str, Any]:
    return {
        "dataStatus": {"statusCode": code, "statusDescription": "ok"},
        "data": {"content": "EAN13:6901234567892", "url": url},
    }


class Keys:
    """An appkey source that records how it was asked (refresh or not)."""

    def __init__(self, *keys: str) -> None:
        self.keys = list(keys)
        self.calls: list[bool] = []

    def __call__(self, refresh: bool) -> str:
        self.calls.append(refresh)
        return self.keys[min(len(self.calls), len(self.keys)) - 1]


def client(
    mode: RequestMode = "get", keys: Keys | None = None, url: str = URL, **kw: Any
) -> GuGuDataClient:
    return GuGuDataClient(url, keys or Keys(KEY), mode=mode, policy=kw.pop("policy", FAST), **kw)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)

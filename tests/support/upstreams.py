"""Upstream answer bodies as upstreams.md documents them, for `responses` and fake servers."""

from __future__ import annotations

from typing import Any

BAICHUAN_URL = "https://tiaoma.cnaidc.com/api/api_query.php"
GUGUDATA_URL = "https://api.gugudata.com/barcode/barcode"


def baichuan_found(code: str, name: str = "Test Product", **overrides: str) -> dict[str, Any]:
    data = {
        "code_sn": code,
        "code_name": name,
        "code_type": "食品",
        "code_company": "Example Foods Co., Ltd.",
        "code_price": "29.90",
        "code_spec": "500g",
        "code_unit": "袋",
        "code_pinpai": "Example",
        "code_img": "/uploads/img/" + code + ".jpg",
        "code_country": "中国",
    }
    data.update(overrides)
    return {"code": 1, "msg": "查询成功", "data": data}


def baichuan_not_found(country: str = "中国") -> dict[str, Any]:
    return {"code": 0, "msg": "未找到该条形码对应的产品信息", "data": {"country": country}}


def baichuan_failure(msg: str) -> dict[str, Any]:
    return {"code": 0, "msg": msg}


def gugudata_success(
    content: str, url: str = "https://cdn.example.com/b/abc.png"
) -> dict[str, Any]:
    return {
        "DataStatus": {
            "StatusCode": 100,
            "StatusDescription": "OK",
            "ResponseDateTime": "2026-11-25 22:00:00",
            "DataTotalCount": 1,
        },
        "Data": {"Content": content, "Url": url},
    }

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


# --- keyless providers (upstreams.md section 4) -------------------------------------

OFF_URL = "https://world.openfoodfacts.org"
OPENLIBRARY_URL = "https://openlibrary.org"


def off_product_url(code: str, base: str = OFF_URL) -> str:
    return f"{base}/api/v2/product/{code}"


def off_found(code: str, name: str = "Nutella", **overrides: Any) -> dict[str, Any]:
    """Open Food Facts API v2 found answer (limited by `fields=`)."""
    product: dict[str, Any] = {
        "code": code,
        "product_name": name,
        "product_name_en": name,
        "generic_name": "Hazelnut spread with cocoa",
        "brands": "Ferrero, Nutella",
        "brand_owner": "Ferrero",
        "quantity": "400 g",
        "product_quantity": "400",
        "product_quantity_unit": "g",
        "image_front_url": f"https://images.openfoodfacts.org/images/products/{code}/front_en.jpg",
        "categories": "Spreads, Sweet spreads, Hazelnut spreads",
        "countries": "France, Germany, Italy",
        "origins": "Italy",
        "manufacturing_places": "Villers-Écalles, France",
        "nutriscore_grade": "e",
        "nova_group": 4,
        "ingredients_text": "Sugar, palm oil, hazelnuts 13%, skimmed milk powder 8.7%",
        "allergens_tags": ["en:milk", "en:nuts", "en:soybeans"],
        "lang": "en",
    }
    product.update(overrides)
    return {"code": code, "product": product, "status": 1, "status_verbose": "product found"}


def off_not_found(code: str) -> dict[str, Any]:
    """Not found: HTTP 404 from current servers, HTTP 200 from older ones; same body."""
    return {"code": code, "status": 0, "status_verbose": "product not found"}


def openlibrary_books_url(base: str = OPENLIBRARY_URL) -> str:
    return f"{base}/api/books"


def openlibrary_found(isbn13: str, title: str = "Fantastic Mr Fox") -> dict[str, Any]:
    """Open Library Books API, jscmd=data, for one ISBN."""
    return {
        f"ISBN:{isbn13}": {
            "url": f"https://openlibrary.org/books/OL7353617M/{title.replace(' ', '_')}",
            "key": "/books/OL7353617M",
            "title": title,
            "subtitle": "A Puffin Book",
            "authors": [{"url": "https://openlibrary.org/authors/OL34184A", "name": "Roald Dahl"}],
            "number_of_pages": 96,
            "identifiers": {"isbn_10": ["0140328726"], "isbn_13": [isbn13]},
            "publishers": [{"name": "Puffin"}],
            "publish_date": "October 1, 1988",
            "cover": {
                "small": "https://covers.openlibrary.org/b/id/8739161-S.jpg",
                "medium": "https://covers.openlibrary.org/b/id/8739161-M.jpg",
                "large": "https://covers.openlibrary.org/b/id/8739161-L.jpg",
            },
        }
    }

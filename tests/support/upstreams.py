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
OBF_URL = "https://world.openbeautyfacts.org"
OPFF_URL = "https://world.openpetfoodfacts.org"
OPF_URL = "https://world.openproductsfacts.org"
OPENLIBRARY_URL = "https://openlibrary.org"
UPCITEMDB_URL = "https://api.upcitemdb.com"
UPCITEMDB_TRIAL_URL = UPCITEMDB_URL + "/prod/trial/lookup"
UPCITEMDB_PAID_URL = UPCITEMDB_URL + "/prod/v1/lookup"


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


def obf_found(code: str, name: str = "Shampoo Douceur") -> dict[str, Any]:
    """An Open Beauty Facts product (asked with product_type=all): no Nutri-Score, NOVA."""
    product: dict[str, Any] = {
        "code": code,
        "product_type": "beauty",
        "product_name": name,
        "brands": "Ultra Doux, Garnier",
        "brand_owner": "L'Oréal",
        "quantity": "250 ml",
        "image_front_url": f"https://images.openbeautyfacts.org/images/products/{code}/front_fr.jpg",
        "categories": "Hygiene, Hair care, Shampoos",
        "countries": "France",
        "lang": "fr",
    }
    return {"code": code, "product": product, "status": 1, "status_verbose": "product found"}


def opff_found(code: str, name: str = "Adult dry cat food") -> dict[str, Any]:
    """An Open Pet Food Facts product (asked with product_type=all)."""
    product: dict[str, Any] = {
        "code": code,
        "product_type": "petfood",
        "product_name": name,
        "brands": "Purina One",
        "quantity": "800 g",
        "categories": "Pet food, Cat food, Dry cat food",
        "lang": "en",
    }
    return {"code": code, "product": product, "status": 1, "status_verbose": "product found"}


def off_redirect(code: str, base: str) -> dict[str, Any]:
    """What Open Food Facts answers for a product of a sister database, asked with
    product_type=all: a redirect to the same read on that database's instance."""
    location = f"{off_product_url(code, base)}?product_type=all"
    return {"status": 302, "headers": {"Location": location}, "body": ""}


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


# --- UPCitemdb (upstreams.md section 5) ------------------------------------------------


def upcitemdb_found(upc: str, title: str = "Clorox Disinfecting Wipes, 75 Count") -> dict[str, Any]:
    """A lookup of a 12-digit UPC-A that found the item (trial and paid answer alike)."""
    item = {
        "ean": "0" + upc,
        "title": title,
        "description": "Kills 99.9% of viruses and bacteria; bleach-free.",
        "upc": upc,
        "brand": "Clorox",
        "model": "01594",
        "color": "",
        "size": "75 Count",
        "dimension": "5.6 X 5.6 X 7.6 inches",
        "weight": "1.6 Pounds",
        "category": "Home & Garden > Household Supplies > Household Cleaning Supplies",
        "currency": "",
        "lowest_recorded_price": 2.99,
        "highest_recorded_price": 14.88,
        "images": [
            "https://i5.walmartimages.com/asr/clorox-wipes.jpeg",
            "not a url",
            "http://img.example.com/clorox.jpg",
        ],
        "offers": [
            {
                "merchant": "Walmart.com",
                "domain": "walmart.com",
                "title": title,
                "currency": "",
                "list_price": "",
                "price": 5.47,
                "shipping": "Free Shipping",
                "condition": "New",
                "availability": "",
                "link": "https://www.upcitemdb.com/norob/alink/?id=...",
                "updated_t": 1700000000,
            }
        ],
    }
    return {"code": "OK", "total": 1, "offset": 0, "items": [item]}


def upcitemdb_not_found() -> dict[str, Any]:
    return {"code": "OK", "total": 0, "offset": 0, "items": []}


def upcitemdb_error(code: str, message: str = "") -> dict[str, Any]:
    """An error answer: INVALID_UPC (400), EXCEED_LIMIT / TOO_FAST (429), SERVER_ERR (5xx)."""
    return {"code": code, "message": message or code.replace("_", " ").lower()}


def upcitemdb_headers(remaining: int, reset: int, limit: int = 100) -> dict[str, str]:
    """The rate-limit headers every UPCitemdb answer carries (`reset`: a unix time)."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


# --- Open Food Facts' write API (upstreams.md section 5; /cgi/product_jqm2.pl) -----------


def off_write_url(base: str = OFF_URL) -> str:
    return f"{base}/cgi/product_jqm2.pl"


def off_write_accepted() -> dict[str, Any]:
    """HTTP 200: the fields were saved."""
    return {"status": 1, "status_verbose": "fields saved"}


def off_write_refused(reason: str = "no code or invalid code") -> dict[str, Any]:
    """HTTP 200 with status 0: refused (`no code or invalid code`, `Edit against edit
    rules`, `no user credentials`), or `not modified` when the same fields were there."""
    return {"status": 0, "status_verbose": reason}


# A wrong user_id/password: Product Opener answers its HTML error page with HTTP 403.
OFF_BAD_LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Error</title></head><body>"
    "<p>Incorrect user name or password.</p></body></html>"
)

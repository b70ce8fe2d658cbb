"""The `/v1/docs` explorer in a real headless browser (Debian's Chromium, driven by
Playwright): the page loads with no console error, lists every operation of the
document, and a "Try it out" lookup with the local API key answers 200.

CI always has /usr/bin/chromium (.ci/run installs it); without it the test is skipped.
Playwright never downloads a browser here: it drives the system one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.fake_upstreams import FOUND_CODE
from tests.e2e.running import API_KEY, RunningStack

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
DOCUMENT = Path(__file__).resolve().parents[2] / "layers/shared/barcode_service/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
WAIT_MS = 30_000

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is not installed (apt-get install -y chromium; .ci/run does it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


def operations() -> list[tuple[str, str]]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    ]


def test_the_explorer_lists_every_operation_and_tries_a_lookup(stack: RunningStack) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{stack.api}/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=WAIT_MS)

            listed = {
                (
                    block.locator(".opblock-summary-method").inner_text().strip().upper(),
                    block.locator(".opblock-summary-path").get_attribute("data-path") or "",
                )
                for block in page.locator(".opblock").all()
            }
            assert set(operations()) <= listed, sorted(set(operations()) - listed)

            # Authorize with the local key (the document's ApiKey scheme: x-api-key).
            page.click("button.authorize")
            page.fill(".modal-ux input[type=text], .modal-ux input[type=password]", API_KEY)
            page.click(".modal-ux button.authorize[type=submit]")
            page.click(".modal-ux button.btn-done")

            lookup = (
                page.locator("#operations-products-getProduct, .opblock-get")
                .filter(has=page.locator('[data-path="/products/{code}"]'))
                .first
            )
            lookup.locator(".opblock-summary").click()
            try_it = lookup.locator("button.try-out__btn")
            if try_it.count() and "Cancel" not in try_it.inner_text():
                try_it.click()
            lookup.locator('tr[data-param-name="code"] input').fill(FOUND_CODE)
            with page.expect_response(lambda r: "/products/" in r.url) as answered:
                lookup.locator("button.execute").click()
            response = answered.value
            assert response.status == 200, response.text()
            assert json.loads(response.text())["gtin"].endswith(FOUND_CODE)
            lookup.locator(".live-responses-table .response-col_status").first.wait_for()
        finally:
            browser.close()
    assert errors == []

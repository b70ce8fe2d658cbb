"""Redaction: credential values blanked in text and in urllib3's log records."""

from __future__ import annotations

import logging

import pytest
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
)
from urllib3.util.retry import Retry

from barcode_service.redaction import redact
from tests.support.transport_fakes import (
    SECRET,
)

# --- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"/barcode/barcode?appkey={SECRET}&type=EAN13",
        f"appkey={SECRET}",
        f"APPKEY={SECRET}",
        f"appKey={SECRET}&x=1",
        f"api_key={SECRET}&secret_key={SECRET}&code_sn=690",
        f'{{"appkey": "{SECRET}", "type": "EAN13"}}',
        f"{{'api_key': '{SECRET}'}}",
        f"secret_key: {SECRET}",
        f"apikey={SECRET}",
    ],
)
def test_redact_blanks_credential_values(text: str) -> None:
    redacted = redact(text)
    assert SECRET not in redacted
    assert "***" in redacted


def test_redact_keeps_everything_else() -> None:
    text = f"GET /barcode/barcode?appkey={SECRET}&type=EAN13&content=690123 HTTP/1.1"
    assert redact(text) == "GET /barcode/barcode?appkey=***&type=EAN13&content=690123 HTTP/1.1"
    assert redact("nothing secret here") == "nothing secret here"


def test_redact_also_scrubs_known_values_anywhere() -> None:
    text = f"APPKEY {SECRET} 无效 (key {SECRET})"
    redacted = redact(text, (SECRET, ""))
    assert SECRET not in redacted
    assert redacted == "APPKEY *** 无效 (key ***)"


# --- urllib3 log redaction -----------------------------------------------------------------

REQUEST_LINE = '%s://%s:%s "%s %s %s" %s %s'


def _secret_free(caplog: pytest.LogCaptureFixture) -> str:
    text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET not in text
    return text


def test_urllib3_request_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        REQUEST_LINE,
        "https",
        "api.gugudata.com",
        443,
        "GET",
        f"/barcode/barcode?appkey={SECRET}&type=EAN13",
        "HTTP/1.1",
        200,
        123,
    )
    text = _secret_free(caplog)
    assert '"GET /barcode/barcode?appkey=***&type=EAN13 HTTP/1.1" 200 123' in text


def test_urllib3_warnings_with_urls_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"https://api.gugudata.com/barcode/barcode?appkey={SECRET}"
    logging.getLogger("urllib3.connection").warning(
        "Failed to parse headers (url=%s): %s", url, "x"
    )
    logging.getLogger("urllib3.connectionpool").warning(
        "Retrying (%r) after connection broken by '%r': %s", "Retry(total=1)", "boom", url
    )
    text = _secret_free(caplog)
    assert text.count("appkey=***") >= 2


def test_urllib3_retry_log_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    error = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    retry = Retry(total=2).increment("GET", f"/api/api_query.php?api_key={SECRET}", error=error)
    with pytest.raises(MaxRetryError):
        Retry(total=0).increment("GET", f"/x?appkey={SECRET}", error=error)
    assert retry.total == 1
    text = _secret_free(caplog)
    assert "Incremented Retry for (url='/api/api_query.php?api_key=***')" in text


def test_mapping_args_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug("url %(url)s", {"url": f"?appkey={SECRET}"})
    assert "url ?appkey=***" in _secret_free(caplog)


def test_a_broken_log_call_is_still_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(f"?appkey={SECRET} %d", "not a number")
    assert "?appkey=*** %d" in _secret_free(caplog)

"""Keeping credentials out of logs: `redact()` for text, one filter for library loggers.

Libraries log at DEBUG what we never want in a log: urllib3 prints request lines
(query strings with keys), botocore prints whole response bodies (a GetSecretValue
body is the secret itself). `install()` puts the one filter on such loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# `appkey=v` (query string, form body) and `"appkey": "v"` (JSON echoed back in an error).
_SECRET_FIELD = re.compile(
    r"""(\b(?:app_?key|api_?key|secret_?key)["']?\s*[=:]\s*["']?)[^&\s"',;}]+""",
    re.IGNORECASE,
)
_SECRET_BODY_MARKS = ("SecretString", "SecretBinary")
SECRET_BODY_NOTE = "Response body: <redacted: holds a Secrets Manager secret value>"  # noqa: S105


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Blank out credential values that may sit in a URL, form or JSON body, or `secrets`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SECRET_FIELD.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Formats each record once, then drops secret bodies and blanks credential values."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Format first: args may be a mapping, or objects whose str() shows a URL.
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if any(mark in message for mark in _SECRET_BODY_MARKS):
            record.msg = SECRET_BODY_NOTE
        else:
            record.msg = redact(message)
        record.args = ()
        return True


_FILTER = RedactingFilter()


def install(*logger_names: str) -> None:
    """Put the filter on these loggers (once each: logging ignores a second add)."""
    for name in logger_names:
        logging.getLogger(name).addFilter(_FILTER)

"""The body of `POST /v1/products/{code}`, checked field by field.

`{"name", "brand"?, "quantity"?, "category"?, "image_upload_id"?, "share"?}`: texts
are bounded in length and refused when they hold control characters, and are kept as
sent (only trimmed); every field in error is named in `invalid_params` at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParam, InvalidParameter
from ..uploads.policy import check_upload_id
from .model import Description

FIELDS = ("name", "brand", "quantity", "category", "image_upload_id", "share")
MAX_LENGTH = {"name": 200, "brand": 100, "quantity": 50, "category": 100}
"""Characters per text field: a product name on a pack is rarely over 100."""
# Format characters are kept (joiners are part of many scripts and of emoji), except the
# bidirectional overrides and isolates that make text display in another order.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class ContributionRequest:
    """A checked contribution: the description, the image's upload (if any), sharing."""

    description: Description
    image_upload_id: str | None = None
    share: bool = False


def parse_contribution(body: Mapping[str, Any]) -> ContributionRequest:
    """The request of a JSON body whose members are FIELDS (api.json_body checked that)."""
    problems: list[InvalidParam] = []
    texts = {name: _text(body.get(name), name, problems) for name in MAX_LENGTH}
    if texts["name"] is None and not any(p.name == "name" for p in problems):
        problems.append(InvalidParam("name", "the product's name is required"))
    upload_id = body.get("image_upload_id")
    if upload_id is not None:
        try:
            check_upload_id(upload_id)
        except InvalidParameter as error:
            problems.append(InvalidParam("image_upload_id", error.detail))
    share = body.get("share", False)
    if not isinstance(share, bool):
        problems.append(InvalidParam("share", "must be true or false"))
    if problems:
        names = ", ".join(p.name for p in problems)
        raise InvalidParameter(
            f"invalid parameters: {names}; see invalid_params", invalid_params=problems
        )
    description = Description(
        name=str(texts["name"]),
        brand=texts["brand"],
        quantity=texts["quantity"],
        category=texts["category"],
    )
    return ContributionRequest(description, upload_id, bool(share))


def _text(value: Any, name: str, problems: list[InvalidParam]) -> str | None:
    """A text field trimmed (None when absent or blank); a problem added when it is wrong."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(InvalidParam(name, "must be a string"))
        return None
    text = value.strip()
    limit = MAX_LENGTH[name]
    if len(text) > limit:
        problems.append(InvalidParam(name, f"at most {limit} characters; got {len(text)}"))
        return None
    if any(_refused(c) for c in text):
        problems.append(InvalidParam(name, "must not hold control or unassigned characters"))
        return None
    return text or None


def _refused(character: str) -> bool:
    category = unicodedata.category(character)
    return category in ("Cc", "Cs", "Co", "Cn") or character in _BIDI_CONTROLS

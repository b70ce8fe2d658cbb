"""Upload requests accept what phones send: image/jpg and HEIC photos."""

from __future__ import annotations

import pytest

from barcode_service.errors import UnsupportedType
from barcode_service.uploads.policy import choose_type


@pytest.mark.parametrize(
    ("filename", "content_type", "ext"),
    [
        ("IMG_0001.HEIC", "image/heic", "heic"),
        ("IMG_0001.heif", "image/heif", "heic"),
        ("photo.jpg", "image/jpg", "jpg"),
        ("photo", "image/jpg", "jpg"),
    ],
)
def test_phone_photo_types_are_accepted(filename: str, content_type: str, ext: str) -> None:
    assert choose_type(filename, content_type) == (ext, "image", content_type)


def test_an_unknown_type_is_an_unsupported_file_type() -> None:
    with pytest.raises(UnsupportedType) as caught:
        choose_type("a.gif", "image/gif")
    assert caught.value.code == "unsupported_type"
    assert caught.value.title == "Unsupported file type"

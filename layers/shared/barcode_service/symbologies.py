"""The barcode type catalog: canonical names, aliases, content rules, backends.

Every type the API accepts is one `Symbology` here. Its `check` validates and
normalises content *before* anything renders or calls the upstream (the upstream
silently "fixes" wrong check digits, so we must refuse them first). The zint
settings for local rendering live here too, as plain names, so that importing the
catalog costs no native import.

A row of the catalog names its type once: the rule builders (`_gs1`, `_digits`, ...)
take only the rule's own arguments, and the row adds the title (used in error
messages) and the example (shown in the rule) for both the rule and the type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidGs1, InvalidGtin, InvalidParameter, UnsupportedType
from .gtin import check_digit

MAX_CONTENT_LENGTH = 1000
"""No type accepts more characters than this, whatever its own limit."""

Check = Callable[[str, str], str]
"""check(title, content): content normalised, or InvalidParameter naming the type by title."""


@dataclass(frozen=True)
class ContentRule:
    """What content a type accepts: in words (without an example) and as a check."""

    words: str
    check: Check


@dataclass(frozen=True)
class ReadBack:
    """How zxing-cpp reads a type back: its format and the text it returns for content."""

    format: str  # member name of zxingcpp.BarcodeFormat
    prefix: str = ""  # what the reader puts before the content, e.g. "(01)"
    exact: bool = True  # False: the reader also returns a check character zint appended
    transform: Callable[[str], str] | None = None  # content -> text, when not prefix + content

    def matches(self, content: str, text: str) -> bool:
        """Whether `text`, read from a render of `content`, is that content."""
        expected = self.prefix + (self.transform(content) if self.transform else content)
        return text == expected if self.exact else text.startswith(expected)


@dataclass(frozen=True)
class Symbology:
    """One barcode type: how it is named, what it accepts and how zint draws it."""

    name: str
    title: str
    zint: str  # member name of zint.Symbology
    content_rule: ContentRule
    example: str
    upstream: str | None = None  # GuGuData type name when the upstream renders it
    aliases: tuple[str, ...] = ()  # the upstream name first, when there is one
    stretch: bool = True  # 1D bars that grow to the requested height
    option_2: int | None = None  # zint check-digit / variant option
    input_mode: str | None = None  # member name of zint.InputMode
    prefix: str = ""  # zint escape that forces a Code 128 subset
    drop_check: bool = False  # zint wants the data without its (verified) check digit
    read: ReadBack | None = None  # None: no decoder here reads this type

    def __hash__(self) -> int:
        # Names are unique in the catalog (tested), so equal rows hash alike. Hashing every
        # field (rules are closures) cost ~1 us per look-up of a render's cached sizes.
        return hash(self.name)

    @property
    def rule(self) -> str:
        """The content rule in words, shown by GET /barcodes/types."""
        return f"{self.content_rule.words}; e.g. {self.example}"

    @property
    def backends(self) -> tuple[str, ...]:
        return ("local", "upstream") if self.upstream else ("local",)

    def check(self, content: str) -> str:
        """`content` normalised for this type, or InvalidParameter saying what to change."""
        return self.content_rule.check(self.title, content)

    def zint_data(self, content: str) -> str:
        """The string handed to zint for already-normalised content."""
        data = content[:-1] if self.drop_check else content
        if self.prefix:
            # Extra-escape mode reads a backslash as an escape: double the literal ones.
            data = self.prefix + data.replace("\\", "\\\\")
        return data


# --- check digits ------------------------------------------------------------------


def gs1_check_digit(digits: str) -> str:
    """GS1 mod-10 check digit of `digits`, as text (the arithmetic is gtin.check_digit)."""
    return str(check_digit(digits))


def isbn10_check_digit(digits: str) -> str:
    """ISBN-10 mod-11 check character of 9 digits."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def upce_to_upca(upce: str) -> str:
    """The 11 UPC-A digits (no check) that a 7-digit UPC-E (number system + 6) stands for."""
    ns, d = upce[0], upce[1:7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body


# --- rule builders -------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s-]")


def _gs1(length: int) -> ContentRule:
    """Fixed-length GS1 number: without its check digit (added) or with a correct one.

    Up to 14 digits it is a GTIN: its mistakes are `invalid_gtin`, as in lookups."""
    wrong = InvalidGtin if length <= 14 else InvalidParameter

    def check(title: str, content: str) -> str:
        digits = _SEPARATORS.sub("", content)
        if not digits.isdigit() or not digits.isascii() or len(digits) not in (length - 1, length):
            raise wrong(
                f"{title} content must be {length - 1} digits (the check digit is added) "
                f"or {length} digits ending in a correct check digit; got {content!r}"
            )
        expected = gs1_check_digit(digits[: length - 1])
        if len(digits) == length and digits[-1] != expected:
            raise wrong(
                f"{title} check digit of {digits[:-1]} is {expected}, not {digits[-1]}: "
                f"send {digits[:-1]}{expected}, or the first {length - 1} digits only"
            )
        return digits[: length - 1] + expected

    words = (
        f"{length - 1} digits (check digit added) or {length} digits with a correct GS1 "
        "check digit; spaces and dashes ignored"
    )
    return ContentRule(words, check)


def _pattern(pattern: str, words: str, lengths: tuple[int, int]) -> ContentRule:
    """Characters from a set, within a (min, max) length range."""
    allowed = re.compile(pattern)
    min_len, max_len = lengths

    def check(title: str, content: str) -> str:
        if not min_len <= len(content) <= max_len:
            raise InvalidParameter(
                f"{title} content must be {min_len} to {max_len} characters long; "
                f"got {len(content)}"
            )
        bad = sorted({ch for ch in content if not allowed.fullmatch(ch)})
        if bad:
            shown = ", ".join(repr(ch) for ch in bad[:5])
            raise InvalidParameter(f"{title} content allows {words} only; remove {shown}")
        return content

    return ContentRule(f"{min_len} to {max_len} characters: {words}", check)


def _digits(lengths: tuple[int, ...] | range, *, parity: str = "") -> ContentRule:
    """Digits only, with an allowed set of lengths and optionally an even/odd count."""
    words = (
        f"{lengths.start} to {lengths.stop - 1} digits"
        if isinstance(lengths, range)
        else " or ".join(str(n) for n in lengths) + " digits"
    )
    if parity:
        words += f" (an {parity} number of them)"

    def check(title: str, content: str) -> str:
        ok = content.isascii() and content.isdigit() and len(content) in lengths
        if ok and parity:
            ok = len(content) % 2 == (0 if parity == "even" else 1)
        if not ok:
            raise InvalidParameter(f"{title} content must be {words}; got {content!r}")
        return content

    return ContentRule(words, check)


def _integer(low: int, high: int) -> ContentRule:
    def check(title: str, content: str) -> str:
        if not (content.isascii() and content.isdigit()) or not low <= int(content) <= high:
            raise InvalidParameter(
                f"{title} content must be a whole number from {low} to {high}; got {content!r}"
            )
        return str(int(content))

    return ContentRule(f"a whole number from {low} to {high}", check)


def _text(max_len: int) -> ContentRule:
    """Free text (UTF-8); tab, CR and LF are the only control characters allowed."""

    def check(title: str, content: str) -> str:
        if not 1 <= len(content) <= max_len:
            raise InvalidParameter(
                f"{title} content must be 1 to {max_len} characters long; got {len(content)}"
            )
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in content):
            raise InvalidParameter(f"{title} content must not contain control characters")
        return content

    return ContentRule(f"any text, 1 to {max_len} characters (UTF-8)", check)


def _upce_check(title: str, content: str) -> str:
    digits = _SEPARATORS.sub("", content)
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (7, 8):
        raise InvalidGtin(
            f"{title} content must be 7 digits (number system 0 or 1, then 6 digits; the check "
            f"digit is added) or 8 digits ending in a correct check digit; got {content!r}"
        )
    if digits[0] not in "01":
        raise InvalidGtin(f"{title} content must start with number system 0 or 1")
    expected = gs1_check_digit(upce_to_upca(digits[:7]))
    if len(digits) == 8 and digits[-1] != expected:
        raise InvalidGtin(
            f"{title} check digit of {digits[:7]} is {expected}, not {digits[-1]}: "
            f"send {digits[:7]}{expected}, or the first 7 digits only"
        )
    return digits[:7] + expected


_UPCE = ContentRule(
    "7 digits (number system 0 or 1 + 6 digits; check digit added) or 8 with a correct check digit",
    _upce_check,
)


def _isbn_check(title: str, content: str) -> str:
    raw = _SEPARATORS.sub("", content).upper()
    if re.fullmatch(r"\d{9}[\dX]", raw):
        expected = isbn10_check_digit(raw[:9])
        if raw[-1] != expected:
            raise InvalidGtin(f"ISBN-10 check character of {raw[:9]} is {expected}, not {raw[-1]}")
        twelve = "978" + raw[:9]
        return twelve + gs1_check_digit(twelve)
    if not re.fullmatch(r"97[89]\d{9,10}", raw):
        raise InvalidGtin(
            f"{title} content must be an ISBN-13 starting 978 or 979 (12 digits, or 13 with a "
            f"correct check digit) or an ISBN-10 (10 characters); got {content!r}"
        )
    expected = gs1_check_digit(raw[:12])
    if len(raw) == 13 and raw[-1] != expected:
        raise InvalidGtin(
            f"ISBN-13 check digit of {raw[:12]} is {expected}, not {raw[-1]}: "
            f"send {raw[:12]}{expected}"
        )
    return raw[:12] + expected


_ISBN = ContentRule(
    "ISBN-13 starting 978/979 (12 digits, or 13 with a correct check digit) or ISBN-10 "
    "(10 characters, X allowed); hyphens ignored",
    _isbn_check,
)


def _usps_imail_check(title: str, content: str) -> str:
    if not (content.isascii() and content.isdigit() and len(content) in (20, 25, 29, 31)):
        raise InvalidParameter(
            f"{title} content must be a 20-digit tracking code optionally "
            f"followed by a 5, 9 or 11 digit routing code; got {content!r}"
        )
    if content[1] not in "01234":
        raise InvalidParameter(f"{title}: the second digit must be 0 to 4")
    return content


_USPS_IMAIL = ContentRule(
    "20-digit tracking code (2nd digit 0-4) + optional 5/9/11-digit routing code",
    _usps_imail_check,
)


def _codabar_check(title: str, content: str) -> str:
    if not re.fullmatch(r"[A-D][0-9\-$:/.+]{1,58}[A-D]", content.upper()):
        raise InvalidParameter(
            f"{title} content must start and end with A, B, C or D, with 1 to 58 of "
            f"0-9 - $ : / . + between; got {content!r}"
        )
    return content.upper()


_CODABAR = ContentRule(
    "start and stop character A-D around 1 to 58 of 0-9 - $ : / . +", _codabar_check
)


def _gs1_string(max_len: int) -> ContentRule:
    """A GS1 element string, AIs in parentheses, checked by GS1's rules (gs1.py)."""

    def check(title: str, content: str) -> str:
        if len(content) > max_len or not content.strip().startswith("("):
            raise InvalidParameter(
                f"{title} content must be a GS1 element string with the AIs in "
                f"parentheses, at most {max_len} characters, e.g. (01)09501101530003(10)ABC1"
            )
        from . import gs1  # noqa: PLC0415 - only GS1 types load the GS1 reader

        try:
            return gs1.parse_element_string(content).element_string
        except InvalidGs1 as error:
            raise InvalidGs1(f"{title}: {error.detail}") from None

    return ContentRule(
        f"GS1 element string, AIs in parentheses, up to {max_len} characters; AIs, check "
        "digits, dates and lengths checked",
        check,
    )


def _gs1_ais(max_len: int, *, link: bool = False) -> ContentRule:
    """GS1 AIs checked by GS1's rules (gs1.py): an element string, or a Digital Link URI.

    Normalised to the element string with AIs in parentheses, or with `link` to the
    Digital Link URI (an element string becomes a URI on GS1's resolver).
    """

    def check(title: str, content: str) -> str:
        from . import gs1  # noqa: PLC0415 - only GS1 types load the GS1 reader

        try:
            message = gs1.parse_gs1(content)
            if link:
                normal = content.strip() if gs1.is_digital_link(content) else message.digital_link()
            else:
                normal = message.element_string
        except InvalidGs1 as error:
            raise InvalidGs1(f"{title}: {error.detail}") from None
        if len(normal) > max_len:
            raise InvalidParameter(f"{title} content is over {max_len} characters")
        return normal

    if link:
        words = (
            "a GS1 Digital Link URI (https://<host>/01/<GTIN>[/10/<lot>][?17=<YYMMDD>]), or "
            "a GS1 element string converted to one on https://id.gs1.org; AIs, check digits "
            "and dates checked"
        )
    else:
        words = (
            "GS1 element string, AIs in parentheses (a GS1 Digital Link URI is converted); "
            f"AIs, check digits, dates and lengths checked; up to {max_len} characters"
        )
    return ContentRule(words, check)


def _reads(fmt: str, *, prefix: str = "", exact: bool = True) -> ReadBack:
    return ReadBack(fmt, prefix=prefix, exact=exact)


def _upce_as_read(content: str) -> str:
    """zxing-cpp returns a UPC-E as its 13-digit UPC-A expansion."""
    return "0" + upce_to_upca(content[:7]) + content[7]


def _zero_pad_3(content: str) -> str:
    return content.zfill(3)


# --- the catalog -----------------------------------------------------------------------

_CODE39_SET = r"[0-9A-Z \-.$/+%]"
_CODE39_WORDS = "digits, upper-case A-Z, space and - . $ / + %"
_ASCII = r"[ -~]"
_ASCII_WORDS = "printable ASCII"
_HIBC_SET = r"[0-9A-Z \-.$/+%]"


def _entry(
    name: str,
    title: str,
    zint: str,
    rule: ContentRule,
    example: str,
    *,
    upstream: str | None = None,
    aliases: tuple[str, ...] = (),
    stretch: bool = True,
    option_2: int | None = None,
    input_mode: str | None = None,
    prefix: str = "",
    drop_check: bool = False,
    read: ReadBack | None = None,
) -> Symbology:
    """One row: the upstream's type name is always also an alias."""
    if upstream is not None and upstream not in aliases:
        aliases = (upstream, *aliases)
    return Symbology(
        name=name,
        title=title,
        zint=zint,
        content_rule=rule,
        example=example,
        upstream=upstream,
        aliases=aliases,
        stretch=stretch,
        option_2=option_2,
        input_mode=input_mode,
        prefix=prefix,
        drop_check=drop_check,
        read=read,
    )


def _build() -> tuple[Symbology, ...]:
    e = _entry
    # One row per type reads as a table; the formatter would spread each over ten lines.
    # fmt: off
    return (
        # --- retail / GS1 ---------------------------------------------------------
        e("ean13", "EAN-13", "EANX", _gs1(13), "6901234567892",
          upstream="EAN13", aliases=("JAN13", "UCC13"), drop_check=True, read=_reads("EAN13")),
        e("ean8", "EAN-8", "EANX", _gs1(8), "96385074",
          upstream="EAN8", drop_check=True, read=_reads("EAN8")),
        e("upca", "UPC-A", "UPCA", _gs1(12), "012345678905",
          upstream="UPCA", aliases=("UCC12",), drop_check=True, read=_reads("EAN13", prefix="0")),
        e("upce", "UPC-E", "UPCE", _UPCE, "01234565",
          upstream="UPCE", drop_check=True, read=ReadBack("UPCE", transform=_upce_as_read)),
        e("ean2", "EAN-2 add-on", "EANX", _digits((2,)), "12",
          upstream="UPC_SUPPLEMENTAL_2DIGIT"),
        e("ean5", "EAN-5 add-on", "EANX", _digits((5,)), "52495",
          upstream="UPC_SUPPLEMENTAL_5DIGIT"),
        e("isbn", "ISBN (Bookland EAN-13)", "ISBNX", _ISBN, "9780306406157",
          upstream="ISBN", aliases=("BOOKLAND",), read=_reads("EAN13")),
        e("itf14", "ITF-14", "ITF14", _gs1(14), "15400141288763",
          upstream="ITF14", drop_check=True, read=_reads("ITF")),
        e("ean14", "EAN-14 (GS1-128)", "EAN14", _gs1(14),
          "15400141288763", aliases=("gtin14",), drop_check=True,
          read=_reads("Code128", prefix="(01)")),
        e("sscc18", "SSCC-18 (GS1-128)", "NVE18", _gs1(18),
          "106141411234567897", aliases=("sscc", "nve18"), drop_check=True,
          read=_reads("Code128", prefix="(00)")),
        e("gs1_128", "GS1-128", "GS1_128", _gs1_string(100),
          "(01)09501101530003(10)ABC1", aliases=("ucc_ean_128",), input_mode="GS1PARENS",
          read=_reads("Code128")),
        e("databar", "GS1 DataBar Omnidirectional", "DBAR_OMN",
          _gs1(14), "09501101530003",
          aliases=("databar_omni", "rss14"), drop_check=True,
          read=_reads("DataBarOmni", prefix="(01)")),
        e("databar_limited", "GS1 DataBar Limited", "DBAR_LTD",
          _gs1(14), "09501101530003",
          drop_check=True, read=_reads("DataBarLtd", prefix="(01)")),
        e("databar_expanded", "GS1 DataBar Expanded", "DBAR_EXP",
          _gs1_string(70), "(01)09501101530003(10)ABC1",
          input_mode="GS1PARENS", read=_reads("DataBarExp")),
        e("databar_stacked", "GS1 DataBar Stacked", "DBAR_STK",
          _gs1(14), "09501101530003",
          stretch=False, drop_check=True, read=_reads("DataBarStk", prefix="(01)")),
        e("databar_stacked_omni", "GS1 DataBar Stacked Omnidirectional", "DBAR_OMNSTK",
          _gs1(14), "09501101530003",
          stretch=False, drop_check=True, read=_reads("DataBarStk", prefix="(01)")),
        e("databar_expanded_stacked", "GS1 DataBar Expanded Stacked", "DBAR_EXPSTK",
          _gs1_string(70), "(01)09501101530003(10)ABC1",
          stretch=False, input_mode="GS1PARENS", read=_reads("DataBarExpStk")),
        # --- general 1D -----------------------------------------------------------
        e("code128", "Code 128", "CODE128",
          _pattern(_ASCII, _ASCII_WORDS, (1, 80)), "Hello-128",
          upstream="CODE128", read=_reads("Code128")),
        e("code128a", "Code 128 (subset A)", "CODE128",
          _pattern(r"[ -_]", "printable ASCII without lower case", (1, 80)), "CODE-128A",
          upstream="CODE128A", input_mode="EXTRA_ESCAPE", prefix="\\^A", read=_reads("Code128")),
        e("code128b", "Code 128 (subset B)", "CODE128",
          _pattern(_ASCII, _ASCII_WORDS, (1, 80)), "Code-128b",
          upstream="CODE128B", input_mode="EXTRA_ESCAPE", prefix="\\^B", read=_reads("Code128")),
        e("code128c", "Code 128 (subset C)", "CODE128",
          _digits(range(2, 81), parity="even"), "12345678",
          upstream="CODE128C", input_mode="EXTRA_ESCAPE", prefix="\\^C", read=_reads("Code128")),
        e("code39", "Code 39", "CODE39",
          _pattern(_CODE39_SET, _CODE39_WORDS, (1, 80)), "CODE-39",
          upstream="CODE39", aliases=("code3of9",), read=_reads("Code39")),
        e("code39_extended", "Code 39 Extended (full ASCII)", "EXCODE39",
          _pattern(_ASCII, _ASCII_WORDS, (1, 80)), "Code-39e",
          upstream="CODE39Extended", read=_reads("Code39Ext")),
        e("code39_mod43", "Code 39 with mod-43 check", "CODE39",
          _pattern(_CODE39_SET, _CODE39_WORDS, (1, 80)), "CODE-39",
          upstream="CODE39_Mod43", option_2=1, read=_reads("Code39", exact=False)),
        e("logmars", "LOGMARS", "LOGMARS",
          _pattern(_CODE39_SET, _CODE39_WORDS, (1, 30)), "LOGMARS-1",
          upstream="LOGMARS", read=_reads("Code39")),
        e("code93", "Code 93", "CODE93",
          _pattern(_ASCII, _ASCII_WORDS, (1, 80)), "Code-93",
          upstream="CODE93", read=_reads("Code93")),
        e("code11", "Code 11 (USD-8)", "CODE11",
          _pattern(r"[0-9-]", "digits and -", (1, 80)), "123-45",
          upstream="CODE11", aliases=("USD8",)),
        e("codabar", "Codabar", "CODABAR", _CODABAR, "A40156B",
          upstream="Codabar", aliases=("nw7",), read=_reads("Codabar")),
        e("interleaved2of5", "Interleaved 2 of 5", "C25INTER",
          _digits(range(2, 81), parity="even"), "12345670",
          upstream="Interleaved2of5", aliases=("itf",), read=_reads("ITF")),
        e("interleaved2of5_mod10", "Interleaved 2 of 5 with mod-10 check", "C25INTER",
          _digits(range(1, 80), parity="odd"),
          "1234567", upstream="Interleaved2of5_Mod10",
          option_2=1, read=_reads("ITF", exact=False)),
        e("standard2of5", "Standard (Matrix) 2 of 5", "C25STANDARD",
          _digits(range(1, 81)), "12345",
          upstream="Standard2of5", aliases=("matrix2of5",)),
        e("standard2of5_mod10", "Standard 2 of 5 with mod-10 check", "C25STANDARD",
          _digits(range(1, 80)), "12345",
          upstream="Standard2of5_Mod10", option_2=1),
        e("industrial2of5", "Industrial 2 of 5", "C25IND",
          _digits(range(1, 46)), "12345",
          upstream="Industrial2of5"),
        e("industrial2of5_mod10", "Industrial 2 of 5 with mod-10 check", "C25IND",
          _digits(range(1, 45)), "12345",
          upstream="Industrial2of5_Mod10", option_2=1),
        e("iata2of5", "IATA 2 of 5", "C25IATA",
          _digits(range(1, 46)), "12345"),
        e("datalogic2of5", "Data Logic 2 of 5", "C25LOGIC",
          _digits(range(1, 81)), "12345"),
        e("msi", "MSI (Modified Plessey)", "MSI_PLESSEY",
          _digits(range(1, 61)), "1234567",
          upstream="Modified_Plessey", aliases=("msi_plessey",), option_2=0),
        e("msi_mod10", "MSI with mod-10 check", "MSI_PLESSEY",
          _digits(range(1, 61)), "1234567",
          upstream="MSI_Mod10", option_2=1),
        e("msi_2mod10", "MSI with two mod-10 checks", "MSI_PLESSEY",
          _digits(range(1, 61)), "1234567",
          upstream="MSI_2Mod10", option_2=2),
        e("msi_mod11", "MSI with mod-11 check", "MSI_PLESSEY",
          _digits(range(1, 61)), "1234567",
          upstream="MSI_Mod11", option_2=3),
        e("msi_mod11_mod10", "MSI with mod-11 and mod-10 checks", "MSI_PLESSEY",
          _digits(range(1, 61)), "1234567",
          upstream="MSI_Mod11_Mod10", option_2=4),
        e("plessey", "Plessey (UK)", "PLESSEY",
          _pattern(r"[0-9A-F]", "digits and A-F", (1, 60)), "12AB"),
        e("telepen", "Telepen (ASCII)", "TELEPEN",
          _pattern(_ASCII, _ASCII_WORDS, (1, 60)), "Telepen-1",
          upstream="TELEPEN", read=_reads("TelepenAlpha")),
        e("telepen_numeric", "Telepen Numeric", "TELEPEN_NUM",
          _digits(range(2, 121), parity="even"), "123456", read=_reads("TelepenNumeric")),
        e("pharmacode", "Pharmacode", "PHARMA",
          _integer(3, 131070), "1234",
          upstream="PHARMACODE", aliases=("pharma",)),
        e("pharmacode_two_track", "Pharmacode two-track", "PHARMA_TWO",
          _integer(4, 64570080), "1234", stretch=False),
        e("code32", "Code 32 (Italian pharmacode)", "CODE32",
          _digits((8,)), "12345678", read=_reads("Code32", prefix="A", exact=False)),
        e("pzn", "PZN (Pharmazentralnummer)", "PZN",
          _digits((7, 8)), "12345678", read=_reads("PZN", prefix="-")),
        e("vin", "Vehicle Identification Number", "VIN",
          _pattern(r"[0-9A-HJ-NPR-Z]", "digits and A-Z except I, O, Q", (17, 17)),
          "1M8GDM9AXKP042788", read=_reads("Code39")),
        e("bc412", "BC412 (IBM)", "BC412",
          _pattern(r"[0-9A-NP-Z]", "digits and A-Z except O", (7, 18)),
          "AQ45670"),
        e("channel", "Channel Code", "CHANNEL", _integer(0, 7742862),
          "1234"),
        e("hibc_128", "HIBC Code 128", "HIBC_128",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 100)), "A123BJC5D6E71",
          read=_reads("Code128", prefix="+", exact=False)),
        e("hibc_39", "HIBC Code 39", "HIBC_39",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 60)), "A123BJC5D6E71"),
        e("dpleit", "Deutsche Post Leitcode", "DPLEIT",
          _digits((13,)), "2104512345678", read=_reads("ITF", exact=False)),
        e("dpident", "Deutsche Post Identcode", "DPIDENT",
          _digits((11,)), "56310243031", read=_reads("ITF", exact=False)),
        # --- postal -------------------------------------------------------------------
        e("postnet", "USPS POSTNET", "POSTNET", _digits((5, 9, 11)),
          "12345", upstream="PostNet", stretch=False),
        e("planet", "USPS PLANET", "PLANET", _digits((11, 13)),
          "12345678901", stretch=False),
        e("usps_imail", "USPS Intelligent Mail", "USPS_IMAIL", _USPS_IMAIL,
          "01234567094987654321", aliases=("onecode",),
          stretch=False),
        e("fim", "USPS Facing Identification Mark", "FIM",
          _pattern(r"[A-E]", "one letter A-E", (1, 1)), "A",
          upstream="FIM", stretch=False),
        e("rm4scc", "Royal Mail 4-State", "RM4SCC",
          _pattern(r"[0-9A-Z]", "digits and upper-case A-Z", (1, 50)),
          "SN34RD1A", stretch=False),
        e("kix", "Dutch Post KIX", "KIX",
          _pattern(r"[0-9A-Z]", "digits and upper-case A-Z", (1, 18)),
          "2500GG30250", stretch=False),
        e("japanpost", "Japan Post", "JAPANPOST",
          _pattern(r"[0-9A-Z-]", "digits, upper-case A-Z and -", (1, 20)),
          "15400233-16-4-205", stretch=False),
        e("koreapost", "Korea Post", "KOREAPOST", _digits((6,)),
          "123456"),
        e("auspost", "Australia Post", "AUSPOST", _digits((8,)),
          "12345678", stretch=False),
        e("cepnet", "Brazilian CEPNet", "CEPNET", _digits((8,)),
          "12345678", stretch=False),
        # --- stacked and 2D -----------------------------------------------------------
        e("code16k", "Code 16K", "CODE16K",
          _pattern(_ASCII, _ASCII_WORDS, (1, 77)), "Code 16K",
          stretch=False),
        e("code49", "Code 49", "CODE49",
          _pattern(_ASCII, _ASCII_WORDS, (1, 49)), "Code 49",
          stretch=False),
        e("codablock_f", "Codablock-F", "CODABLOCKF",
          _pattern(_ASCII, _ASCII_WORDS, (1, 200)), "Codablock F",
          stretch=False),
        e("qrcode", "QR Code", "QRCODE", _text(1000),
          "https://example.com/p?id=42", aliases=("qr",), stretch=False, input_mode="UNICODE",
          read=_reads("QRCode")),
        e("microqr", "Micro QR Code", "MICROQR", _text(35), "HELLO 123",
          stretch=False, input_mode="UNICODE", read=_reads("MicroQRCode")),
        e("rmqr", "Rectangular Micro QR (rMQR)", "RMQR", _text(150),
          "Hello rMQR", stretch=False, input_mode="UNICODE", read=_reads("RMQRCode")),
        e("datamatrix", "Data Matrix (ECC 200)", "DATAMATRIX",
          _text(1000), "Data Matrix 200", aliases=("dm",),
          stretch=False, input_mode="UNICODE", read=_reads("DataMatrix")),
        e("pdf417", "PDF417", "PDF417", _text(1000), "PDF417 text",
          stretch=False, input_mode="UNICODE", read=_reads("PDF417")),
        e("pdf417_compact", "Compact PDF417", "PDF417COMP",
          _text(1000), "Compact PDF417", aliases=("truncated_pdf417",),
          stretch=False, input_mode="UNICODE", read=_reads("PDF417")),
        e("micropdf417", "MicroPDF417", "MICROPDF417", _text(150),
          "MicroPDF417", stretch=False, input_mode="UNICODE", read=_reads("MicroPDF417")),
        e("aztec", "Aztec Code", "AZTEC", _text(1000), "Aztec Code",
          stretch=False, input_mode="UNICODE", read=_reads("Aztec")),
        e("aztec_rune", "Aztec Rune", "AZRUNE", _integer(0, 255), "25",
          stretch=False, read=ReadBack("Aztec", transform=_zero_pad_3)),
        e("maxicode", "MaxiCode (mode 4)", "MAXICODE", _text(93),
          "MaxiCode 4", stretch=False, input_mode="UNICODE", read=_reads("MaxiCode")),
        e("dotcode", "DotCode", "DOTCODE", _text(450), "DotCode",
          stretch=False, input_mode="UNICODE"),
        e("hanxin", "Han Xin Code", "HANXIN", _text(1000), "Han Xin 汉信",
          stretch=False, input_mode="UNICODE"),
        e("gridmatrix", "Grid Matrix", "GRIDMATRIX", _text(500),
          "Grid Matrix", stretch=False, input_mode="UNICODE"),
        e("codeone", "Code One", "CODEONE", _text(500), "Code One",
          stretch=False, input_mode="UNICODE"),
        e("ultracode", "Ultracode", "ULTRA", _text(250), "Ultracode",
          stretch=False, input_mode="UNICODE"),
        e("gs1_datamatrix", "GS1 Data Matrix", "DATAMATRIX", _gs1_ais(200),
          "(01)09501101530003(17)271231(10)AB1", aliases=("gs1_dm",), stretch=False,
          input_mode="GS1|GS1PARENS", read=_reads("DataMatrix")),
        e("gs1_qrcode", "GS1 QR Code", "QRCODE", _gs1_ais(200),
          "(01)09501101530003(17)271231(10)AB1", aliases=("gs1_qr",), stretch=False,
          input_mode="GS1|GS1PARENS", read=_reads("QRCode")),
        e("gs1_digital_link", "GS1 Digital Link QR Code", "QRCODE", _gs1_ais(500, link=True),
          "https://id.gs1.org/01/09501101530003/10/AB1?17=271231",
          aliases=("digital_link", "gs1_dl"), stretch=False, read=_reads("QRCode")),
        e("hibc_datamatrix", "HIBC Data Matrix", "HIBC_DM",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 100)),
          "A123BJC5D6E71", stretch=False, read=_reads("DataMatrix", prefix="+", exact=False)),
        e("hibc_qr", "HIBC QR Code", "HIBC_QR",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 100)),
          "A123BJC5D6E71", stretch=False, read=_reads("QRCode", prefix="+", exact=False)),
        e("hibc_pdf417", "HIBC PDF417", "HIBC_PDF",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 100)),
          "A123BJC5D6E71", stretch=False, read=_reads("PDF417", prefix="+", exact=False)),
        e("hibc_aztec", "HIBC Aztec Code", "HIBC_AZTEC",
          _pattern(_HIBC_SET, _CODE39_WORDS, (1, 100)),
          "A123BJC5D6E71", stretch=False, read=_reads("Aztec", prefix="+", exact=False)),
    )
    # fmt: on


CATALOG: tuple[Symbology, ...] = _build()


def _key(name: str) -> str:
    # "Interleaved2of5_Mod10", "interleaved2of5-mod10" and "EAN 13" all find their type.
    return re.sub(r"[\s_\-]", "", name).lower()


def _index() -> dict[str, Symbology]:
    index: dict[str, Symbology] = {}
    for symbology in CATALOG:
        for name in (symbology.name, *symbology.aliases):
            key = _key(name)
            if index.get(key, symbology) is not symbology:
                raise RuntimeError(f"barcode type name {name!r} is ambiguous")
            index[key] = symbology
    return index


_INDEX = _index()


def find_symbology(name: str) -> Symbology:
    """The type called `name` (canonical name or alias, any case), else UnsupportedType."""
    found = _INDEX.get(_key(name))
    if found is not None:
        return found
    if _key(name) == "unspecified":
        raise UnsupportedType(
            "type UNSPECIFIED names no symbology: choose one, e.g. code128 or ean13 "
            "(GET /barcodes/types lists them all)"
        )
    shown = name if len(name) <= 40 else name[:39] + "…"
    raise UnsupportedType(
        f"unknown barcode type {shown!r}; GET /barcodes/types lists the supported types"
    )


def validate_content(symbology: Symbology, content: str) -> str:
    """Content normalised for `symbology`, or InvalidParameter saying what to change."""
    if not content:
        raise InvalidParameter("content must not be empty")
    if len(content) > MAX_CONTENT_LENGTH:
        raise InvalidParameter(
            f"content is {len(content)} characters long; at most {MAX_CONTENT_LENGTH} allowed"
        )
    return symbology.check(content)


def types_document() -> dict[str, list[dict[str, object]]]:
    """The body of GET /barcodes/types."""
    return {
        "types": [
            {
                "name": s.name,
                "aliases": list(s.aliases),
                "content_rule": s.rule,
                "backends": list(s.backends),
            }
            for s in CATALOG
        ]
    }

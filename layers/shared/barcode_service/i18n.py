"""Problem `title`/`detail` in English or Simplified Chinese, chosen by Accept-Language.

English is the source text everywhere in the layer. `negotiate()` picks the answer's
language from an Accept-Language header (q-values honoured); `translate()` turns an
English title or detail into Simplified Chinese: titles by a complete table, details by
patterns for the messages clients meet most. A detail no pattern knows keeps its
English text after a Chinese sentence that says what kind of problem it is, so a
Chinese reader always gets Chinese first. A problem's `code` and field names are never
translated: they are what programs branch on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar

ENGLISH = "en"
CHINESE = "zh-Hans"
LANGUAGES = (ENGLISH, CHINESE)

REQUEST_LANGUAGE: ContextVar[str] = ContextVar("request_language", default=ENGLISH)
"""The language the current request asked for (set by api.make_resolver for each
request): the problems inside an answer (batch rows, scan entries) speak it too."""

# Every ServiceError title (errors.py) and the gateway's own (template.yaml).
TITLES: dict[str, str] = {
    "Internal error": "内部错误",
    "Invalid parameter": "参数无效",
    "Invalid GTIN": "无效的 GTIN 条码",
    "The image would not scan": "生成的图像无法被扫描",
    "Unsupported barcode type": "不支持的条码类型",
    "Unsupported file type": "不支持的文件类型",
    "Unsupported media type": "不支持的媒体类型",
    "Method not allowed": "不允许的请求方法",
    "Not found": "未找到",
    "No provider serves this code": "没有可查询此条码的商品数据源",
    "Payload too large": "请求内容过大",
    "Empty upload": "上传文件为空",
    "Unreadable upload": "无法读取上传文件",
    "Image too large": "图像过大",
    "Not done in time": "未能及时完成",
    "Processing stalled": "处理停滞",
    "Too many requests": "请求过多",
    "Daily lookup budget used up": "今日查询额度已用完",
    "Product already known": "已有该商品的信息",
    "Contribution refused": "不接受此商品信息提交",
    "Daily contribution limit reached": "今日提交商品信息的次数已达上限",
    "Image storage failed": "图像存储失败",
    "Upstream error": "上游服务错误",
    "Upstream unavailable": "上游服务不可用",
    "Upstream timed out": "上游服务超时",
    "Upstream rate limit reached": "已达上游服务速率限制",
    "Upstream rejected the request": "上游服务拒绝了请求",
    "Upstream credentials rejected": "上游服务凭证被拒绝",
    "Upstream credentials not configured": "未配置上游服务凭证",
    "Lookup provider not configured": "未配置商品查询服务",
    "Upstream API key disabled": "上游服务 API 密钥已停用",
    "No active upstream plan": "上游服务没有有效套餐",
    "Upstream plan used up": "上游服务套餐已用完",
    "Upstream account in arrears": "上游服务账户欠费",
    "Upstream daily quota used up": "上游服务今日配额已用完",
}

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, chinese: str) -> _Rule:
    """`pattern` (anchored) -> `chinese`, a format string of the pattern's named groups."""
    compiled = re.compile(pattern, re.DOTALL)
    return compiled, lambda found: chinese.format(**found.groupdict())


_NOT_UNICODE = r"not valid Unicode text \(a lone surrogate, or bytes that are not UTF-8\)"
_NOT_UNICODE_ZH = "不是有效的 Unicode 文本（含有单独的代理项，或不是 UTF-8 的字节）"

DETAILS: tuple[_Rule, ...] = (
    _rule(r"no such route", "没有这个路径"),
    _rule(r"(?P<m>.+) is not allowed here; allowed: (?P<a>.+)", "此路径不允许 {m} 方法；允许：{a}"),
    _rule(
        r"unknown (?P<w>query string|body|form) parameters?: (?P<n>.+)",
        "未知的参数（{w}）：{n}",
    ),
    _rule(
        r"unsupported Content-Type (?P<t>.*?): send (?P<s>.+)",
        "不支持的 Content-Type {t}：请发送 {s}",
    ),
    _rule(r"request body must be a JSON object", "请求体必须是 JSON 对象"),
    _rule(r"request body is " + _NOT_UNICODE, "请求体" + _NOT_UNICODE_ZH),
    _rule(r"request body is not valid (?P<t>.+)", "请求体不是有效的 {t}"),
    _rule(r"request body must be UTF-8 JSON", "请求体必须是 UTF-8 编码的 JSON"),
    _rule(r"the request body is over (?P<n>\d+) bytes", "请求体超过 {n} 字节"),
    _rule(r"parameter '(?P<n>\w+)' is required: (?P<r>.+)", "缺少参数 '{n}'：{r}"),
    _rule(r"parameter '(?P<n>\w+)' is required", "缺少参数 '{n}'"),
    _rule(r"parameter '(?P<n>\w+)' must be a string", "参数 '{n}' 必须是字符串"),
    _rule(
        r"(?P<n>\w+) must be an integer from (?P<a>\d+) to (?P<b>\d+) \(pixels\); got (?P<v>.+)",
        "{n} 必须是 {a} 到 {b} 之间的整数（像素）；收到 {v}",
    ),
    _rule(r"an integer from (?P<a>\d+) to (?P<b>\d+)", "{a} 到 {b} 之间的整数"),
    _rule(r"(?P<n>\w+) must be (?P<c>'.+'); got (?P<v>.+)", "{n} 必须是 {c}；收到 {v}"),
    _rule(r"(?P<n>\w+) must be true or false; got (?P<v>.+)", "{n} 必须是 true 或 false；收到 {v}"),
    _rule(
        r"invalid parameters: (?P<n>.+); see invalid_params", "参数无效：{n}；详见 invalid_params"
    ),
    _rule(r"unknown parameter", "未知参数"),
    _rule(r"the code is empty", "条码为空"),
    _rule(r"a code must be a string( of digits)?", "条码必须是（数字）字符串"),
    _rule(
        r"check digit of (?P<d>\d+) is wrong: expected (?P<e>\d), got (?P<g>\d) "
        r"\(did you mean (?P<m>\d+)\?\)",
        "{d} 的校验位错误：应为 {e}，实际为 {g}（是否想输入 {m}？）",
    ),
    _rule(
        r"(?P<t>[\w\- ()]+) check digit of (?P<d>\d+) is (?P<e>\d), not (?P<g>\d): send (?P<s>.+)",
        "{t} 校验位错误：{d} 的校验位应为 {e}，而不是 {g}；请发送 {s}",
    ),
    _rule(
        r"a code may contain only digits, spaces and dashes; found (?P<f>.+)",
        "条码只能包含数字、空格和连字符；发现 {f}",
    ),
    _rule(
        r"a code has 8 \(EAN-8\), 12 \(UPC-A\), 13 \(EAN-13\) or 14 \(GTIN-14\) digits; "
        r"got (?P<n>\d+)",
        "条码应为 8 位（EAN-8）、12 位（UPC-A）、13 位（EAN-13）或 14 位（GTIN-14）数字；"
        "收到 {n} 位",
    ),
    _rule(r"no product is known for (?P<c>.+)", "没有关于 {c} 的商品信息"),
    _rule(
        r"no lookup provider in use \((?P<p>[a-z,\s]+)\) serves (?P<c>.+)",
        "当前使用的商品数据源（{p}）都不查询 {c} 这类条码",
    ),
    _rule(
        r"no such upload is known to this API key or user \(uploads are kept (?P<d>\d+) days\)",
        "此 API 密钥或用户没有这个上传任务（上传任务保留 {d} 天）",
    ),
    _rule(r"an upload id is 32 hexadecimal characters", "上传任务 ID 是 32 位十六进制字符"),
    _rule(r"'(?P<n>\w+)' must be a non-empty string", "'{n}' 必须是非空字符串"),
    _rule(r"'codes' must be a non-empty list of codes", "'codes' 必须是非空的条码列表"),
    _rule(r"each code must be a string of digits", "每个条码都必须是数字字符串"),
    _rule(
        r"at most (?P<n>\d+) requests per batch; got (?P<g>\d+)",
        "每批最多 {n} 个请求；收到 {g} 个",
    ),
    _rule(
        r"at most (?P<n>\d+) codes per request; got (?P<g>\d+)",
        "每次请求最多 {n} 个条码；收到 {g} 个",
    ),
    _rule(r"a valid x-api-key header is required", "需要有效的 x-api-key 请求头"),
    _rule(r"no such route or method", "没有这个路径或方法"),
    _rule(
        r"unknown barcode type (?P<n>.+); GET /barcodes/types lists the supported types",
        "未知的条码类型 {n}；GET /barcodes/types 列出了所有支持的类型",
    ),
    _rule(r"(?P<t>.+?) content must be (?P<w>.+); got (?P<g>.+)", "{t} 的内容必须是 {w}；收到 {g}"),
    _rule(r"parameters must not be null: (?P<n>.+)", "参数不能为 null：{n}"),
    _rule(r"must not be null", "不能为 null"),
    _rule(r"the request body is over (?P<n>\d+) MB", "请求体超过 {n} MB"),
    _rule(r"Content-Type (?P<t>.+?) is not accepted; (?P<r>.+)", "不接受 Content-Type {t}；{r}"),
    _rule(r"missing", "缺失"),
    _rule(r"no such explorer asset", "没有这个文件"),
    _rule(r"(?P<n>.+?): " + _NOT_UNICODE, "{n}：" + _NOT_UNICODE_ZH),
    _rule(r"member name " + _NOT_UNICODE, "成员名称" + _NOT_UNICODE_ZH),
    _rule(
        r"(?P<w>.+) was not done: the request ran out of its time; send it again "
        r"\(alone, or in a smaller batch\)",
        "未完成：请求已用完它的时间；请重新发送（单独发送，或放在更小的批次中）",
    ),
    _rule(_NOT_UNICODE, _NOT_UNICODE_ZH),
    _rule(
        r"the image has too many pixels to process: (?P<w>\d+) x (?P<h>\d+) px is (?P<p>.+? MP), "
        r"and at most (?P<m>.+? MP) are decoded \(a 12 MP phone photo fits\); send a smaller image",
        "图像像素过多，无法处理：{w} x {h} 像素即 {p}，最多解码 {m}（12 MP 的手机照片可以）；"
        "请发送更小的图像",
    ),
    _rule(r"the server could not complete the request", "服务器无法完成请求"),
)

# The Chinese words before an English detail no pattern knows.
_FALLBACK = "详情（英文）："


def negotiate(accept_language: str | None) -> str:
    """`en` or `zh-Hans`: the client's most preferred of the two (RFC 9110 q-values).

    `zh`, `zh-CN`, `zh-SG`, `zh-Hans...` mean Simplified Chinese; `zh-TW`, `zh-HK` and
    `zh-Hant` are not offered and are passed over; `*` and anything else mean English.
    Ties keep the header's order; no header, or nothing usable, is English.
    """
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not tag or quality <= 0:
            continue
        language = _language(tag)
        if language is not None:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else ENGLISH


def _language(tag: str) -> str | None:
    if tag == "zh" or tag.startswith(("zh-cn", "zh-sg", "zh-hans", "zh-my")):
        return CHINESE
    if tag.startswith("zh-"):
        return None  # Traditional Chinese is not offered: the next preference decides
    if tag in {"*", "en"} or tag.startswith("en-"):
        return ENGLISH
    return None


def translate(text: str, language: str) -> str:
    """`text` (English) in `language`; unknown details keep their English after a note."""
    if language != CHINESE or not text:
        return text
    title = TITLES.get(text)
    if title is not None:
        return title
    for pattern, chinese in DETAILS:
        found = pattern.fullmatch(text)
        if found is not None:
            return chinese(found)
    return _FALLBACK + text


def is_translated(text: str) -> bool:
    """Whether `text` has a Chinese form of its own (not the English fallback)."""
    return text in TITLES or any(pattern.fullmatch(text) for pattern, _ in DETAILS)

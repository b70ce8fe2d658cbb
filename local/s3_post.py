"""The moto server of the local stack, with S3's checks of browser-based (presigned) POSTs.

moto stores whatever a presigned POST sends. S3 does not: it checks the signed policy
first and refuses the POST itself, so nothing is stored and no notification is sent.
`PostPolicyMiddleware` sits in front of moto's WSGI app and does what S3 does, with
S3's status codes and XML error bodies:

- no policy on a private bucket: 403 `AccessDenied`;
- an unknown access key: 403 `InvalidAccessKeyId`; a signature that does not match the
  policy (it was edited): 403 `SignatureDoesNotMatch`;
- an expired policy: 403 `AccessDenied` "Invalid according to Policy: Policy expired.";
- a field that fails an `eq` / `starts-with` condition (`key`, `Content-Type`,
  `bucket`, ...), or is missing: 403 `AccessDenied` "Invalid according to Policy:
  Policy Condition failed: [...]";
- a form field no condition names: 403 `AccessDenied` "... Extra input fields: <name>";
- a file outside `content-length-range`: 400 `EntityTooSmall` / `EntityTooLarge` with
  `ProposedSize` and `MinSizeAllowed` / `MaxSizeAllowed`;
- no file, or more than one: 400 `IncorrectNumberOfFilesInPostRequest`.

A refusal carries the bucket's CORS headers for the request's `Origin`, as S3's do, so
a browser app can read it. Everything else goes to moto untouched. `LocalMotoServer` is
moto's threaded server with this middleware, binding in the caller's thread (a port in
use is an OSError, not a hang) and able to ask for a given port.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import hmac
import io
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.datastructures import FileStorage
from werkzeug.formparser import parse_form_data
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger("local.s3")

# Fields S3 never checks against the policy (AWS docs, "Creating a POST policy").
_UNCHECKED = {"policy", "x-amz-signature", "signature", "file", "awsaccesskeyid"}
_IGNORED_PREFIX = "x-ignore-"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class S3Error:
    """An S3 error answer: status, code, message and extra XML elements."""

    status: int
    code: str
    message: str
    extra: tuple[tuple[str, str], ...] = ()

    def body(self, resource: str) -> bytes:
        request_id = uuid.uuid4().hex[:16].upper()
        parts = [f"<Code>{self.code}</Code>", f"<Message>{escape(self.message)}</Message>"]
        parts += [f"<{name}>{escape(value)}</{name}>" for name, value in self.extra]
        parts += [
            f"<Resource>{escape(resource)}</Resource>",
            f"<RequestId>{request_id}</RequestId>",
            f"<HostId>{base64.b64encode(uuid.uuid4().bytes).decode()}</HostId>",
        ]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
        ).encode()


def _denied(message: str) -> S3Error:
    return S3Error(403, "AccessDenied", message)


def _condition_text(condition: list[Any]) -> str:
    """A condition as S3 quotes it in its error: `["eq", "$Content-Type", "text/csv"]`."""
    return json.dumps(condition, ensure_ascii=False)


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(
    fields: Mapping[str, str],
    files: list[tuple[str, int]],
    bucket: str,
    *,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> S3Error | None:
    """What S3 answers to a POST object form with `fields` and `files` ((name, size)),
    or None when S3 would store it. `secrets` maps access key ids to secret keys."""
    lowered = {name.lower(): value for name, value in fields.items()}
    encoded = lowered.get("policy")
    if not encoded:
        return _denied("Access Denied")  # an anonymous POST to a bucket that is not public
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        return S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value.")

    signature_error = _check_signature(lowered, encoded, secrets)
    if signature_error is not None:
        return signature_error

    now = now or datetime.now(UTC)
    try:
        expiration = datetime.fromisoformat(
            str(policy.get("expiration", "")).replace("Z", "+00:00")
        )
    except ValueError:
        return S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.")
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    if expiration <= now:
        return _denied("Invalid according to Policy: Policy expired.")

    if len(files) != 1:
        return S3Error(
            400,
            "IncorrectNumberOfFilesInPostRequest",
            "POST requires exactly one file upload per request.",
            (("FileCount", str(len(files))),),
        )
    filename, size = files[0]
    values = {**lowered, "bucket": bucket}
    if "key" in values:
        values["key"] = values["key"].replace("${filename}", filename)
    named: set[str] = set()
    length_range: tuple[int, int] | None = None
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            checks = [["eq", f"${name}", value] for name, value in condition.items()]
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            length_range = (int(condition[1]), int(condition[2]))
            continue
        elif isinstance(condition, list) and len(condition) == 3:
            checks = [condition]
        else:
            return S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
        for check in checks:
            operator, name, expected = str(check[0]).lower(), str(check[1]), str(check[2])
            field = name.removeprefix("$").lower()
            named.add(field)
            actual = values.get(field)
            matched = actual is not None and (
                actual == expected if operator == "eq" else actual.startswith(expected)
            )
            if operator not in ("eq", "starts-with") or not matched:
                failed = _condition_text(check)
                return _denied(f"Invalid according to Policy: Policy Condition failed: {failed}")

    extra = [
        name
        for name in fields
        if name.lower() not in _UNCHECKED
        and not name.lower().startswith(_IGNORED_PREFIX)
        and name.lower() not in named
    ]
    if extra:
        return _denied(f"Invalid according to Policy: Extra input fields: {extra[0]}")

    if length_range is not None:
        low, high = length_range
        if size < low:
            return S3Error(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                (("ProposedSize", str(size)), ("MinSizeAllowed", str(low))),
            )
        if size > high:
            return S3Error(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                (("ProposedSize", str(size)), ("MaxSizeAllowed", str(high))),
            )
    return None


_SIGNATURE_MISMATCH = S3Error(
    403,
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
)
_UNKNOWN_KEY = S3Error(
    403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
)


def _check_signature(
    fields: Mapping[str, str], policy: str, secrets: Mapping[str, str]
) -> S3Error | None:
    """The policy's signature: SigV4 (`x-amz-credential`, `x-amz-signature`) or SigV2
    (`AWSAccessKeyId`, `signature`: what boto3 signs with by default)."""
    if "x-amz-credential" in fields or "x-amz-signature" in fields:
        parts = fields.get("x-amz-credential", "").split("/")
        if len(parts) != 5 or parts[0] not in secrets:
            return _UNKNOWN_KEY
        access_key, date, region, service, _ = parts
        key = _signing_key(secrets[access_key], date, region, service)
        expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
        given = fields.get("x-amz-signature", "").lower()
    else:
        access_key = fields.get("awsaccesskeyid", "")
        if access_key not in secrets:
            return _UNKNOWN_KEY
        digest = hmac.new(secrets[access_key].encode(), policy.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        given = fields.get("signature", "")
    return None if hmac.compare_digest(expected, given) else _SIGNATURE_MISMATCH


CorsRules = Callable[[str], list[dict[str, Any]]]


def cors_headers(origin: str | None, rules: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What S3 adds to an answer for `origin` under a bucket's CORS rules (the first rule
    whose origins and methods allow a POST from it), errors included."""
    if not origin:
        return []
    for rule in rules:
        origins = rule.get("AllowedOrigins") or []
        if "POST" not in (rule.get("AllowedMethods") or []):
            continue
        if any(fnmatch.fnmatchcase(origin, allowed) for allowed in origins):
            headers = [("Access-Control-Allow-Origin", "*" if origins == ["*"] else origin)]
            headers.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
            if rule.get("ExposeHeaders"):
                headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
            headers.append(
                ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
            )
            return headers
    return []


class PostPolicyMiddleware:
    """A WSGI middleware refusing, as S3 does, POST object forms their policy forbids."""

    def __init__(
        self, app: WsgiApp, secrets: Mapping[str, str], cors_rules: CorsRules | None = None
    ) -> None:
        self.app = app
        self.secrets = dict(secrets)
        # A bucket's CORS rules, so that a browser can read a refusal (S3 sends them too).
        self.cors_rules = cors_rules or (lambda bucket: [])

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        bucket = self._post_object_bucket(environ)
        if bucket is None:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        parse_environ = {
            **environ,
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
        }
        _, form, file_fields = parse_form_data(parse_environ)
        files = [(storage.filename or "", _size(storage)) for storage in file_fields.values()]
        error = check_post(dict(form.items()), files, bucket, secrets=self.secrets)
        if error is None:
            return self.app(environ, start_response)
        log.info("refused a POST to bucket %s: %s %s", bucket, error.code, error.message)
        payload = error.body(f"/{bucket}")
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))]
        origin = environ.get("HTTP_ORIGIN")
        if origin:
            try:
                headers += cors_headers(origin, self.cors_rules(bucket))
            except Exception:  # no CORS configuration, or moto not answering: no headers
                log.debug("no CORS rules for bucket %s", bucket)
        start_response(
            f"{error.status} {'Forbidden' if error.status == 403 else 'Bad Request'}", headers
        )
        return [payload]

    @staticmethod
    def _post_object_bucket(environ: Mapping[str, Any]) -> str | None:
        """The bucket of a path-style POST object form (`POST /<bucket>`), else None."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return None
        if not str(environ.get("CONTENT_TYPE", "")).lower().startswith("multipart/form-data"):
            return None
        parts = [p for p in str(environ.get("PATH_INFO", "")).split("/") if p]
        return parts[0] if len(parts) == 1 else None


def _size(storage: FileStorage) -> int:
    stream = storage.stream
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


class LocalMotoServer:
    """moto in server mode on a thread, behind PostPolicyMiddleware."""

    def __init__(self, host: str, port: int, secrets: Mapping[str, str]) -> None:
        self._host = host
        self._credentials = next(iter(secrets.items()), ("local", "local"))
        app = PostPolicyMiddleware(
            DomainDispatcherApplication(create_backend_app), secrets, self._bucket_cors
        )
        # Binds now: a port in use raises OSError here instead of hanging a thread.
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _bucket_cors(self, bucket: str) -> list[dict[str, Any]]:
        """The bucket's CORS rules, asked of this very server (GetBucketCors)."""
        access_key, secret_key = self._credentials
        s3 = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )
        rules: list[dict[str, Any]] = s3.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
        return rules

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

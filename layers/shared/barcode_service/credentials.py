"""Upstream credentials from Secrets Manager, cached across invocations.

Secret JSON: {"generate": {"appkey"}, "lookup": {"api_key", "secret_key"}}, and
optionally {"upcitemdb": {"user_key"}} (its paid plan; without it, its free trial) and,
for sharing community contributions, {"openfoodfacts": {"user_id", "password"}}.
Values are held as `SecretStr` (credential_models.py) so that no repr, log line or
error shows them. Those pydantic models are imported only once a key is found: a
keyless deployment's first generate request (GENERATE_BACKEND=auto, no appkey) reads
the secret to learn there is none, and loading the models (pydantic's BaseModel:
~105-140 ms of CPU measured here, bench/RESULTS.md) is not needed for that.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)

from . import redaction
from .errors import CredentialsMissing, CredentialsNotConfigured, UpstreamUnavailable

if TYPE_CHECKING:
    from pydantic import SecretStr

    from .credential_models import GenerateCredentials, LookupCredentials, OpenFoodFactsAccount

# botocore logs whole response bodies at DEBUG; a GetSecretValue body is the secret.
redaction.install("botocore.parsers")


def __getattr__(name: str) -> Any:
    """The credential models, still importable from here (loaded on first use)."""
    if name in ("GenerateCredentials", "LookupCredentials", "OpenFoodFactsAccount"):
        from . import credential_models  # noqa: PLC0415 - pydantic: only with a key

        return getattr(credential_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def use_secrets_client(client: Any) -> None:
    """Powertools' Secrets Manager provider, which `SecretStore` reads through, on `client`
    unless it has one. Called before a snapshot: a restored copy's first secret read then
    only sends its request; building the provider's client on that read loads botocore's
    Secrets Manager model (~180 ms of a restored lookup's first miss, measured under
    cProfile). Nothing is read."""
    from aws_lambda_powertools.utilities.parameters.constants import (  # noqa: PLC0415
        DEFAULT_PROVIDERS,
    )

    if "secrets" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=client)


class SecretStore:
    """Reads the credentials secret through Powertools Parameters (cached `max_age` s).

    Reads are one at a time: the lookups an upload worker runs at once would otherwise
    all miss the empty cache together at a cold start and each fetch the secret.
    """

    def __init__(self, secret_id: str, max_age: int = 300) -> None:
        self.secret_id = secret_id
        self.max_age = max_age
        self._lock = threading.Lock()

    def _document(self, refresh: bool) -> dict[str, Any]:
        if not self.secret_id:
            raise CredentialsNotConfigured("no credentials secret is configured (SECRET_ID)")
        try:
            with self._lock:  # the first caller fetches; the others then read its cache
                value = parameters.get_secret(
                    self.secret_id, transform="json", max_age=self.max_age, force_fetch=refresh
                )
        except TransformParameterError:
            raise CredentialsMissing(f"secret {self.secret_id!r} is not a JSON document") from None
        except GetParameterError:
            raise UpstreamUnavailable(
                f"could not read secret {self.secret_id!r} from Secrets Manager"
            ) from None
        if not isinstance(value, dict):
            raise CredentialsMissing(f"secret {self.secret_id!r} is not a JSON object")
        return value

    def _fields(self, section: str, names: tuple[str, ...], refresh: bool) -> dict[str, str]:
        document = self._document(refresh)
        part = document.get(section)
        if not isinstance(part, dict):
            raise CredentialsMissing(f"secret {self.secret_id!r} is missing {section!r}")
        values: dict[str, str] = {}
        for name in names:
            value = part.get(name)
            if not isinstance(value, str):
                raise CredentialsMissing(f"secret {self.secret_id!r} is missing '{section}.{name}'")
            if not value.strip():
                raise CredentialsNotConfigured(
                    f"secret {self.secret_id!r} has an empty '{section}.{name}'"
                )
            values[name] = value.strip()
        return values

    def generate(self, refresh: bool = False) -> GenerateCredentials:
        """Credentials for the generation upstream; `refresh` bypasses the cache."""
        fields = self._fields("generate", ("appkey",), refresh)
        from .credential_models import GenerateCredentials  # noqa: PLC0415 - a key is there

        return GenerateCredentials.model_validate(fields)

    def lookup(self, refresh: bool = False) -> LookupCredentials:
        """Credentials for the lookup upstream; `refresh` bypasses the cache."""
        fields = self._fields("lookup", ("api_key", "secret_key"), refresh)
        from .credential_models import LookupCredentials  # noqa: PLC0415 - keys are there

        return LookupCredentials.model_validate(fields)

    def upcitemdb(self, refresh: bool = False) -> SecretStr | None:
        """UPCitemdb's paid-plan `user_key`; None when there is none (its trial endpoint):
        no secret configured, no `upcitemdb` section, or an empty key."""
        try:
            document = self._document(refresh)
        except CredentialsNotConfigured:
            return None
        part = document.get("upcitemdb")
        if part is None:
            return None
        key = part.get("user_key") if isinstance(part, dict) else None
        if not isinstance(key, str):
            raise CredentialsMissing(f"secret {self.secret_id!r} is missing 'upcitemdb.user_key'")
        if not key.strip():
            return None
        from pydantic import SecretStr  # noqa: PLC0415 - a key is there

        return SecretStr(key.strip())

    def openfoodfacts(self, refresh: bool = False) -> OpenFoodFactsAccount:
        """The Open Food Facts account; CredentialsNotConfigured when the secret has none."""
        if "openfoodfacts" not in self._document(refresh):
            # No section at all: sharing is simply not set up (a broken one is an error).
            raise CredentialsNotConfigured(f"secret {self.secret_id!r} has no 'openfoodfacts'")
        fields = self._fields("openfoodfacts", ("user_id", "password"), refresh)
        from .credential_models import OpenFoodFactsAccount  # noqa: PLC0415 - an account

        return OpenFoodFactsAccount.model_validate(fields)

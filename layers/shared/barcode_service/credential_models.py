"""The credentials' shapes: every value a `SecretStr`, so no repr, log line or error shows it.

Imported by credentials.SecretStore only once a secret holds a key (loading pydantic's
BaseModel and building these costs ~105-140 ms of CPU, which a keyless deployment
never needs).
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr


class GenerateCredentials(BaseModel):
    appkey: SecretStr


class LookupCredentials(BaseModel):
    api_key: SecretStr
    secret_key: SecretStr


class OpenFoodFactsAccount(BaseModel):
    """The operator's Open Food Facts account that shares contributions (its write API)."""

    user_id: SecretStr
    password: SecretStr

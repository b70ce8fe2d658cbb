"""Who is calling: the API key (or signed-in user) a request came with, never its secret.

API Gateway puts the id of the key that passed its check in
`requestContext.identity.apiKeyId` (an id, not the key's value), and, behind a Cognito
user pool authorizer, the user's claims in `requestContext.authorizer.claims`. A
signed-in user wins over the key: the key is shared by every copy of the app, the
user is one person. Budgets and upload ownership are kept per caller, under a hash of
this identity, so no table item or log names a key id or user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CallerKind = Literal["user", "api_key", "anonymous"]


@dataclass(frozen=True)
class Caller:
    """One client of the API: a Cognito user, an API key, or nobody known."""

    kind: CallerKind
    id: str  # the user's `sub` or the key id; never logged

    @property
    def key(self) -> str:
        """A stable, non-reversible name of this caller for table items and comparisons."""
        return hashlib.sha256(f"{self.kind}:{self.id}".encode()).hexdigest()[:32]

    @property
    def known(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Caller("anonymous", "")


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The caller of an API Gateway REST proxy event."""
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        return ANONYMOUS
    authorizer = context.get("authorizer")
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if isinstance(claims, Mapping):
        sub = claims.get("sub")
        if isinstance(sub, str) and sub:
            return Caller("user", sub)
    identity = context.get("identity")
    key_id = identity.get("apiKeyId") if isinstance(identity, Mapping) else None
    if isinstance(key_id, str) and key_id:
        return Caller("api_key", key_id)
    return ANONYMOUS

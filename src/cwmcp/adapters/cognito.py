"""A Cognito user pool as the token issuer: the right issuer, JWKS location and claim rules.

Cognito access tokens carry no ``aud``: the app client is in ``client_id`` and the kind of token in
``token_use``, so the policy checks those instead (ID tokens carry the client in ``aud``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

import httpx2

from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.claims import DEFAULT_LEEWAY, ClaimsPolicy
from cwmcp.domain.errors import ConfigurationError

_POOL_ID = re.compile(r"[\w-]+_[0-9A-Za-z]+")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


def cognito_issuer(pool_id: str, region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def cognito_verifier(
    pool_id: str,
    region: str,
    client_ids: Sequence[str] | str,
    token_use: str = "access",  # noqa: S107 - a claim value, not a secret
    jwks_url: str | None = None,
    http: httpx2.AsyncClient | None = None,
    *,
    leeway: float = DEFAULT_LEEWAY,
    required_scopes: tuple[str, ...] = (),
    timeout: float = 3.0,
    clock: Callable[[], float] = time.time,
    cache_size: int = 10_000,
) -> JwtVerifier:
    """A ``JwtVerifier`` for tokens of user pool ``pool_id`` issued to one of ``client_ids``
    (a sequence or a comma-separated string; empty accepts every app client of the pool)."""
    raw = client_ids.split(",") if isinstance(client_ids, str) else client_ids
    ids = tuple(c.strip() for c in raw if c.strip())
    problems: list[str] = []
    if not _POOL_ID.fullmatch(pool_id):
        problems.append(f"Cognito user pool id '{pool_id}' is not of the form <region>_<id>")
    elif not pool_id.startswith(f"{region}_"):
        problems.append(f"Cognito user pool '{pool_id}' is not in region '{region}'")
    if not _REGION.fullmatch(region):
        problems.append(f"Cognito region '{region}' is not an AWS region name")
    if token_use not in ("access", "id"):
        problems.append(f"Cognito token use must be 'access' or 'id', not '{token_use}'")
    if problems:
        raise ConfigurationError(problems)
    issuer = cognito_issuer(pool_id, region)
    keys = JwksKeySet(jwks_url=jwks_url or f"{issuer}/.well-known/jwks.json", http=http, timeout=timeout)
    policy = ClaimsPolicy(
        issuer=issuer,
        leeway=leeway,
        required_scopes=required_scopes,
        token_use=token_use,
        client_ids=ids,
    )
    return JwtVerifier(keys, policy, ("RS256",), clock=clock, cache_size=cache_size)

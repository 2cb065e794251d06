"""AWS credentials carried in a token's claims (``token-claims`` mode). Pure.

The check runs twice on purpose: the ASGI wrapper calls ``missing_claims`` before any tool runs
(so the caller gets a 401 naming the claims), and the broker refuses again if called anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwmcp.domain.credentials import AwsCredentials
from cwmcp.domain.errors import InvalidToken
from cwmcp.domain.identity import Identity

CLAIM_NAMES = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def missing_claims(identity: Identity | Mapping[str, Any]) -> list[str]:
    """The credential claims that are absent, empty or not strings, in ``CLAIM_NAMES`` order."""
    claims = identity.claims if isinstance(identity, Identity) else identity
    return [name for name in CLAIM_NAMES if not isinstance(claims.get(name), str) or not claims.get(name)]


def credentials_from_claims(identity: Identity) -> AwsCredentials:
    """The credentials in the claims; they expire with the token (``exp``).

    Raises ``InvalidToken`` naming every missing claim (never a value).
    """
    missing = missing_claims(identity)
    if missing:
        raise InvalidToken(f"Token does not contain required AWS credentials: {', '.join(missing)}")
    claims = identity.claims
    return AwsCredentials(
        access_key_id=claims["aws_access_key_id"],
        secret_access_key=claims["aws_secret_access_key"],
        session_token=claims["aws_session_token"],
        expires_at=identity.expires_at,
    )

"""Pure checks of a token's claims against a policy. Time is passed in; nothing is read here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwmcp.domain.errors import InsufficientScope, InvalidToken
from cwmcp.domain.identity import scopes_of

DEFAULT_LEEWAY = 60.0


@dataclass(frozen=True, slots=True)
class ClaimsPolicy:
    """What a valid token must say.

    ``audiences`` empty means ``aud`` is not checked: only for Cognito access tokens, which carry
    ``client_id`` instead (checked through ``client_ids``). ``token_use`` is Cognito's claim.
    """

    issuer: str
    audiences: tuple[str, ...] = ()
    leeway: float = DEFAULT_LEEWAY
    required_scopes: tuple[str, ...] = ()
    token_use: str | None = None
    client_ids: tuple[str, ...] = ()


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"Token claim '{name}' must be a number")
    return float(value)


def check_times(claims: Mapping[str, Any], now: float, leeway: float) -> None:
    exp = _numeric(claims, "exp")
    if exp is None:
        raise InvalidToken("Token has no expiry ('exp')")
    if exp + leeway <= now:
        raise InvalidToken("Token has expired")
    nbf = _numeric(claims, "nbf")
    if nbf is not None and nbf - leeway > now:
        raise InvalidToken("Token is not yet valid")
    iat = _numeric(claims, "iat")
    if iat is not None and iat - leeway > now:
        raise InvalidToken("Token was issued in the future")


def check_issuer(claims: Mapping[str, Any], issuer: str) -> None:
    if claims.get("iss") != issuer:
        raise InvalidToken("Invalid token issuer")


def check_audience(claims: Mapping[str, Any], audiences: tuple[str, ...]) -> None:
    if not audiences:
        return
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in values):
        raise InvalidToken("Invalid token audience")


def check_cognito(claims: Mapping[str, Any], token_use: str, client_ids: tuple[str, ...]) -> None:
    """Cognito: ``token_use`` must match; access tokens carry ``client_id``, ID tokens ``aud``."""
    if claims.get("token_use") != token_use:
        raise InvalidToken(f"Invalid token use: expected a Cognito {token_use} token")
    if not client_ids:
        return
    if token_use == "access":
        if claims.get("client_id") not in client_ids:
            raise InvalidToken("Invalid token client")
    else:
        check_audience(claims, client_ids)


def check_scopes(claims: Mapping[str, Any], required: tuple[str, ...]) -> None:
    if not required:
        return
    missing = [s for s in required if s not in scopes_of(claims)]
    if missing:
        raise InsufficientScope(f"Token lacks required scope: {' '.join(missing)}", required)


def check_claims(claims: Mapping[str, Any], now: float, policy: ClaimsPolicy) -> None:
    """Raise ``InvalidToken`` or ``InsufficientScope`` unless ``claims`` satisfy ``policy`` at ``now``."""
    check_times(claims, now, policy.leeway)
    check_issuer(claims, policy.issuer)
    check_audience(claims, policy.audiences)
    if policy.token_use is not None:
        check_cognito(claims, policy.token_use, policy.client_ids)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("Token has no subject ('sub')")
    check_scopes(claims, policy.required_scopes)

"""Who is calling: the verified identity a token turns into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified caller. Claims and the raw token stay out of ``repr`` (they may hold secrets)."""

    subject: str
    issuer: str
    email: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()
    scopes: frozenset[str] = frozenset()
    expires_at: float | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)
    token: str = field(default="", repr=False, compare=False)

    @property
    def key(self) -> str:
        """A stable key for per-user caches: issuer and subject together."""
        return f"{self.issuer}\x00{self.subject}"


def identity_from_claims(claims: Mapping[str, Any], token: str) -> Identity:
    """Build an ``Identity`` from claims that were already verified."""
    scopes = scopes_of(claims)
    raw_groups = claims.get("groups", claims.get("cognito:groups", ()))
    groups: tuple[str, ...]
    if isinstance(raw_groups, str):
        groups = (raw_groups,)
    elif isinstance(raw_groups, list | tuple):
        groups = tuple(str(g) for g in raw_groups)
    else:
        groups = ()
    email = claims.get("email")
    name = claims.get("name") or claims.get("preferred_username") or claims.get("username")
    exp = claims.get("exp")
    return Identity(
        subject=str(claims.get("sub", "")),
        issuer=str(claims.get("iss", "")),
        email=email if isinstance(email, str) and email else None,
        name=name if isinstance(name, str) and name else None,
        groups=groups,
        scopes=scopes,
        expires_at=float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
        claims=MappingProxyType(dict(claims)),
        token=token,
    )


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (space-separated, OAuth) or ``scp`` (list or string, Okta/Entra)."""
    found: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list | tuple):
            found.update(str(v) for v in value)
    return frozenset(found)

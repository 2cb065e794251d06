"""A small local OIDC issuer for tests and ``cwmcp demo``: discovery, a JWKS, and token minting.

It signs RS256 tokens with RSA keys it generates itself, can rotate keys (keeping the old one
published or not), and can simulate an outage (503, or hanging first) so the verifier's cache,
refetch and timeout rules can be seen working over real HTTP.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cwmcp.entrypoints.background import serve_in_thread

_AUDIENCE_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}


def _new_key() -> _Key:
    return _Key(secrets.token_hex(8), rsa.generate_private_key(public_exponent=65537, key_size=2048))


class LocalIssuer:
    """An ASGI app serving ``/.well-known/openid-configuration`` and ``/jwks``; ``issuer`` is its base URL.

    ``down = True`` makes both answer 503; with ``hang = True`` too, they first stall for
    ``hang_seconds`` (longer than any sane client timeout). ``jwks_hits`` counts JWKS requests.
    """

    def __init__(
        self,
        issuer: str = "",
        *,
        audience: str = "cwmcp",
        hang_seconds: float = 30.0,
        cache_max_age: int | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.down = False
        self.hang = False
        self.hang_seconds = hang_seconds
        self.cache_max_age = cache_max_age
        self.jwks_hits = 0
        self.discovery_hits = 0
        self._current = _new_key()
        self._published: list[_Key] = [self._current]
        self._all: dict[str, _Key] = {self._current.kid: self._current}
        self._app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve in a background thread; the issuer becomes the base URL unless one was given."""
        with serve_in_thread(self, host, port) as url:
            if not self.issuer:
                self.issuer = url
            yield url

    @property
    def kid(self) -> str:
        """The key id new tokens are signed with."""
        return self._current.kid

    @property
    def published_kids(self) -> list[str]:
        return [k.kid for k in self._published]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self._published]}

    def rotate(self, *, keep_old: bool = True) -> str:
        """Sign with a new key from now on; the old key stays in the JWKS only when ``keep_old``."""
        self._current = _new_key()
        self._all[self._current.kid] = self._current
        self._published = [*self._published, self._current] if keep_old else [self._current]
        return self._current.kid

    def mint(
        self,
        sub: str,
        *,
        email: str | None = None,
        groups: Sequence[str] = (),
        scope: str | None = None,
        aud: str | list[str] | None = _AUDIENCE_DEFAULT,
        exp_in: float = 3600,
        extra_claims: Mapping[str, Any] | None = None,
        kid: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed RS256 token. ``aud=None`` leaves ``aud`` out; an ``extra_claims`` value of
        ``None`` removes that claim. ``kid`` picks a key this issuer ever had; an unknown ``kid``
        is put in the header of a token signed with the current key."""
        if not self.issuer:
            raise RuntimeError("LocalIssuer has no issuer URL yet: serve it or pass issuer=")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": self.audience if aud is _AUDIENCE_DEFAULT else aud,
            "iat": now,
            "exp": int(now + exp_in),
            "jti": secrets.token_hex(8),
        }
        if aud is None:
            del claims["aud"]
        if email is not None:
            claims["email"] = email
        if groups:
            claims["groups"] = list(groups)
        if scope is not None:
            claims["scope"] = scope
        for name, value in (extra_claims or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self._all.get(kid or self._current.kid, self._current)
        header = {"kid": kid or key.kid, **(headers or {})}
        return jwt.encode(claims, key.private, algorithm="RS256", headers=header)

    async def _outage(self) -> Response | None:
        if not self.down:
            return None
        if self.hang:
            await anyio.sleep(self.hang_seconds)
        return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)

    async def _discovery(self, request: Request) -> Response:
        self.discovery_hits += 1
        outage = await self._outage()
        if outage is not None:
            return outage
        return JSONResponse(
            {
                "issuer": self.issuer,
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_hits += 1
        outage = await self._outage()
        if outage is not None:
            return outage
        headers = {"cache-control": f"max-age={self.cache_max_age}"} if self.cache_max_age else None
        return JSONResponse(self.jwks(), headers=headers)

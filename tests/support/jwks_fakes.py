"""Keys, tokens and an in-process JWKS endpoint (an httpx2 MockTransport) for verifier unit tests."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import anyio
import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://issuer.example.com"
AUDIENCE = "cwmcp"
JWKS_URL = f"{ISSUER}/jwks"


@cache
def rsa_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(index: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private: Any, kid: str | None, **extra: Any) -> dict[str, Any]:
    """The public JWK of ``private``; ``extra`` adds or (with ``None``) removes members."""
    if isinstance(private, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    if kid is not None:
        jwk["kid"] = kid
    for name, value in extra.items():
        if value is None:
            jwk.pop(name, None)
        else:
            jwk[name] = value
    return jwk


def b64(data: bytes | str | Mapping[str, Any]) -> str:
    if isinstance(data, Mapping):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(sub: str = "alice", exp_in: float = 3600, **extra: Any) -> dict[str, Any]:
    """Valid claims for ``ISSUER``/``AUDIENCE``; an ``extra`` value of ``None`` removes that claim."""
    now = int(time.time())
    out: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": int(now + exp_in)}
    for name, value in extra.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def sign(
    payload: Mapping[str, Any],
    private: Any = None,
    *,
    kid: str | None = "rsa-1",
    alg: str = "RS256",
    **headers: Any,
) -> str:
    """A token signed by ``private`` (default: RSA key 0) with ``kid`` and any other headers."""
    header: dict[str, Any] = {"kid": kid} if kid is not None else {}
    header.update(headers)
    return jwt.encode(
        dict(payload), private if private is not None else rsa_key(0), algorithm=alg, headers=header
    )


def with_header(header: Mapping[str, Any], payload: Mapping[str, Any], signature: bytes = b"") -> str:
    """A hand-built token: exactly the given header, payload and signature bytes."""
    return f"{b64(header)}.{b64(payload)}.{b64(signature) if signature else ''}"


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeJwks:
    """Serves ``keys`` at ``JWKS_URL`` (and discovery at ``ISSUER``). Flip ``status``/``body``/``error``
    to simulate outages; ``delay`` makes each answer wait (so concurrent callers overlap)."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None
    error: Exception | None = None
    delay: float = 0.0
    cache_control: str | None = None
    discovery: dict[str, Any] = field(default_factory=lambda: {"issuer": ISSUER, "jwks_uri": JWKS_URL})
    hits: int = 0
    discovery_hits: int = 0

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        is_discovery = request.url.path.endswith("/openid-configuration")
        if is_discovery:
            self.discovery_hits += 1
        else:
            self.hits += 1
        if self.delay:
            await anyio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        if self.body is not None:
            return httpx2.Response(self.status, content=self.body)
        document: Any = self.discovery if is_discovery else {"keys": self.keys}
        headers = {"cache-control": self.cache_control} if self.cache_control else {}
        return httpx2.Response(self.status, json=document, headers=headers)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle), follow_redirects=False)


def default_keys() -> list[dict[str, Any]]:
    """RSA key 0 as ``rsa-1`` and EC key 0 as ``ec-1``, both for signing."""
    return [public_jwk(rsa_key(0), "rsa-1", alg="RS256", use="sig"), public_jwk(ec_key(0), "ec-1", use="sig")]

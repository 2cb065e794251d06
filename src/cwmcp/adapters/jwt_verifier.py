"""JWT bearer tokens -> ``Identity``: the ``TokenVerifier`` port over an issuer's JWKS.

Checks run cheapest first, so junk costs little: size, shape, header policy (asymmetric ``alg``
from an allow-list, no key-carrying headers, no ``crit`` extensions), key lookup, ``alg``/key fit,
signature (PyJWT's algorithm implementations), then our own claim checks, so refusal reasons are
ours. A verified token is remembered by its SHA-256 until its ``exp``: a repeated token costs a
hash, a dict lookup and one float compare. Every failure is a domain ``AuthError`` whose
description never contains the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from jwt.algorithms import Algorithm, get_default_algorithms

from cwmcp.adapters.jwks import JwksKeySet, SigningKey
from cwmcp.domain.claims import ClaimsPolicy, check_claims
from cwmcp.domain.errors import AuthError, ConfigurationError, InvalidToken
from cwmcp.domain.identity import Identity, identity_from_claims

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 8 * 1024
MAX_KID_LENGTH = 256
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K", "EdDSA"}
)
_EC_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}
_KEY_CARRYING_HEADERS = ("jku", "x5u", "jwk", "x5c")
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

MALFORMED = "Malformed token"
TOO_LARGE = "Token is too large"
ALG_NOT_ALLOWED = "Token algorithm not allowed"
BAD_SIGNATURE = "Invalid token signature"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Strict JSON: NaN, Infinity and numbers that overflow to infinity would slip past time checks.
_JSON = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = _JSON.decode(_b64(segment).decode("utf-8"))
    except (ValueError, RecursionError, binascii.Error):
        raise InvalidToken(MALFORMED) from None
    if not isinstance(value, dict):
        raise InvalidToken(MALFORMED)
    return value


def key_fits(alg: str, key: SigningKey) -> bool:
    """Whether a token signed with ``alg`` may be checked with ``key`` (no algorithm confusion)."""
    if key.alg is not None and key.alg != alg:
        return False
    if alg[:2] in ("RS", "PS"):
        return key.kty == "RSA"
    if alg == "EdDSA":
        return key.kty == "OKP"
    return key.kty == "EC" and key.crv == _EC_CURVE.get(alg)


class JwtVerifier:
    """Verifies JWTs signed by one issuer's keys against a ``ClaimsPolicy``."""

    def __init__(
        self,
        keys: JwksKeySet,
        policy: ClaimsPolicy,
        algorithms: tuple[str, ...] = ("RS256",),
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        problems = [
            f"token algorithm '{a}' is not allowed: use asymmetric ones ({allowed})"
            for a in algorithms
            if a not in ASYMMETRIC_ALGORITHMS
        ]
        if not algorithms:
            problems.append("no token algorithms configured")
        if keys.issuer is not None and keys.issuer != policy.issuer.rstrip("/"):
            problems.append(
                f"key set issuer '{keys.issuer}' differs from the policy issuer '{policy.issuer}'"
            )
        if problems:
            raise ConfigurationError(problems)
        known = get_default_algorithms()
        self._algorithms: dict[str, Algorithm] = {a: known[a] for a in algorithms}
        self._keys = keys
        self._policy = policy
        self._clock = clock
        self._cache_size = max(0, cache_size)
        self._cache: OrderedDict[bytes, tuple[float, Identity]] = OrderedDict()

    @property
    def policy(self) -> ClaimsPolicy:
        return self._policy

    @property
    def keys(self) -> JwksKeySet:
        """The key set (``cwmcp check`` fetches it to prove the issuer is reachable)."""
        return self._keys

    async def verify(self, token: str) -> Identity:
        if type(token) is not str:
            raise InvalidToken(MALFORMED)
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken(TOO_LARGE)
        if not token.isascii():
            raise InvalidToken(MALFORMED)
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._cache.get(digest)
        if hit is not None:
            if hit[0] > self._clock():
                self._cache.move_to_end(digest)
                return hit[1]
            self._cache.pop(digest, None)
        try:
            identity = await self._verify(token)
        except AuthError:
            raise
        except Exception as exc:  # the last line of defence: nothing but AuthError may escape
            log.warning("Token verification failed unexpectedly (%s)", type(exc).__name__)
            raise InvalidToken("Invalid token") from None
        if self._cache_size and identity.expires_at is not None:
            self._cache[digest] = (identity.expires_at, identity)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return identity

    async def _verify(self, token: str) -> Identity:
        if token.count(".") != 2 or _SHAPE.fullmatch(token) is None:
            raise InvalidToken(MALFORMED)
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = _json_object(header_b64)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise InvalidToken(ALG_NOT_ALLOWED)
        algorithm = self._algorithms[alg]
        if any(name in header for name in _KEY_CARRYING_HEADERS):
            raise InvalidToken("Token header parameter not allowed")
        if "crit" in header and header["crit"] != []:
            raise InvalidToken("Unsupported critical token header")
        if "b64" in header and header["b64"] is not True:
            raise InvalidToken("Unsupported token header")
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_LENGTH):
            raise InvalidToken("Invalid token key id")
        key = await self._keys.get(kid)
        if not key_fits(alg, key):
            raise InvalidToken(ALG_NOT_ALLOWED)
        if not self._signature_ok(algorithm, key, f"{header_b64}.{payload_b64}", signature_b64):
            raise InvalidToken(BAD_SIGNATURE)
        claims = _json_object(payload_b64)
        check_claims(claims, self._clock(), self._policy)
        return identity_from_claims(claims, token)

    @staticmethod
    def _signature_ok(algorithm: Algorithm, key: SigningKey, signing_input: str, signature_b64: str) -> bool:
        try:
            prepared = algorithm.prepare_key(key.jwk.key)
            return bool(algorithm.verify(signing_input.encode(), prepared, _b64(signature_b64)))
        except Exception:  # a forged signature may upset the crypto layer in many ways; all mean "no"
            return False

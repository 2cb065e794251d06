"""The signing keys of one issuer: fetched from its JWKS, parsed once, cached with bounded staleness.

Why the rules below: a verifier must survive its identity provider being slow or down (cached keys
keep working for up to ``max_stale``), must pick up a rotated key without a restart (an unknown
``kid`` triggers a refetch), and must not let strangers turn random ``kid`` values into a flood of
requests to the provider (at most one refetch per ``min_refetch_interval``; concurrent misses share
one fetch). No background task: the request that finds the cache out of date does the refetch.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import anyio
import httpx2
from jwt import PyJWK, PyJWTError

from cwmcp.adapters.singleflight import SingleFlight
from cwmcp.domain.errors import ConfigurationError, InvalidToken, ProviderUnavailable

log = logging.getLogger(__name__)

DEFAULT_TTL = 300.0
MIN_TTL, MAX_TTL = 60.0, 3600.0
MAX_DOCUMENT_BYTES = 512 * 1024
UNKNOWN_KEY = "Unknown signing key"
_ASYMMETRIC_KTY = frozenset({"RSA", "EC", "OKP"})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_FLIGHT = "jwks"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One verification key with what the verifier needs to match it against a token's ``alg``."""

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    jwk: PyJWK


@dataclass(frozen=True, slots=True)
class KeyIndex:
    """Keys by ``kid``; ``sole`` is set when the set holds exactly one key."""

    by_kid: Mapping[str, SigningKey]
    sole: SigningKey | None
    fetched_at: float
    expires_at: float

    def find(self, kid: str | None) -> SigningKey | None:
        if kid is not None:
            key = self.by_kid.get(kid)
            if key is not None:
                return key
        sole = self.sole
        if sole is not None and (kid is None or sole.kid is None):
            return sole
        return None


def parse_key(raw: Any) -> SigningKey | None:
    """A usable public signing key, or ``None``: symmetric, encryption-only, private or broken keys."""
    if not isinstance(raw, dict):
        return None
    kty, use, kid, alg = raw.get("kty"), raw.get("use"), raw.get("kid"), raw.get("alg")
    if kty not in _ASYMMETRIC_KTY or (use is not None and use != "sig"):
        return None
    ops = raw.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    if (
        "d" in raw
        or (kid is not None and not isinstance(kid, str))
        or (alg is not None and not isinstance(alg, str))
    ):
        return None
    try:
        jwk = PyJWK(raw)
        if jwk.Algorithm.check_key_length(jwk.key):  # e.g. RSA below 2048 bits
            return None
    except (PyJWTError, ValueError, TypeError, KeyError):
        return None
    crv = raw.get("crv")
    return SigningKey(kid, str(kty), crv if isinstance(crv, str) else None, alg, jwk)


def parse_jwks(document: Any, fetched_at: float, ttl: float) -> KeyIndex:
    """Index a JWKS document. Keys without ``kid`` are kept only when they are the only key."""
    raw_keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(raw_keys, list):
        raise ValueError("not a JWK set")
    keys = [k for k in (parse_key(raw) for raw in raw_keys) if k is not None]
    by_kid = {k.kid: k for k in keys if k.kid is not None}
    return KeyIndex(by_kid, keys[0] if len(keys) == 1 else None, fetched_at, fetched_at + ttl)


def ttl_from_cache_control(value: str | None, default: float = DEFAULT_TTL) -> float:
    """``max-age`` bounded to [60, 3600] seconds; ``default`` when there is none."""
    match = _MAX_AGE.search(value or "")
    if match is None:
        return default
    return min(max(float(match.group(1)), MIN_TTL), MAX_TTL)


class JwksKeySet:
    """Signing keys for one issuer, from OIDC discovery (``issuer``) or an explicit ``jwks_url``."""

    def __init__(
        self,
        issuer: str | None = None,
        *,
        jwks_url: str | None = None,
        http: httpx2.AsyncClient | None = None,
        timeout: float = 3.0,
        ttl: float = DEFAULT_TTL,
        min_refetch_interval: float = 10.0,
        retry_interval: float = 5.0,
        max_stale: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        problems = [
            f"{name}: '{url}' is not an http(s) URL"
            for name, url in (("issuer", issuer), ("JWKS URL", jwks_url))
            if url is not None and not url.startswith(("https://", "http://"))
        ]
        if issuer is None and jwks_url is None:
            problems.append("JWKS: give an issuer (for OIDC discovery) or a JWKS URL")
        if timeout <= 0 or not math.isfinite(timeout):
            problems.append("JWKS: the timeout must be a positive number of seconds")
        if problems:
            raise ConfigurationError(problems)
        self.issuer = issuer.rstrip("/") if issuer else None
        self.jwks_url = jwks_url
        self.fetch_count = 0
        self._http = http
        self._own_http: httpx2.AsyncClient | None = None
        self._timeout = timeout
        self._ttl = ttl
        self._min_refetch = min_refetch_interval
        self._retry = retry_interval
        self._max_stale = max_stale
        self._clock = clock
        self._keys: KeyIndex | None = None
        self._last_attempt = -math.inf
        self._failed_at: float | None = None
        self._flight: SingleFlight[str, KeyIndex] = SingleFlight()

    async def get(self, kid: str | None) -> SigningKey:
        """The key for ``kid``. Raises ``InvalidToken`` (unknown key) or ``ProviderUnavailable``."""
        now = self._clock()
        keys = self._keys
        if keys is not None and now - keys.fetched_at <= self._max_stale:
            key = keys.find(kid)
            if key is not None and (now < keys.expires_at or self._refreshing() or self._backing_off(now)):
                return key
            if key is None and now - self._last_attempt < self._min_refetch:
                raise InvalidToken(UNKNOWN_KEY)
            try:
                keys = await self._refresh()
            except ProviderUnavailable:
                if key is not None:
                    return key  # stale on failure: bounded by max_stale
                raise
        else:
            if self._backing_off(now):
                assert self._failed_at is not None
                wait = max(1, math.ceil(self._retry - (now - self._failed_at)))
                raise ProviderUnavailable("Identity provider keys are unavailable", retry_after=wait)
            keys = await self._refresh()
        found = keys.find(kid)
        if found is None:
            raise InvalidToken(UNKNOWN_KEY)
        return found

    async def refresh(self) -> KeyIndex:
        """Fetch now (sharing any fetch in flight). Raises ``ProviderUnavailable`` on failure."""
        return await self._refresh()

    async def aclose(self) -> None:
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None

    def _refreshing(self) -> bool:
        return self._flight.in_flight(_FLIGHT)

    def _backing_off(self, now: float) -> bool:
        return self._failed_at is not None and now - self._failed_at < self._retry

    async def _refresh(self) -> KeyIndex:
        return await self._flight.run(_FLIGHT, self._fetch)

    async def _fetch(self) -> KeyIndex:
        self._last_attempt = self._clock()
        self.fetch_count += 1
        try:
            with anyio.fail_after(self._timeout):
                url = self.jwks_url or await self._discover()
                document, cache_control = await self._get_json(url, "JWKS")
            keys = parse_jwks(document, self._clock(), ttl_from_cache_control(cache_control, self._ttl))
        except TimeoutError:
            self._failed(ProviderUnavailable("Identity provider timed out"))
        except ValueError:
            self._failed(ProviderUnavailable("Identity provider sent an invalid JWKS"))
        except ProviderUnavailable as exc:
            self._failed(exc)
        except Exception as exc:  # an unforeseen client failure still means "no keys", never a 500
            log.warning("JWKS fetch failed unexpectedly (%s)", type(exc).__name__)
            self._failed(ProviderUnavailable("Identity provider keys could not be fetched"))
        self._keys, self._failed_at = keys, None
        return keys

    def _failed(self, exc: ProviderUnavailable) -> NoReturn:
        self._failed_at = self._clock()
        log.warning("JWKS fetch for %s failed: %s", self.jwks_url or self.issuer, exc.description)
        raise exc

    async def _discover(self) -> str:
        assert self.issuer is not None
        document, _ = await self._get_json(f"{self.issuer}/.well-known/openid-configuration", "Discovery")
        if not isinstance(document, dict):
            raise ProviderUnavailable("Identity provider discovery document is invalid")
        issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            raise ProviderUnavailable("Identity provider discovery names a different issuer")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ProviderUnavailable("Identity provider discovery has no usable jwks_uri")
        self.jwks_url = jwks_uri
        return jwks_uri

    def _client(self) -> httpx2.AsyncClient:
        if self._http is not None:
            return self._http
        if self._own_http is None:
            self._own_http = httpx2.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._own_http

    async def _get_json(self, url: str, what: str) -> tuple[Any, str | None]:
        body = bytearray()
        try:
            async with self._client().stream("GET", url, headers={"accept": "application/json"}) as resp:
                if resp.status_code != 200:
                    raise ProviderUnavailable(f"Identity provider answered HTTP {resp.status_code} ({what})")
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise ProviderUnavailable(f"Identity provider {what} document is too large")
                cache_control = resp.headers.get("cache-control")
        except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError, OSError) as exc:
            raise ProviderUnavailable(f"Identity provider is unreachable ({what})") from exc
        try:
            return json.loads(body), cache_control
        except (ValueError, RecursionError):
            raise ProviderUnavailable(f"Identity provider {what} answer is not JSON") from None

"""JwksKeySet: parsing, penalty box, TTL refresh, stale-on-failure, outages and single flight.

The JWKS endpoint is an in-process httpx2 MockTransport; time is a fake clock the tests move.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx2
import pytest

from cwmcp.adapters.jwks import JwksKeySet, parse_jwks, ttl_from_cache_control
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.errors import ConfigurationError, InvalidToken, ProviderUnavailable
from tests.support.jwks_fakes import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    FakeClock,
    FakeJwks,
    claims,
    default_keys,
    ec_key,
    public_jwk,
    rsa_key,
    sign,
)

pytestmark = pytest.mark.anyio


def key_set(fake: FakeJwks, clock: FakeClock, **kw: Any) -> JwksKeySet:
    return JwksKeySet(jwks_url=JWKS_URL, http=fake.client(), clock=clock, **kw)


@pytest.fixture
def fake() -> FakeJwks:
    return FakeJwks(keys=default_keys())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- parsing -------------------------------------------------------------------------------


def test_symmetric_encryption_private_and_weak_keys_are_dropped() -> None:
    good = public_jwk(rsa_key(0), "good", use="sig")
    doc = {
        "keys": [
            good,
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            public_jwk(rsa_key(1), "enc", use="enc"),
            public_jwk(rsa_key(1), "ops", key_ops=["encrypt"]),
            {**public_jwk(rsa_key(1), "private"), "d": "AQAB"},
            public_jwk(rsa_key(2, 1024), "weak"),
            public_jwk(rsa_key(1), "hs-alg", alg="HS256"),
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not a key",
        ]
    }
    index = parse_jwks(doc, 0.0, 300.0)
    assert set(index.by_kid) == {"good"}
    assert index.find("good") is not None and index.find("good").kty == "RSA"  # type: ignore[union-attr]
    assert index.find("hmac") is None and index.find("enc") is None


def test_a_key_without_kid_is_used_only_when_it_is_the_only_key() -> None:
    alone = parse_jwks({"keys": [public_jwk(rsa_key(0), None)]}, 0.0, 300.0)
    assert alone.find(None) is not None and alone.find("any-kid") is not None
    two = parse_jwks({"keys": [public_jwk(rsa_key(0), None), public_jwk(rsa_key(1), "k1")]}, 0.0, 300.0)
    assert two.find(None) is None and two.find("other") is None
    assert two.find("k1") is not None


def test_not_a_jwks_is_refused() -> None:
    docs: list[Any] = [{"keys": "x"}, [], {"nokeys": []}]
    for doc in docs:
        with pytest.raises(ValueError):
            parse_jwks(doc, 0.0, 300.0)


@pytest.mark.parametrize(
    ("header", "ttl"),
    [
        (None, 300.0),
        ("max-age=120", 120.0),
        ("public, max-age=5", 60.0),
        ("max-age=86400", 3600.0),
        ("no-cache", 300.0),
    ],
)
def test_ttl_from_cache_control(header: str | None, ttl: float) -> None:
    assert ttl_from_cache_control(header) == ttl


def test_needs_an_issuer_or_a_jwks_url() -> None:
    with pytest.raises(ConfigurationError):
        JwksKeySet()
    with pytest.raises(ConfigurationError):
        JwksKeySet(jwks_url="file:///etc/passwd")


# --- fetching ------------------------------------------------------------------------------


async def test_keys_are_fetched_once_and_served_from_cache(fake: FakeJwks, clock: FakeClock) -> None:
    keys = key_set(fake, clock)
    assert (await keys.get("rsa-1")).kid == "rsa-1"
    assert (await keys.get("ec-1")).crv == "P-256"
    clock.advance(299)
    await keys.get("rsa-1")
    assert keys.fetch_count == 1 and fake.hits == 1


async def test_discovery_finds_the_jwks(fake: FakeJwks, clock: FakeClock) -> None:
    keys = JwksKeySet(ISSUER, http=fake.client(), clock=clock)
    assert (await keys.get("rsa-1")).kid == "rsa-1"
    assert keys.jwks_url == JWKS_URL and fake.discovery_hits == 1


async def test_discovery_naming_another_issuer_is_refused(fake: FakeJwks, clock: FakeClock) -> None:
    fake.discovery = {"issuer": "https://evil.example.com", "jwks_uri": JWKS_URL}
    keys = JwksKeySet(ISSUER, http=fake.client(), clock=clock)
    with pytest.raises(ProviderUnavailable):
        await keys.get("rsa-1")
    assert fake.hits == 0


async def test_unknown_kid_refetches_at_most_once_per_penalty_window(
    fake: FakeJwks, clock: FakeClock
) -> None:
    keys = key_set(fake, clock)
    await keys.get("rsa-1")
    clock.advance(11)
    with pytest.raises(InvalidToken, match="Unknown signing key"):
        await keys.get("nope")
    assert keys.fetch_count == 2
    for _ in range(20):
        clock.advance(0.4)
        with pytest.raises(InvalidToken, match="Unknown signing key"):
            await keys.get(f"nope-{_}")
    assert keys.fetch_count == 2, "refetched inside the penalty window"
    clock.advance(10)
    fake.keys.append(public_jwk(rsa_key(1), "rsa-2"))
    assert (await keys.get("rsa-2")).kid == "rsa-2"
    assert keys.fetch_count == 3


async def test_keys_are_refreshed_after_the_ttl_and_removed_keys_stop_working(
    fake: FakeJwks, clock: FakeClock
) -> None:
    fake.cache_control = "max-age=120"
    keys = key_set(fake, clock)
    await keys.get("rsa-1")
    clock.advance(119)
    await keys.get("rsa-1")
    assert keys.fetch_count == 1
    fake.keys = [public_jwk(rsa_key(1), "rsa-2")]
    clock.advance(2)
    with pytest.raises(InvalidToken, match="Unknown signing key"):
        await keys.get("rsa-1")
    assert keys.fetch_count == 2
    assert (await keys.get("rsa-2")).kid == "rsa-2"


async def test_a_failed_refresh_keeps_the_cached_keys_for_at_most_a_day(
    fake: FakeJwks, clock: FakeClock
) -> None:
    keys = key_set(fake, clock)
    await keys.get("rsa-1")
    fake.status = 503
    clock.advance(301)
    assert (await keys.get("rsa-1")).kid == "rsa-1"
    assert keys.fetch_count == 2
    await keys.get("rsa-1")
    assert keys.fetch_count == 2, "retried at once after a failure"
    clock.advance(6)
    await keys.get("rsa-1")
    assert keys.fetch_count == 3
    clock.advance(86_400 - 307 + 1)
    with pytest.raises(ProviderUnavailable):
        await keys.get("rsa-1")
    fake.status = 200
    clock.advance(6)
    assert (await keys.get("rsa-1")).kid == "rsa-1"


@pytest.mark.parametrize(
    "outage",
    [
        {"status": 503},
        {"status": 500},
        {"status": 404},
        {"status": 302},
        {"body": b"<html>busy</html>"},
        {"body": b'{"keys": "nope"}'},
        {"body": b"x" * (600 * 1024)},
        {"error": httpx2.ConnectError("refused")},
        {"error": httpx2.ReadTimeout("slow")},
        {"error": RuntimeError("an unforeseen client failure")},
    ],
)
async def test_no_cached_keys_and_a_broken_endpoint_is_provider_unavailable(
    outage: dict[str, Any], clock: FakeClock
) -> None:
    fake = FakeJwks(keys=default_keys(), **outage)
    keys = key_set(fake, clock)
    with pytest.raises(ProviderUnavailable) as err:
        await keys.get("rsa-1")
    assert err.value.retry_after >= 1 and err.value.description


async def test_after_a_failure_callers_back_off_instead_of_hammering(clock: FakeClock) -> None:
    fake = FakeJwks(keys=default_keys(), status=503)
    keys = key_set(fake, clock)
    for _ in range(10):
        with pytest.raises(ProviderUnavailable):
            await keys.get("rsa-1")
    assert fake.hits == 1
    fake.status = 200
    clock.advance(5)
    assert (await keys.get("rsa-1")).kid == "rsa-1"


async def test_a_hanging_endpoint_fails_within_the_timeout(clock: FakeClock) -> None:
    fake = FakeJwks(keys=default_keys(), delay=30)
    keys = key_set(fake, clock, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await keys.get("rsa-1")
    assert time.monotonic() - started < 2


# --- single flight -------------------------------------------------------------------------


def verifier(fake: FakeJwks) -> JwtVerifier:
    keys = JwksKeySet(jwks_url=JWKS_URL, http=fake.client())
    return JwtVerifier(keys, ClaimsPolicy(issuer=ISSUER, audiences=(AUDIENCE,)))


async def test_500_concurrent_verifies_of_a_new_token_share_one_fetch() -> None:
    fake = FakeJwks(keys=default_keys(), delay=0.05)
    v = verifier(fake)
    token = sign(claims())
    subjects: list[str] = []

    async def one() -> None:
        subjects.append((await v.verify(token)).subject)

    async with anyio.create_task_group() as tg:
        for _ in range(500):
            tg.start_soon(one)
    assert subjects == ["alice"] * 500
    assert fake.hits == 1


async def test_200_distinct_unknown_kids_cause_at_most_3_fetches() -> None:
    fake = FakeJwks(keys=default_keys(), delay=0.02)
    v = verifier(fake)
    await v.verify(sign(claims()))
    tokens = [sign(claims(), kid=f"unknown-{i}") for i in range(200)]
    refused: list[str] = []

    async def one(token: str) -> None:
        with pytest.raises(InvalidToken) as err:
            await v.verify(token)
        refused.append(err.value.description)

    async with anyio.create_task_group() as tg:
        for token in tokens:
            tg.start_soon(one, token)
    assert refused == ["Unknown signing key"] * 200
    assert fake.hits <= 3


async def test_while_a_refresh_is_in_flight_others_use_the_cached_key(
    fake: FakeJwks, clock: FakeClock
) -> None:
    keys = key_set(fake, clock)
    await keys.get("rsa-1")
    fake.delay = 0.2
    clock.advance(301)
    got: list[float] = []

    async def one() -> None:
        start = time.monotonic()
        await keys.get("rsa-1")
        got.append(time.monotonic() - start)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(one)
    assert keys.fetch_count == 2
    assert sum(1 for t in got if t < 0.1) == 19, "only the refreshing caller should wait"


async def test_ec_key_curve_is_recorded(clock: FakeClock) -> None:
    fake = FakeJwks(keys=[public_jwk(ec_key(0), "ec")])
    assert (await key_set(fake, clock).get("ec")).crv == "P-256"

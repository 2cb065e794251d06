"""JwtVerifier against a LocalIssuer served by uvicorn on 127.0.0.1: rotation and outages over HTTP.

The key set's monotonic clock is shifted by the tests (``Shift``) to step over the refetch penalty
window and the cache TTL without sleeping; the token clock is real time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.errors import InvalidToken, ProviderUnavailable
from cwmcp.entrypoints.issuer import LocalIssuer

pytestmark = pytest.mark.anyio


class Shift:
    """``time.monotonic`` plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer(hang_seconds=30)
    with local.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        yield local


def make(issuer: LocalIssuer, clock: Shift, timeout: float = 3.0) -> JwtVerifier:
    keys = JwksKeySet(issuer.issuer, timeout=timeout, clock=clock)
    return JwtVerifier(keys, ClaimsPolicy(issuer=issuer.issuer, audiences=("cwmcp",)))


async def test_key_rotation_is_picked_up_without_restart(issuer: LocalIssuer) -> None:
    clock = Shift()
    verifier = make(issuer, clock)
    assert (await verifier.verify(issuer.mint("alice"))).subject == "alice"
    old_kid = issuer.kid
    new_kid = issuer.rotate(keep_old=True)
    assert new_kid != old_kid and issuer.published_kids == [old_kid, new_kid]

    # inside the penalty window an unknown kid is refused without asking the issuer again
    with pytest.raises(InvalidToken, match="Unknown signing key"):
        await verifier.verify(issuer.mint("bob"))
    assert issuer.jwks_hits == 1

    clock.advance(11)
    assert (await verifier.verify(issuer.mint("bob"))).subject == "bob"
    assert issuer.jwks_hits == 2
    assert (await verifier.verify(issuer.mint("carol", kid=old_kid))).subject == "carol"

    issuer.rotate(keep_old=False)
    clock.advance(301)  # past the TTL: the retired keys disappear
    assert (await verifier.verify(issuer.mint("dave"))).subject == "dave"
    with pytest.raises(InvalidToken, match="Unknown signing key"):
        await verifier.verify(issuer.mint("erin", kid=old_kid))
    assert issuer.discovery_hits == 1


async def test_a_jwks_outage_is_survived_with_cached_keys(issuer: LocalIssuer) -> None:
    clock = Shift()
    verifier = make(issuer, clock)
    await verifier.verify(issuer.mint("alice"))
    issuer.down = True
    clock.advance(301)  # the keys are due for a refresh, which fails
    assert (await verifier.verify(issuer.mint("bob"))).subject == "bob"
    assert issuer.jwks_hits == 2
    assert (await verifier.verify(issuer.mint("carol"))).subject == "carol"
    assert issuer.jwks_hits == 2, "retried at once after a failure"
    issuer.down = False
    clock.advance(6)
    assert (await verifier.verify(issuer.mint("dave"))).subject == "dave"
    assert issuer.jwks_hits == 3


async def test_an_outage_with_no_cached_keys_is_provider_unavailable(issuer: LocalIssuer) -> None:
    issuer.down = True
    verifier = make(issuer, Shift())
    with pytest.raises(ProviderUnavailable) as err:
        await verifier.verify(issuer.mint("alice"))
    assert err.value.retry_after >= 1
    assert "503" in err.value.description


async def test_a_hanging_issuer_fails_within_the_timeout(issuer: LocalIssuer) -> None:
    issuer.down = issuer.hang = True
    verifier = make(issuer, Shift(), timeout=0.5)
    token = issuer.mint("alice")
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await verifier.verify(token)
    assert time.monotonic() - started < 1.5
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await verifier.verify(token)
    assert time.monotonic() - started < 0.1, "callers back off instead of waiting again"

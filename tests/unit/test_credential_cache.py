"""CachingBroker, around a fake of our CredentialBroker port (the cache itself is real)."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
import pytest

from cwmcp.adapters.credential_cache import CachingBroker
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker

pytestmark = pytest.mark.anyio
ROLE = RoleChoice("arn:aws:iam::111111111111:role/cw-read", "saas")
OTHER_ROLE = RoleChoice("arn:aws:iam::222222222222:role/cw-read", "ops")


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeInner:
    """Hands out numbered credentials that live ``lifetime`` seconds; can block or fail on demand."""

    clock: Clock
    lifetime: float | None = 3600.0
    gate: anyio.Event | None = None
    failures: list[Exception] = field(default_factory=list)
    calls: int = 0
    cacheable: bool = True

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        self.calls += 1
        n = self.calls
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        expires = None if self.lifetime is None else self.clock.now + self.lifetime
        return AwsCredentials(f"ASIA{identity.subject}{n}", f"secret-{n}", f"token-{n}", expires)


def user(sub: str) -> Identity:
    return Identity(subject=sub, issuer="https://issuer.test")


def make(
    lifetime: float | None = 3600.0, refresh_margin: float = 300.0, max_entries: int = 10_000
) -> tuple[CachingBroker, FakeInner, Clock]:
    clock = Clock()
    inner = FakeInner(clock, lifetime)
    return CachingBroker(inner, refresh_margin, max_entries, clock), inner, clock


def test_implements_the_port() -> None:
    assert isinstance(make()[0], CredentialBroker)


async def test_second_call_is_a_hit() -> None:
    cache, inner, _ = make()
    first = await cache.credentials(user("alice"), ROLE)
    again = await cache.credentials(user("alice"), ROLE)
    assert again is first
    assert inner.calls == cache.fetches == 1


async def test_each_user_and_role_has_its_own_entry() -> None:
    cache, inner, _ = make()
    a = await cache.credentials(user("alice"), ROLE)
    b = await cache.credentials(user("bob"), ROLE)
    c = await cache.credentials(user("alice"), OTHER_ROLE)
    d = await cache.credentials(user("alice"), None)
    assert len({a.access_key_id, b.access_key_id, c.access_key_id, d.access_key_id}) == 4
    assert inner.calls == 4
    assert await cache.credentials(user("bob"), ROLE) is b
    assert inner.calls == 4


async def test_same_subject_from_another_issuer_is_another_user() -> None:
    cache, inner, _ = make()
    await cache.credentials(Identity(subject="alice", issuer="https://a.test"), ROLE)
    await cache.credentials(Identity(subject="alice", issuer="https://b.test"), ROLE)
    assert inner.calls == 2


async def test_refreshed_once_inside_the_margin() -> None:
    cache, inner, clock = make(refresh_margin=300)
    first = await cache.credentials(user("alice"), ROLE)
    clock.now += 3600 - 300 - 1
    assert await cache.credentials(user("alice"), ROLE) is first
    clock.now += 2
    fresh = await cache.credentials(user("alice"), ROLE)
    assert fresh is not first
    assert fresh.expires_at == pytest.approx(clock.now + 3600)
    assert inner.calls == 2
    assert await cache.credentials(user("alice"), ROLE) is fresh


async def test_credentials_without_expiry_stay() -> None:
    cache, inner, clock = make(lifetime=None)
    first = await cache.credentials(user("alice"), ROLE)
    clock.now += 10 * 365 * 86400
    assert await cache.credentials(user("alice"), ROLE) is first
    assert inner.calls == 1


async def test_too_short_lived_credentials_are_not_kept() -> None:
    cache, inner, _ = make(lifetime=200, refresh_margin=300)
    await cache.credentials(user("alice"), ROLE)
    await cache.credentials(user("alice"), ROLE)
    assert inner.calls == 2
    assert len(cache) == 0


async def test_lru_bound_evicts_the_least_recently_used() -> None:
    cache, inner, _ = make(max_entries=3)
    for name in ("a", "b", "c"):
        await cache.credentials(user(name), ROLE)
    await cache.credentials(user("a"), ROLE)  # a is now the most recent
    await cache.credentials(user("d"), ROLE)  # evicts b
    assert len(cache) == 3
    assert inner.calls == 4
    await cache.credentials(user("a"), ROLE)
    await cache.credentials(user("c"), ROLE)
    assert inner.calls == 4
    await cache.credentials(user("b"), ROLE)
    assert inner.calls == 5
    assert len(cache) == 3


async def test_200_concurrent_first_calls_make_one_inner_call() -> None:
    cache, inner, _ = make()
    inner.gate = anyio.Event()
    results: list[AwsCredentials] = []

    async def one() -> None:
        results.append(await cache.credentials(user("alice"), ROLE))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(one)
            await anyio.sleep(0.01)
            inner.gate.set()
    assert inner.calls == 1
    assert len(results) == 200
    assert all(r is results[0] for r in results)


async def test_failures_are_not_cached() -> None:
    cache, inner, _ = make()
    inner.failures.append(ProviderUnavailable("STS unreachable"))
    with pytest.raises(ProviderUnavailable):
        await cache.credentials(user("alice"), ROLE)
    assert len(cache) == 0
    creds = await cache.credentials(user("alice"), ROLE)
    assert creds.access_key_id
    assert inner.calls == 2


async def test_concurrent_callers_share_a_failure_then_the_next_call_retries() -> None:
    cache, inner, _ = make()
    inner.gate = anyio.Event()
    inner.failures.append(ProviderUnavailable("STS unreachable"))
    errors: list[Exception] = []

    async def one() -> None:
        try:
            await cache.credentials(user("alice"), ROLE)
        except ProviderUnavailable as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)
            await anyio.sleep(0.01)
            inner.gate.set()
    assert len(errors) == 20
    assert inner.calls == 1
    assert (await cache.credentials(user("alice"), ROLE)).access_key_id
    assert inner.calls == 2


async def test_cancelling_the_leader_does_not_hang_the_waiters() -> None:
    cache, inner, _ = make()
    inner.gate = anyio.Event()
    results: list[AwsCredentials] = []

    async def waiter() -> None:
        results.append(await cache.credentials(user("alice"), ROLE))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            leader_scope = anyio.CancelScope()

            async def leader() -> None:
                with leader_scope:
                    await cache.credentials(user("alice"), ROLE)

            tg.start_soon(leader)
            await anyio.sleep(0.01)  # the leader is inside the inner call
            for _ in range(5):
                tg.start_soon(waiter)
            await anyio.sleep(0.01)
            leader_scope.cancel()
            await anyio.sleep(0.01)
            inner.gate.set()
    assert len(results) == 5
    assert all(r is results[0] for r in results)
    assert inner.calls == 2  # the cancelled leader's call, then one new leader's


async def test_forget_drops_an_entry() -> None:
    cache, inner, _ = make()
    await cache.credentials(user("alice"), ROLE)
    cache.forget(user("alice"), ROLE)
    await cache.credentials(user("alice"), ROLE)
    assert inner.calls == 2


async def test_brokers_that_read_the_token_are_not_cached() -> None:
    clock = Clock()
    inner = FakeInner(clock)
    inner.cacheable = False
    cache = CachingBroker(inner, clock=clock)
    first = await cache.credentials(user("alice"), ROLE)
    again = await cache.credentials(user("alice"), ROLE)
    assert first.access_key_id != again.access_key_id
    assert inner.calls == 2
    assert len(cache) == 0

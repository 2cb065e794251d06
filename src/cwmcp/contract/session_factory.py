"""What the rest of cwmcp relies on from any ``SessionFactory``. Subclass and provide fixtures.

Fixtures a subclass provides: ``factory``, ``credentials`` (``AwsCredentials`` or ``None`` for the
server's own) and ``region``. ``service`` and ``probe`` name a cheap read that must succeed with
those credentials (``sts:GetCallerIdentity`` by default).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest

from cwmcp.domain.credentials import AwsCredentials
from cwmcp.domain.errors import AuthError, AwsCallError
from cwmcp.domain.ports import AwsClient, SessionFactory

CONCURRENT_CALLS = 50
TIMEOUT = 30.0


def _other(credentials: AwsCredentials | None) -> AwsCredentials:
    """Credentials that differ from ``credentials`` (only in the secret, when there are some)."""
    if credentials is None:
        return AwsCredentials("AKIDCONTRACTOTHER", "contract-other-secret")
    return dataclasses.replace(credentials, secret_access_key=credentials.secret_access_key + "-other")


class SessionFactoryContract:
    pytestmark = [pytest.mark.anyio]
    service = "sts"
    probe = "GetCallerIdentity"
    other_service = "logs"

    def test_implements_the_port(self, factory: Any) -> None:
        assert isinstance(factory, SessionFactory)

    async def test_clients_implement_the_port_and_work(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        with anyio.fail_after(TIMEOUT):
            client = await factory.client(self.service, region, credentials)
            assert isinstance(client, AwsClient)
            assert client.service == self.service
            assert client.region == region
            result = await client.call(self.probe)
        assert isinstance(result, dict)

    async def test_same_inputs_give_the_same_cached_client(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        first = await factory.client(self.service, region, credentials)
        again = await factory.client(self.service, region, credentials)
        assert again is first
        if credentials is not None:
            copy = dataclasses.replace(credentials)
            assert await factory.client(self.service, region, copy) is first

    async def test_different_inputs_give_different_clients(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        first = await factory.client(self.service, region, credentials)
        assert await factory.client(self.service, region, _other(credentials)) is not first
        assert await factory.client(self.other_service, region, credentials) is not first
        other_region = "eu-west-1" if region != "eu-west-1" else "us-west-2"
        assert await factory.client(self.service, other_region, credentials) is not first

    async def test_concurrent_first_calls_share_one_client(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        clients: list[AwsClient] = []

        async def one() -> None:
            clients.append(await factory.client(self.service, region, credentials))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for _ in range(CONCURRENT_CALLS):
                    tg.start_soon(one)
        assert len(clients) == CONCURRENT_CALLS
        assert all(c is clients[0] for c in clients)

    async def test_concurrent_calls_are_safe(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        client = await factory.client(self.service, region, credentials)
        results: list[dict[str, Any]] = []

        async def one() -> None:
            results.append(await client.call(self.probe))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for _ in range(CONCURRENT_CALLS):
                    tg.start_soon(one)
        assert len(results) == CONCURRENT_CALLS

    async def test_calls_do_not_block_the_event_loop(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        client = await factory.client(self.service, region, credentials)
        ticks = 0
        stop = anyio.Event()

        async def heartbeat() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await anyio.sleep(0.001)

        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            calls = 10
            for _ in range(calls):
                await client.call(self.probe)
            stop.set()
        # A call run on the loop would never yield, and the heartbeat would get no turn at all.
        assert ticks >= calls, f"the heartbeat ticked {ticks} times during {calls} calls"

    async def test_snake_case_and_attribute_calls(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        client = await factory.client(self.service, region, credentials)
        snake = "".join("_" + c.lower() if c.isupper() else c for c in self.probe).lstrip("_")
        assert isinstance(await client.call(snake), dict)
        assert isinstance(await getattr(client, snake)(), dict)

    async def test_a_cancelled_call_leaves_the_client_usable(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        client = await factory.client(self.service, region, credentials)
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call, self.probe)
            await anyio.sleep(0.001)
            tg.cancel_scope.cancel()
        with anyio.fail_after(TIMEOUT):
            assert isinstance(await client.call(self.probe), dict)

    async def test_failures_are_domain_errors(
        self, factory: SessionFactory, credentials: AwsCredentials | None, region: str
    ) -> None:
        client = await factory.client(self.service, region, credentials)
        with pytest.raises(AwsCallError):
            await client.call("NoSuchOperationAtAll")
        with pytest.raises((AwsCallError, AuthError)) as caught:
            await client.call(self.probe, NoSuchParameter="x")
        if credentials is not None:
            assert credentials.secret_access_key not in str(caught.value)

"""What the rest of cwmcp relies on from any ``CredentialBroker``. Subclass and provide fixtures.

Fixtures a subclass provides: ``broker``, ``identity`` and ``role`` (a call with them must succeed);
optionally ``refused``, an ``(identity, role)`` pair the broker must refuse (else that check is
skipped).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AccessDenied, AuthError, InvalidToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker

CONCURRENT_CALLS = 50
TIMEOUT = 30.0


def _secrets(creds: AwsCredentials) -> list[str]:
    """The secret parts (unless one equals the public key id, as in some test setups)."""
    return [s for s in (creds.secret_access_key, creds.session_token) if s and s != creds.access_key_id]


class CredentialBrokerContract:
    pytestmark = [pytest.mark.anyio]

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        pytest.skip("this broker has no input it must refuse")

    def test_implements_the_port(self, broker: Any) -> None:
        assert isinstance(broker, CredentialBroker)

    async def test_gives_usable_credentials(
        self, broker: CredentialBroker, identity: Identity, role: RoleChoice | None
    ) -> None:
        with anyio.fail_after(TIMEOUT):
            creds = await broker.credentials(identity, role)
        assert isinstance(creds, AwsCredentials)
        assert creds.access_key_id
        assert creds.secret_access_key
        assert creds.expires_at is None or creds.expires_at > time.time(), "credentials already expired"

    async def test_secret_stays_out_of_repr_and_str(
        self, broker: CredentialBroker, identity: Identity, role: RoleChoice | None
    ) -> None:
        creds = await broker.credentials(identity, role)
        for secret in _secrets(creds):
            assert secret not in repr(creds)
            assert secret not in str(creds)
            assert secret not in repr(broker)

    async def test_repeated_calls_are_safe(
        self, broker: CredentialBroker, identity: Identity, role: RoleChoice | None
    ) -> None:
        with anyio.fail_after(TIMEOUT):
            first = await broker.credentials(identity, role)
            for _ in range(3):
                again = await broker.credentials(identity, role)
                assert again.access_key_id
                assert again.expires_at is None or again.expires_at > time.time()
        assert first.access_key_id

    async def test_concurrent_calls_are_safe(
        self, broker: CredentialBroker, identity: Identity, role: RoleChoice | None
    ) -> None:
        results: list[AwsCredentials] = []

        async def one() -> None:
            results.append(await broker.credentials(identity, role))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for _ in range(CONCURRENT_CALLS):
                    tg.start_soon(one)
        assert len(results) == CONCURRENT_CALLS
        assert all(r.access_key_id and r.secret_access_key for r in results)

    async def test_a_cancelled_call_leaves_it_usable(
        self, broker: CredentialBroker, identity: Identity, role: RoleChoice | None
    ) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(broker.credentials, identity, role)
            await anyio.sleep(0.001)
            tg.cancel_scope.cancel()
        with anyio.fail_after(TIMEOUT):
            creds = await broker.credentials(identity, role)
        assert creds.access_key_id

    async def test_refusals_are_domain_errors_without_secrets(
        self, broker: CredentialBroker, refused: tuple[Identity, RoleChoice | None]
    ) -> None:
        who, role = refused
        with anyio.fail_after(TIMEOUT), pytest.raises(AuthError) as caught:
            await broker.credentials(who, role)
        error = caught.value
        assert isinstance(error, AccessDenied | InvalidToken | ProviderUnavailable)
        assert error.description
        if who.token:
            assert who.token not in str(error)
            assert who.token not in repr(error)

"""The ports of the hexagon. Adapters implement these; entrypoints depend only on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity


@runtime_checkable
class TokenVerifier(Protocol):
    """Turns a bearer token into a verified ``Identity``.

    Raises ``InvalidToken`` (with a short reason), ``InsufficientScope`` or
    ``ProviderUnavailable`` (keys cannot be had because the issuer is down). Nothing else.
    """

    async def verify(self, token: str) -> Identity: ...


@runtime_checkable
class CredentialBroker(Protocol):
    """Turns a verified identity (and the role chosen for it) into temporary AWS credentials.

    Raises ``AccessDenied``, ``InvalidToken`` (the token lacks what the mode needs) or
    ``ProviderUnavailable``. ``role`` is ``None`` for modes that pick no role.
    """

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials: ...


@runtime_checkable
class AwsClient(Protocol):
    """An AWS service client whose calls never block the event loop.

    ``await client.call("DescribeLogGroups", limit=5)`` or ``await client.describe_log_groups(...)``;
    failures raise ``AwsCallError``.
    """

    service: str
    region: str

    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...

    def __getattr__(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]: ...


@runtime_checkable
class SessionFactory(Protocol):
    """Hands out cached service clients for credentials (``None``: the server's own)."""

    async def client(self, service: str, region: str, credentials: AwsCredentials | None) -> AwsClient: ...

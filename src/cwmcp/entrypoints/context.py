"""The caller of the current request, in a contextvar, so tool code is the same over HTTP and stdio.

The ASGI wrapper sets a ``CallContext`` per request; stdio (and ``ENABLE_AUTH=false``) installs
one process-wide default with the server's own credentials. Credentials are fetched lazily, on
the first ``aws_client``/``current_credentials`` call, so ``initialize`` and ``tools/list`` cost no
STS call.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AccessDenied
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import AwsClient, CredentialBroker, SessionFactory
from cwmcp.domain.roles import choose_role


@dataclass(frozen=True, slots=True)
class CallContext:
    """Everything tool code may ask about the caller. ``identity`` is ``None`` without auth."""

    identity: Identity | None
    roles: tuple[RoleChoice, ...]
    broker: CredentialBroker
    sessions: SessionFactory
    region: str

    async def credentials(self, account: str | None = None) -> AwsCredentials:
        role = choose_role(self.roles, account)
        identity = self.identity or _ANONYMOUS
        return await self.broker.credentials(identity, role)

    async def client(self, service: str, region: str | None = None, account: str | None = None) -> AwsClient:
        creds = await self.credentials(account)
        return await self.sessions.client(service, region or self.region, creds)


_ANONYMOUS = Identity(subject="local", issuer="")
_current: ContextVar[CallContext | None] = ContextVar("cwmcp_call", default=None)
_default: list[CallContext] = []


def set_call(ctx: CallContext) -> Token[CallContext | None]:
    return _current.set(ctx)


def reset_call(token: Token[CallContext | None]) -> None:
    _current.reset(token)


def install_default(ctx: CallContext | None) -> None:
    """The process-wide context for stdio and auth-off mode (``None`` removes it)."""
    _default.clear()
    if ctx is not None:
        _default.append(ctx)


def current_call() -> CallContext:
    ctx = _current.get()
    if ctx is not None:
        return ctx
    if _default:
        return _default[0]
    raise AccessDenied("No caller: this code runs outside a cwmcp request")


def current_identity() -> Identity | None:
    """The verified caller of this request, or ``None`` in stdio / auth-off mode."""
    ctx = _current.get()
    if ctx is None:
        return _default[0].identity if _default else None
    return ctx.identity


async def current_credentials(account: str | None = None) -> AwsCredentials:
    """The caller's temporary AWS credentials (for ``account``, an alias from the role rules)."""
    return await current_call().credentials(account)


async def aws_client(service: str, region: str | None = None, account: str | None = None) -> AwsClient:
    """A cached client for ``service`` with the caller's credentials; its calls never block the loop."""
    return await current_call().client(service, region, account)

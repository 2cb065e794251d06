"""Fakes of OUR ports, for unit tests of the code that uses them (never of the thing under test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AuthError, InvalidToken
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import AwsClient


@dataclass
class FakeVerifier:
    """Token string -> identity or refusal, as a table."""

    table: dict[str, Identity | AuthError] = field(default_factory=dict)
    calls: int = 0

    async def verify(self, token: str) -> Identity:
        self.calls += 1
        found = self.table.get(token)
        if found is None:
            raise InvalidToken("Malformed token")
        if isinstance(found, AuthError):
            raise found
        return found


@dataclass
class FakeBroker:
    calls: list[tuple[str, RoleChoice | None]] = field(default_factory=list)

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        self.calls.append((identity.subject, role))
        return AwsCredentials(f"AKIA{identity.subject.upper()}", "secret-" + identity.subject, "tok", None)


@dataclass
class FakeSessions:
    async def client(self, service: str, region: str, credentials: AwsCredentials | None) -> AwsClient:
        raise NotImplementedError("not used by these tests")


def identity(sub: str = "alice", **claims: Any) -> Identity:
    return Identity(subject=sub, issuer="https://issuer.test", email=claims.get("email"), claims=claims)

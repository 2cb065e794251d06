"""The official MCP SDK client over streamable HTTP, with a bearer token, for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult


@dataclass
class Sent:
    """What each request carried: (method, mcp-session-id, authorization) in order."""

    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    async def hook(self, request: httpx2.Request) -> None:
        self.requests.append(
            (request.method, request.headers.get("mcp-session-id"), request.headers.get("authorization"))
        )


@dataclass
class Connected:
    session: ClientSession
    http: httpx2.AsyncClient
    sent: Sent

    def use_token(self, token: str) -> None:
        """Every request from now on carries this token (the MCP session stays the same)."""
        self.http.headers["Authorization"] = f"Bearer {token}"


@asynccontextmanager
async def mcp_session(
    url: str, token: str | None = None, read_timeout: float = 30.0
) -> AsyncIterator[Connected]:
    """An initialized ``ClientSession`` to ``url`` sending ``Authorization: Bearer <token>``."""
    sent = Sent()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(
            headers=headers, timeout=read_timeout, trust_env=False, event_hooks={"request": [sent.hook]}
        ) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield Connected(session, http, sent)


def structured(result: CallToolResult) -> dict[str, Any]:
    """The structured answer of a successful tool call (fails the test with the error text otherwise)."""
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def call(connected: Connected, tool: str, **args: Any) -> dict[str, Any]:
    return structured(await connected.session.call_tool(tool, args))

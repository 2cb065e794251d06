"""The deployment contract: the named checks a running cwmcp must pass, seen from outside over HTTP
(``deployment_run`` runs them and writes the report).

Each check returns a short note when its promise holds and raises ``CheckFailed`` with the reason when
it does not (``CheckSkipped`` when it needs a token that was not given). Used by ``cwmcp contract``
(no pytest needed) and by ``test_deployment.py`` under pytest.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from cwmcp.contract.deployment_http import (
    EXPECTED_TOOLS,
    PRM_PATH,
    CheckFailed,
    Target,
    describe,
    expect_refusal,
    json_body,
    need,
    post_mcp,
    tamper,
)


@dataclass(frozen=True)
class Check:
    name: str
    promise: str
    run: Callable[[Target, httpx2.AsyncClient], Awaitable[str]]


def check_metadata(body: Any, target: Target) -> str:
    if not isinstance(body, dict):
        raise CheckFailed("the metadata is not a JSON object")
    if body.get("resource") != target.url:
        raise CheckFailed(
            f"resource is {body.get('resource')!r}, expected {target.url!r} "
            "(behind a proxy, set MCP_RESOURCE_URL to the public URL)"
        )
    servers = body.get("authorization_servers")
    if not isinstance(servers, list) or not servers:
        raise CheckFailed(f"authorization_servers must list the issuer, got {servers!r}")
    for server in servers:
        parts = urlsplit(server) if isinstance(server, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise CheckFailed(f"authorization_servers holds {server!r}, which is not an issuer URL")
    if body.get("bearer_methods_supported") != ["header"]:
        raise CheckFailed(
            f"bearer_methods_supported is {body.get('bearer_methods_supported')!r}, expected ['header']"
        )
    return f"resource={target.url}, authorization_servers={servers}"


async def health(target: Target, http: httpx2.AsyncClient) -> str:
    response = await http.get(target.base + "/health")
    if response.status_code != 200:
        raise CheckFailed(f"GET {target.base}/health answered {describe(response)}, expected 200")
    body = json_body(response, "the /health answer")
    if not isinstance(body, dict) or body.get("status") != "ok":
        raise CheckFailed(f'/health answered {body!r}, expected {{"status": "ok"}}')
    return '200 {"status": "ok"}'


def metadata(suffix: bool) -> Callable[[Target, httpx2.AsyncClient], Awaitable[str]]:
    async def run(target: Target, http: httpx2.AsyncClient) -> str:
        url = target.origin + PRM_PATH + (target.path if suffix else "")
        response = await http.get(url)
        if response.status_code != 200:
            raise CheckFailed(f"GET {url} answered {describe(response)}, expected 200 with RFC 9728 metadata")
        return check_metadata(json_body(response, url), target)

    return run


async def no_token(target: Target, http: httpx2.AsyncClient) -> str:
    response = await post_mcp(target, http)
    if response.status_code < 300:
        raise CheckFailed(
            f"an MCP request without a token got {describe(response)}: the deployment does not "
            "require a token (is ENABLE_AUTH false, or a proxy in front answering?)"
        )
    challenge = expect_refusal(response, error=None)
    body = json_body(response, "the 401 body")
    if not isinstance(body, dict) or "error" not in body:
        raise CheckFailed(f"the 401 body must be JSON with 'error' and 'error_description', got {body!r}")
    url = challenge["resource_metadata"]
    answer = await http.get(url)
    if answer.status_code != 200:
        raise CheckFailed(f"the challenge's resource_metadata {url} answered {describe(answer)}")
    check_metadata(json_body(answer, url), target)
    return f"401 Bearer resource_metadata={url}"


async def garbage_token(target: Target, http: httpx2.AsyncClient) -> str:
    junk = "cwmcp-contract-" + secrets.token_urlsafe(24)
    response = await post_mcp(target, http, [f"Bearer {junk}"])
    if response.status_code < 300:
        raise CheckFailed(f"a made-up token was accepted ({describe(response)})")
    expect_refusal(response)
    if junk in response.text or junk in response.headers.get("www-authenticate", ""):
        raise CheckFailed("the refusal echoes the token back")
    return describe(response)


async def wrong_scheme(target: Target, http: httpx2.AsyncClient) -> str:
    response = await post_mcp(target, http, ["Basic Y3dtY3A6Y29udHJhY3Q="])
    if response.status_code < 300:
        raise CheckFailed(f"an 'Authorization: Basic' request was accepted ({describe(response)})")
    expect_refusal(response, error="*")
    return describe(response)


def refused(
    pick: Callable[[Target], str], what: str, hint: str
) -> Callable[[Target, httpx2.AsyncClient], Awaitable[str]]:
    """A check that a token (picked from the target) is refused with 401 invalid_token."""

    async def run(target: Target, http: httpx2.AsyncClient) -> str:
        response = await post_mcp(target, http, [f"Bearer {pick(target)}"])
        if response.status_code < 300:
            raise CheckFailed(f"{what} was accepted ({describe(response)}): {hint}")
        expect_refusal(response)
        return describe(response)

    return run


async def query_token(target: Target, http: httpx2.AsyncClient) -> str:
    token = need(target.token, "--token")
    response = await post_mcp(target, http, query=urlencode({"access_token": token}))
    if response.status_code < 300:
        raise CheckFailed(f"a token in the query string was accepted ({describe(response)})")
    expect_refusal(response, statuses=(400, 401), error="*")
    return describe(response)


async def two_headers(target: Target, http: httpx2.AsyncClient) -> str:
    token = need(target.token, "--token")
    response = await post_mcp(target, http, [f"Bearer {token}", f"Bearer {token}"])
    if response.status_code not in (400, 401):
        raise CheckFailed(f"two Authorization headers got {describe(response)}, expected 400 or 401")
    return describe(response)


async def valid_token(target: Target, http: httpx2.AsyncClient) -> str:
    response = await post_mcp(target, http, [f"Bearer {need(target.token, '--token')}"])
    if response.status_code != 200:
        raise CheckFailed(f"the valid token was refused: {describe(response)}")
    return "200"


@asynccontextmanager
async def mcp_session(target: Target) -> AsyncIterator[ClientSession]:
    """A real MCP client session with the valid token."""
    headers = {"authorization": f"Bearer {need(target.token, '--token')}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=target.timeout) as http,
        streamable_http_client(target.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def tools_listed(target: Target, http: httpx2.AsyncClient) -> str:
    async with mcp_session(target) as session:
        tools = (await session.list_tools()).tools
    names = {tool.name for tool in tools}
    missing = [name for name in EXPECTED_TOOLS if name not in names]
    if missing:
        raise CheckFailed(
            f"tools/list lacks {', '.join(missing)} (it has {', '.join(sorted(names)) or 'none'})"
        )
    writable = [
        t.name
        for t in tools
        if t.name in EXPECTED_TOOLS and not (t.annotations and t.annotations.read_only_hint)
    ]
    if writable:
        raise CheckFailed(f"these tools are not marked read-only: {', '.join(writable)}")
    return f"{len(EXPECTED_TOOLS)} tools, all read-only"


async def whoami(target: Target, http: httpx2.AsyncClient) -> str:
    async with mcp_session(target) as session:
        result = await session.call_tool("whoami", {})
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise CheckFailed(f"whoami failed: {text[:300]}")
    answer = result.structured_content or {}
    subject, aws = answer.get("subject"), answer.get("aws")
    if not isinstance(subject, str) or not subject:
        raise CheckFailed(f"whoami has no subject: {answer!r}")
    if not isinstance(aws, dict) or not aws.get("account") or not aws.get("arn"):
        raise CheckFailed(f"whoami has no AWS identity (aws.account, aws.arn): {answer!r}")
    return f"subject={subject}, aws={aws['arn']}"


CHECKS: tuple[Check, ...] = (
    Check("health", 'GET /health answers 200 {"status": "ok"} without a token', health),
    Check("metadata", f"{PRM_PATH} serves RFC 9728 metadata for this URL", metadata(False)),
    Check("metadata-path", f"{PRM_PATH}/<path> serves the same metadata", metadata(True)),
    Check("no-token", "no token: 401, Bearer challenge with resource_metadata and no error=", no_token),
    Check("garbage-token", "a made-up token: 401 invalid_token, not echoed", garbage_token),
    Check("wrong-scheme", "'Authorization: Basic': 401 with a Bearer challenge", wrong_scheme),
    Check(
        "expired-token",
        "an expired token: 401 invalid_token",
        refused(
            lambda t: need(t.expired_token, "--expired-token"),
            "an expired token",
            "the server does not check 'exp'",
        ),
    ),
    Check(
        "wrong-audience-token",
        "a token for another audience: 401 invalid_token",
        refused(
            lambda t: need(t.wrong_audience_token, "--wrong-audience-token"),
            "a token minted for another audience",
            "the server does not check the audience (set OAUTH_AUDIENCE, or AWS_COGNITO_CLIENT_ID)",
        ),
    ),
    Check(
        "tampered-signature",
        "the valid token with its signature altered: 401 invalid_token",
        refused(
            lambda t: tamper(need(t.token, "--token")),
            "the valid token with a tampered signature",
            "the server does not verify signatures",
        ),
    ),
    Check("query-token", "a token in the query string is never accepted", query_token),
    Check("two-headers", "two Authorization headers: 400 or 401", two_headers),
    Check("valid-token", "the valid token is accepted (HTTP 200 to initialize)", valid_token),
    Check("tools-list", "an MCP client lists all nine tools, read-only", tools_listed),
    Check("whoami", "whoami answers with the subject and the AWS identity", whoami),
)

"""The raw ASGI wrapper, with a fake verifier: refusal shapes, pass-through, contextvar lifetime."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AccessDenied, InsufficientScope, InvalidToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.entrypoints.asgi import AuthMiddleware, Gate
from cwmcp.entrypoints.context import current_identity
from cwmcp.entrypoints.settings import Settings
from tests.support.fakes import FakeBroker, FakeSessions, FakeVerifier, identity

pytestmark = pytest.mark.anyio
SEEN: list[Identity | None] = []


async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    SEEN.append(current_identity())
    ident = current_identity()
    body = json.dumps({"sub": ident.subject if ident else None}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


def make_client(
    verifier: FakeVerifier | None, settings: Settings | None = None, roles: tuple[RoleChoice, ...] = ()
) -> httpx2.AsyncClient:
    settings = settings or Settings(issuer="https://issuer.test", audiences=("cwmcp",))

    def admit(ident: Identity) -> tuple[RoleChoice, ...]:
        if ident.subject == "nobody":
            raise AccessDenied("No role matches this user")
        return roles

    gate = Gate(settings, verifier, admit, FakeBroker(), FakeSessions())
    app = AuthMiddleware(inner, gate)
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://mcp.test")


VERIFIER = FakeVerifier(
    {
        "tok-good": identity("alice"),
        "tok-expired": InvalidToken("Token has expired"),
        "tok-noscope": InsufficientScope("Token lacks required scope: logs:read", ("logs:read",)),
        "tok-down": ProviderUnavailable("Identity provider unreachable", retry_after=7),
        "tok-denied": identity("nobody"),
    }
)


async def test_health_and_metadata_need_no_token() -> None:
    async with make_client(VERIFIER) as c:
        assert (await c.get("/health")).json() == {"status": "ok"}
        for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
            body = (await c.get(path)).json()
            assert body == {
                "resource": "http://mcp.test/mcp",
                "authorization_servers": ["https://issuer.test"],
                "bearer_methods_supported": ["header"],
            }


async def test_missing_token_is_401_with_resource_metadata_and_no_error() -> None:
    async with make_client(VERIFIER) as c:
        r = await c.post("/mcp")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://mcp.test/.well-known/oauth-protected-resource/mcp"'
    )
    assert set(r.json()) == {"error", "error_description"}


async def test_missing_token_names_required_scopes() -> None:
    s = Settings(issuer="https://i.test", audiences=("a",), required_scopes=("logs:read", "mcp"))
    async with make_client(VERIFIER, s) as c:
        r = await c.post("/mcp")
    assert 'scope="logs:read mcp"' in r.headers["www-authenticate"]
    assert (await make_client(VERIFIER, s).get("/.well-known/oauth-protected-resource")).json()[
        "scopes_supported"
    ] == ["logs:read", "mcp"]


@pytest.mark.parametrize(
    ("token", "status", "needle"),
    [
        ("tok-expired", 401, 'error="invalid_token", error_description="Token has expired"'),
        ("tok-garbage", 401, 'error="invalid_token"'),
        (
            "tok-noscope",
            403,
            'error="insufficient_scope", error_description="Token lacks required scope: logs:read", '
            'scope="logs:read"',
        ),
    ],
)
async def test_token_refusals(token: str, status: int, needle: str) -> None:
    async with make_client(VERIFIER) as c:
        r = await c.post("/mcp", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status
    assert needle in r.headers["www-authenticate"]
    assert (
        'resource_metadata="http://mcp.test/.well-known/oauth-protected-resource/mcp"'
        in r.headers["www-authenticate"]
    )
    assert token not in r.text


async def test_provider_down_is_503_with_retry_after() -> None:
    async with make_client(VERIFIER) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer tok-down"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    assert r.json()["error"] == "temporarily_unavailable"


async def test_no_role_is_403_access_denied() -> None:
    async with make_client(VERIFIER) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer tok-denied"})
    assert r.status_code == 403
    assert r.json() == {"error": "access_denied", "error_description": "No role matches this user"}
    assert "www-authenticate" not in r.headers


async def test_scheme_is_case_insensitive_and_identity_reaches_the_app_then_resets() -> None:
    SEEN.clear()
    async with make_client(VERIFIER) as c:
        r = await c.post("/mcp", headers={"Authorization": "bEaReR tok-good"})
    assert r.status_code == 200
    assert r.json() == {"sub": "alice"}
    assert [identity("alice")] == SEEN
    assert current_identity() is None


async def test_other_schemes_two_headers_and_query_tokens_are_refused() -> None:
    async with make_client(VERIFIER) as c:
        basic = await c.post("/mcp", headers={"Authorization": "Basic dG9rLWdvb2Q="})
        two = await c.post(
            "/mcp", headers=[("Authorization", "Bearer tok-good"), ("Authorization", "Bearer tok-good")]
        )
        query = await c.post("/mcp?access_token=tok-good")
    assert basic.status_code == 401
    assert "error=" not in basic.headers["www-authenticate"]
    assert two.status_code == 400
    assert 'error="invalid_request"' in two.headers["www-authenticate"]
    assert query.status_code in (400, 401)
    assert "tok-good" not in query.text


async def test_custom_auth_header_and_resource_url() -> None:
    s = Settings(
        issuer="https://i.test",
        audiences=("a",),
        auth_header="x-mcp-token",
        resource_url="https://cw.example.com/mcp",
    )
    async with make_client(VERIFIER, s) as c:
        ok = await c.post("/mcp", headers={"X-MCP-Token": "Bearer tok-good"})
        missing = await c.post("/mcp", headers={"Authorization": "Bearer tok-good"})
        prm = await c.get("/.well-known/oauth-protected-resource/mcp")
    assert ok.status_code == 200
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == (
        'Bearer resource_metadata="https://cw.example.com/.well-known/oauth-protected-resource/mcp"'
    )
    assert prm.json()["resource"] == "https://cw.example.com/mcp"


async def test_auth_off_passes_through_with_no_identity() -> None:
    SEEN.clear()
    async with make_client(None, Settings(enable_auth=False)) as c:
        r = await c.post("/mcp")
    assert r.status_code == 200
    assert SEEN == [None]


async def test_a_verifier_bug_is_a_503_not_a_500() -> None:
    class Broken(FakeVerifier):
        async def verify(self, token: str) -> Identity:
            raise RuntimeError("boom " + token)

    async with make_client(Broken()) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer sekrit"})
    assert r.status_code == 503
    assert "sekrit" not in r.text

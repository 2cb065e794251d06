"""``protect(app)`` with ``settings=None``: the container reads the environment, or refuses to start.

The wrapped app is served by uvicorn on 127.0.0.1 against a LocalIssuer; the environment is set
with ``monkeypatch`` after clearing every variable cwmcp reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from cwmcp import protect
from cwmcp.domain.errors import ConfigurationError
from cwmcp.entrypoints.background import serve_in_thread
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings
from tests.support.whoami import ANONYMOUS, whoami

pytestmark = pytest.mark.anyio

READ = [
    "ENABLE_AUTH",
    "OAUTH_ISSUER",
    "OIDC_ISSUER",
    "AWS_IDENTITY_CENTER_ISSUER",
    "OAUTH_JWKS_URL",
    "OAUTH_AUDIENCE",
    "OIDC_CLIENT_ID",
    "AWS_IDENTITY_CENTER_CLIENT_ID",
    "OAUTH_ALGORITHMS",
    "OAUTH_LEEWAY_SECONDS",
    "OAUTH_REQUIRED_SCOPES",
    "OAUTH_HTTP_TIMEOUT_SECONDS",
    "AUTH_HEADER",
    "MCP_RESOURCE_URL",
    "AWS_COGNITO_USER_POOL_ID",
    "AWS_COGNITO_REGION",
    "AWS_COGNITO_CLIENT_ID",
    "AWS_COGNITO_TOKEN_USE",
    "AWS_COGNITO_IDENTITY_POOL_ID",
    "AWS_CREDENTIALS_MODE",
    "AWS_CLOUDWATCH_ROLE_ARN",
    "AWS_ROLE_RULES_FILE",
    "AWS_ROLE_SESSION_DURATION",
    "AWS_IDENTITY_CENTER_APPLICATION_ARN",
    "CLOUDWATCH_MCP_SERVER_HOST",
    "CLOUDWATCH_MCP_PORT",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in READ:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer()
    with local.serve():
        yield local


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_protect_reads_issuer_audience_and_mode_from_the_environment(
    env: pytest.MonkeyPatch, issuer: LocalIssuer
) -> None:
    env.setenv("OAUTH_ISSUER", issuer.issuer)
    env.setenv("OAUTH_AUDIENCE", "other-app, cwmcp")
    env.setenv("AWS_CREDENTIALS_MODE", "ambient")
    hits = issuer.jwks_hits
    with serve_in_thread(protect(whoami)) as url:
        async with httpx2.AsyncClient(base_url=url) as c:
            ok = await c.post("/mcp", headers=bearer(issuer.mint("alice")))
            second_audience = await c.post("/mcp", headers=bearer(issuer.mint("bob", aud="other-app")))
            wrong = await c.post("/mcp", headers=bearer(issuer.mint("carol", aud="elsewhere")))
            prm = (await c.get("/.well-known/oauth-protected-resource/mcp")).json()
    assert (ok.status_code, ok.text) == (200, "alice")
    assert (second_audience.status_code, second_audience.text) == (200, "bob")
    assert wrong.json()["error_description"] == "Invalid token audience"
    assert prm["authorization_servers"] == [issuer.issuer]
    assert issuer.jwks_hits == hits + 1, "one key set, fetched once, shared by all requests"


async def test_aliases_scopes_leeway_header_and_resource_url_come_from_the_environment(
    env: pytest.MonkeyPatch, issuer: LocalIssuer
) -> None:
    env.setenv("OIDC_ISSUER", issuer.issuer)
    env.setenv("OIDC_CLIENT_ID", "cwmcp")
    env.setenv("AWS_CREDENTIALS_MODE", "ambient")
    env.setenv("OAUTH_REQUIRED_SCOPES", "logs:read")
    env.setenv("OAUTH_LEEWAY_SECONDS", "0")
    env.setenv("AUTH_HEADER", "X-MCP-Token")
    env.setenv("MCP_RESOURCE_URL", "https://cw.example.com/mcp")

    def custom(token: str) -> dict[str, str]:
        return {"X-MCP-Token": f"Bearer {token}"}

    just_expired = issuer.mint("alice", scope="logs:read", exp_in=-30)  # inside the default 60 s leeway
    with serve_in_thread(protect(whoami)) as url:
        async with httpx2.AsyncClient(base_url=url) as c:
            ok = await c.post("/mcp", headers=custom(issuer.mint("alice", scope="logs:read")))
            other_header = await c.post("/mcp", headers=bearer(issuer.mint("alice", scope="logs:read")))
            no_scope = await c.post("/mcp", headers=custom(issuer.mint("alice")))
            expired = await c.post("/mcp", headers=custom(just_expired))
            prm = (await c.get("/.well-known/oauth-protected-resource")).json()
    assert (ok.status_code, ok.text) == (200, "alice")
    assert other_header.status_code == 401
    assert other_header.headers["www-authenticate"] == (
        'Bearer scope="logs:read", '
        'resource_metadata="https://cw.example.com/.well-known/oauth-protected-resource/mcp"'
    )
    assert no_scope.status_code == 403
    assert expired.json()["error_description"] == "Token has expired"
    assert prm == {
        "resource": "https://cw.example.com/mcp",
        "authorization_servers": [issuer.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["logs:read"],
    }


async def test_auth_off_from_the_environment_passes_requests_through(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENABLE_AUTH", "false")
    with serve_in_thread(protect(whoami)) as url:
        async with httpx2.AsyncClient(base_url=url) as c:
            r = await c.post("/mcp")
    assert (r.status_code, r.text) == (200, ANONYMOUS)


def test_bad_configuration_lists_every_problem(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENABLE_AUTH", "maybe")
    env.setenv("OAUTH_ISSUER", "http://idp.example.com")
    env.setenv("OAUTH_ALGORITHMS", "RS256,HS256")
    env.setenv("OAUTH_LEEWAY_SECONDS", "soon")
    env.setenv("AWS_CREDENTIALS_MODE", "telepathy")
    env.setenv("CLOUDWATCH_MCP_PORT", "99999")
    with pytest.raises(ConfigurationError) as err:
        protect(whoami)
    expected = [
        "ENABLE_AUTH='maybe' is not a boolean",
        "OAUTH_ISSUER='http://idp.example.com' must be an https URL",
        "OAUTH_ALGORITHMS has HS256",
        "OAUTH_AUDIENCE is not set",
        "AWS_CREDENTIALS_MODE='telepathy' is not one of",
        "CLOUDWATCH_MCP_PORT=99999 is out of range",
        "OAUTH_LEEWAY_SECONDS='soon' is not a number",
    ]
    problems = err.value.problems
    assert len(problems) == len(expected), problems
    for needle in expected:
        assert sum(needle in p for p in problems) == 1, (needle, problems)
        assert needle in str(err.value)


def test_a_mode_missing_its_settings_names_each_one(env: pytest.MonkeyPatch, issuer: LocalIssuer) -> None:
    env.setenv("OAUTH_ISSUER", issuer.issuer)
    env.setenv("OAUTH_AUDIENCE", "cwmcp")
    env.setenv("AWS_CREDENTIALS_MODE", "cognito-identity-pool")
    with pytest.raises(ConfigurationError) as err:
        protect(whoami)
    assert err.value.problems == [
        "AWS_CREDENTIALS_MODE=cognito-identity-pool needs AWS_COGNITO_IDENTITY_POOL_ID",
        "AWS_CREDENTIALS_MODE=cognito-identity-pool needs AWS_COGNITO_USER_POOL_ID",
    ]


async def test_explicit_settings_ignore_the_environment(env: pytest.MonkeyPatch, issuer: LocalIssuer) -> None:
    env.setenv("ENABLE_AUTH", "maybe")  # would fail if the environment were read
    settings = Settings(issuer=issuer.issuer, audiences=("cwmcp",), credentials_mode="ambient")
    with serve_in_thread(protect(whoami, settings)) as url:
        async with httpx2.AsyncClient(base_url=url) as c:
            r = await c.post("/mcp", headers=bearer(issuer.mint("alice")))
    assert (r.status_code, r.text) == (200, "alice")

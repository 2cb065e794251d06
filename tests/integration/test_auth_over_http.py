"""``protect()`` over real sockets: a LocalIssuer and the wrapped app, both under uvicorn on 127.0.0.1.

Every refusal shape of the interface (exact ``WWW-Authenticate`` and JSON body), the token never
echoed nor logged, the public endpoints, key rotation and outages, and the JWKS fetch budget under
floods. Rotation and outage tests shift the key set's monotonic clock (``Shift``, injected by
overriding the container's ``key_set`` provider) to step over the 10 s refetch penalty and the
300 s cache TTL without sleeping; everything else runs the container exactly as ``protect`` builds it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from dependency_injector import providers

from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.entrypoints.asgi import AuthMiddleware, protect
from cwmcp.entrypoints.background import serve_in_thread
from cwmcp.entrypoints.container import Container
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings
from tests.support.whoami import whoami

pytestmark = pytest.mark.anyio
PRM = "/.well-known/oauth-protected-resource"
SCOPE = "logs:read"


def settings_for(issuer: LocalIssuer, **overrides: Any) -> Settings:
    return Settings(issuer=issuer.issuer, audiences=("cwmcp",), credentials_mode="ambient", **overrides)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer(hang_seconds=3)
    with local.serve():
        yield local


@pytest.fixture(scope="module")
def plain(issuer: LocalIssuer) -> Iterator[str]:
    with serve_in_thread(protect(whoami, settings_for(issuer))) as url:
        yield url


@pytest.fixture(scope="module")
def scoped(issuer: LocalIssuer) -> Iterator[str]:
    with serve_in_thread(protect(whoami, settings_for(issuer, required_scopes=(SCOPE,)))) as url:
        yield url


@pytest.fixture
def fresh() -> Iterator[LocalIssuer]:
    """An issuer of its own, for tests that count its requests or take it down."""
    local = LocalIssuer(hang_seconds=3)
    with local.serve():
        yield local


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="cwmcp")
    return caplog


def client(url: str, **kwargs: Any) -> httpx2.AsyncClient:
    kwargs.setdefault("timeout", 10)
    return httpx2.AsyncClient(base_url=url, **kwargs)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(url: str, **attrs: str) -> str:
    parts = [f'{name}="{value}"' for name, value in attrs.items()]
    return "Bearer " + ", ".join([*parts, f'resource_metadata="{url}{PRM}/mcp"'])


def assert_not_leaked(token: str, response: httpx2.Response, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the token nor its payload or signature appear in the answer or any log record."""
    for secret in (token, *token.split(".")[1:]):
        if not secret:
            continue
        assert secret not in response.text
        assert all(secret not in v for v in response.headers.values())
        assert secret not in caplog.text


def forge(token: str) -> str:
    """The same header and signature over a payload whose ``sub`` was changed."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


INVALID = {
    "malformed": (lambda i: "not-a-jwt", "Malformed token"),
    "expired": (lambda i: i.mint("alice", exp_in=-3600), "Token has expired"),
    "wrong issuer": (
        lambda i: i.mint("alice", extra_claims={"iss": "https://evil.test"}),
        "Invalid token issuer",
    ),
    "wrong audience": (lambda i: i.mint("alice", aud="someone-else"), "Invalid token audience"),
    "bad signature": (lambda i: forge(i.mint("alice")), "Invalid token signature"),
}


async def test_health_and_both_metadata_urls_need_no_token(issuer: LocalIssuer, scoped: str) -> None:
    hits = issuer.jwks_hits
    async with client(scoped) as c:
        health = await c.get("/health")
        metadata = [await c.get(PRM), await c.get(f"{PRM}/mcp")]
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    for r in metadata:
        assert r.status_code == 200
        assert r.json() == {
            "resource": f"{scoped}/mcp",
            "authorization_servers": [issuer.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": [SCOPE],
        }
    assert issuer.jwks_hits == hits, "public endpoints must not touch the issuer"


async def test_a_valid_token_reaches_the_app_as_its_subject(issuer: LocalIssuer, plain: str) -> None:
    async with client(plain) as c:
        r = await c.post("/mcp", headers=bearer(issuer.mint("alice")))
    assert (r.status_code, r.text) == (200, "alice")


@pytest.mark.parametrize("header", [None, "Basic YWxpY2U6cHc=", "Token abc", "Bearer"])
async def test_no_token_is_401_without_error(plain: str, header: str | None) -> None:
    async with client(plain) as c:
        r = await c.post("/mcp", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == challenge(plain)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "error_description"} and body["error"] == "invalid_token"


@pytest.mark.parametrize("case", list(INVALID))
async def test_bad_tokens_are_401_invalid_token(
    issuer: LocalIssuer, plain: str, logs: pytest.LogCaptureFixture, case: str
) -> None:
    make, description = INVALID[case]
    token = make(issuer)
    async with client(plain) as c:
        r = await c.post("/mcp", headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == challenge(
        plain, error="invalid_token", error_description=description
    )
    assert r.json() == {"error": "invalid_token", "error_description": description}
    assert_not_leaked(token, r, logs)


async def test_a_missing_scope_is_403_insufficient_scope(
    issuer: LocalIssuer, scoped: str, logs: pytest.LogCaptureFixture
) -> None:
    weak, strong = issuer.mint("alice", scope="mcp"), issuer.mint("alice", scope=f"mcp {SCOPE}")
    async with client(scoped) as c:
        none = await c.post("/mcp")
        refused = await c.post("/mcp", headers=bearer(weak))
        allowed = await c.post("/mcp", headers=bearer(strong))
    assert none.headers["www-authenticate"] == challenge(scoped, scope=SCOPE)
    assert refused.status_code == 403
    description = f"Token lacks required scope: {SCOPE}"
    assert refused.headers["www-authenticate"] == challenge(
        scoped, error="insufficient_scope", error_description=description, scope=SCOPE
    )
    assert refused.json() == {"error": "insufficient_scope", "error_description": description}
    assert (allowed.status_code, allowed.text) == (200, "alice")
    assert_not_leaked(weak, refused, logs)


async def test_two_authorization_headers_and_query_tokens_are_400(
    issuer: LocalIssuer, plain: str, logs: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint("alice")
    async with client(plain) as c:
        two = await c.post("/mcp", headers=[("Authorization", f"Bearer {token}")] * 2)
        query = await c.post("/mcp", params={"access_token": token})
    for r, description in (
        (two, "More than one Authorization header"),
        (query, "Tokens are accepted only in the Authorization header, not the query"),
    ):
        assert r.status_code == 400
        assert r.headers["www-authenticate"] == challenge(
            plain, error="invalid_request", error_description=description
        )
        assert r.json() == {"error": "invalid_request", "error_description": description}
        assert_not_leaked(token, r, logs)


async def test_a_hanging_issuer_is_503_with_retry_after_within_the_timeout(
    fresh: LocalIssuer, logs: pytest.LogCaptureFixture
) -> None:
    fresh.down = fresh.hang = True
    token = fresh.mint("alice")
    with serve_in_thread(protect(whoami, settings_for(fresh, http_timeout=0.5))) as url:
        async with client(url) as c:
            started = time.monotonic()
            first = await c.post("/mcp", headers=bearer(token))
            took = time.monotonic() - started
            started = time.monotonic()
            again = await c.post("/mcp", headers=bearer(token))
            took_again = time.monotonic() - started
    assert first.status_code == 503 and 0.4 < took < 1.5
    assert first.json() == {
        "error": "temporarily_unavailable",
        "error_description": "Identity provider timed out",
    }
    assert again.status_code == 503 and took_again < 0.4, "callers back off instead of waiting again"
    for r in (first, again):
        assert 1 <= int(r.headers["retry-after"]) <= 5
        assert "www-authenticate" not in r.headers
        assert_not_leaked(token, r, logs)


async def test_an_issuer_nobody_listens_on_is_503(fresh: LocalIssuer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = Settings(issuer=closed, audiences=("cwmcp",), credentials_mode="ambient", http_timeout=0.5)
    with serve_in_thread(protect(whoami, settings)) as url:
        async with client(url) as c:
            r = await c.post("/mcp", headers=bearer(fresh.mint("alice")))
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error_description"] == "Identity provider is unreachable (Discovery)"


class Shift:
    """``time.monotonic`` plus an offset the test moves forward (read by the server's thread)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def protect_with_clock(settings: Settings, clock: Shift) -> AuthMiddleware:
    """What ``protect`` builds, except that the container's key set reads ``clock``."""
    container = Container(settings=settings)
    container.key_set.override(
        providers.Singleton(
            JwksKeySet,
            issuer=settings.issuer,
            jwks_url=settings.jwks_url,
            timeout=settings.http_timeout,
            clock=clock,
        )
    )
    return AuthMiddleware(whoami, container.gate())


async def test_key_rotation_is_picked_up_without_restart(fresh: LocalIssuer) -> None:
    clock = Shift()
    with serve_in_thread(protect_with_clock(settings_for(fresh), clock)) as url:
        async with client(url) as c:

            async def call(token: str) -> httpx2.Response:
                return await c.post("/mcp", headers=bearer(token))

            assert (await call(fresh.mint("alice"))).text == "alice"
            first_kid = fresh.kid
            fresh.rotate(keep_old=True)
            early = await call(fresh.mint("bob"))
            assert early.status_code == 401 and early.json()["error_description"] == "Unknown signing key"
            assert fresh.jwks_hits == 1, "an unknown kid inside the 10 s penalty window asks nobody"
            clock.offset += 11
            assert (await call(fresh.mint("bob"))).text == "bob"
            assert fresh.jwks_hits == 2
            assert (await call(fresh.mint("carol", kid=first_kid))).text == "carol"

            fresh.rotate(keep_old=False)
            clock.offset += 301
            assert (await call(fresh.mint("dave"))).text == "dave"
            retired = await call(fresh.mint("erin", kid=first_kid))
    assert retired.status_code == 401 and retired.json()["error_description"] == "Unknown signing key"
    assert (fresh.jwks_hits, fresh.discovery_hits) == (3, 1)


async def test_a_jwks_outage_is_survived_with_cached_keys(fresh: LocalIssuer) -> None:
    clock = Shift()
    with serve_in_thread(protect_with_clock(settings_for(fresh), clock)) as url:
        async with client(url) as c:
            statuses = [(await c.post("/mcp", headers=bearer(fresh.mint("alice")))).status_code]
            fresh.down = True
            clock.offset += 301  # the cached keys are due for a refresh, which fails
            for user in ("bob", "carol"):
                statuses.append((await c.post("/mcp", headers=bearer(fresh.mint(user)))).status_code)
            hits_during_outage = fresh.jwks_hits
            fresh.down = False
            clock.offset += 6  # past the retry interval
            statuses.append((await c.post("/mcp", headers=bearer(fresh.mint("dave")))).status_code)
    assert statuses == [200, 200, 200, 200]
    assert hits_during_outage == 2, "one failed refresh, then callers use the stale keys"
    assert fresh.jwks_hits == 3


async def test_200_unknown_kids_cost_at_most_3_jwks_fetches(fresh: LocalIssuer) -> None:
    """One after another, so single flight cannot hide a missing refetch rate limit."""
    tokens = [fresh.mint(f"u{i}", kid=f"unknown-{i}") for i in range(200)]
    with serve_in_thread(protect(whoami, settings_for(fresh))) as url:
        async with client(url) as c:
            answers = [await c.post("/mcp", headers=bearer(token)) for token in tokens]
            good = await c.post("/mcp", headers=bearer(fresh.mint("alice")))
    assert [(r.status_code, r.json()["error_description"]) for r in answers] == [
        (401, "Unknown signing key")
    ] * 200
    assert 1 <= fresh.jwks_hits <= 3
    assert good.text == "alice"


class Arrivals:
    """Counts requests that reached the wrapped app; ``all_in`` is set when ``expected`` have."""

    def __init__(self, expected: int) -> None:
        self.app: Any = None
        self.expected, self.count = expected, 0
        self.all_in = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
            if self.count >= self.expected:
                self.all_in.set()
        await self.app(scope, receive, send)


class HeldJwks:
    """The issuer, with its JWKS answer held until every request has arrived (at most 5 s)."""

    def __init__(self, issuer: LocalIssuer, arrivals: Arrivals) -> None:
        self.issuer, self.arrivals = issuer, arrivals
        self.waiting_at_release = -1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/jwks":
            await anyio.to_thread.run_sync(self.arrivals.all_in.wait, 5.0)
            self.waiting_at_release = self.arrivals.count
        await self.issuer(scope, receive, send)


async def test_500_concurrent_first_requests_share_one_jwks_fetch() -> None:
    n, issuer = 500, LocalIssuer()
    arrivals = Arrivals(n)
    held = HeldJwks(issuer, arrivals)
    with serve_in_thread(held) as issuer_url:
        issuer.issuer = issuer_url
        token = issuer.mint("alice")
        arrivals.app = protect(whoami, settings_for(issuer, http_timeout=10))
        answers: list[tuple[int, str]] = []
        with serve_in_thread(arrivals) as url:
            limits = httpx2.Limits(max_connections=n, max_keepalive_connections=n)
            async with client(url, limits=limits, timeout=30) as c:

                async def call() -> None:
                    r = await c.post("/mcp", headers=bearer(token))
                    answers.append((r.status_code, r.text))

                async with anyio.create_task_group() as tg:
                    for _ in range(n):
                        tg.start_soon(call)
    assert answers == [(200, "alice")] * n
    assert held.waiting_at_release == n, "all requests were in flight while the keys were fetched"
    assert (issuer.jwks_hits, issuer.discovery_hits) == (1, 1)


AUDIT = re.compile(
    r'auth subject=(?P<subject>"[^"]*"|-) outcome=(?P<outcome>allow|deny) reason=(?P<reason>\w+) '
    r'(?:status=\d{3} )?path="/mcp" latency_us=(?P<latency>\d+)'
)


async def test_one_audit_line_per_request_without_the_token(
    issuer: LocalIssuer, plain: str, logs: pytest.LogCaptureFixture
) -> None:
    good, expired = issuer.mint("alice"), issuer.mint("alice", exp_in=-3600)
    async with client(plain) as c:
        answers = [
            await c.post("/mcp", headers=bearer(good)),
            await c.post("/mcp"),
            await c.post("/mcp", headers=bearer(expired)),
        ]
    assert [r.status_code for r in answers] == [200, 401, 401]
    lines = [r.getMessage() for r in logs.records if r.name == "cwmcp.audit"]
    assert len(lines) == 3, lines
    found = [AUDIT.match(line) for line in lines]
    assert all(found), lines
    assert [(m["subject"], m["outcome"], m["reason"]) for m in found if m] == [
        ('"alice"', "allow", "verified"),
        ("-", "deny", "missing_token"),
        ("-", "deny", "invalid_token"),
    ]
    for token, r in zip((good, expired), (answers[0], answers[2]), strict=True):
        assert_not_leaked(token, r, logs)

"""Refusals -> HTTP answers (RFC 6750 challenges) and RFC 9728 metadata: domain/challenge.py."""

from __future__ import annotations

import pytest

from cwmcp.domain.challenge import bearer_challenge, protected_resource_metadata, quote, refusal_response
from cwmcp.domain.errors import (
    AccessDenied,
    AuthError,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    ProviderUnavailable,
)

PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


def test_quote_strips_what_would_break_the_header() -> None:
    assert quote("plain text") == '"plain text"'
    assert quote('say "hi"\\ \r\nX-Evil: 1\x00\x7f') == "\"say 'hi'' ''X-Evil: 1''\""
    assert len(quote("x" * 500)) == 202


def test_bearer_challenge_shapes() -> None:
    assert bearer_challenge(PRM) == f'Bearer resource_metadata="{PRM}"'
    full = bearer_challenge(PRM, error="invalid_token", description="Token has expired", scope=("a", "b"))
    assert full == (
        'Bearer error="invalid_token", error_description="Token has expired", scope="a b", '
        f'resource_metadata="{PRM}"'
    )
    assert bearer_challenge(PRM, error="", description="") == f'Bearer resource_metadata="{PRM}"'


def headers_of(error: AuthError, scopes: tuple[str, ...] = ()) -> tuple[int, dict[str, str], dict[str, str]]:
    status, headers, body = refusal_response(error, PRM, scopes)
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))
    return status, dict(headers), body


def test_missing_token_has_no_error_attribute() -> None:
    status, headers, body = headers_of(MissingToken("No bearer token"))
    assert status == 401
    assert headers == {"www-authenticate": f'Bearer resource_metadata="{PRM}"'}
    assert body == {"error": "invalid_token", "error_description": "No bearer token"}
    _, headers, _ = headers_of(MissingToken("No bearer token"), ("logs:read",))
    assert headers["www-authenticate"] == f'Bearer scope="logs:read", resource_metadata="{PRM}"'


def test_invalid_token_and_invalid_request() -> None:
    status, headers, body = headers_of(InvalidToken('Token has "expired"'))
    assert status == 401
    assert headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="Token has \'expired\'", resource_metadata="{PRM}"'
    )
    assert body == {"error": "invalid_token", "error_description": 'Token has "expired"'}
    status, headers, body = headers_of(InvalidRequest("Several Authorization headers"))
    assert status == 400 and body["error"] == "invalid_request"
    assert headers["www-authenticate"].startswith('Bearer error="invalid_request"')


def test_insufficient_scope_names_the_scopes() -> None:
    status, headers, body = headers_of(InsufficientScope("Token lacks required scope: b", ("a", "b")))
    assert status == 403 and body["error"] == "insufficient_scope"
    assert 'scope="a b"' in headers["www-authenticate"]
    assert headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
    _, headers, _ = headers_of(InsufficientScope("missing", ()), ("fallback",))
    assert 'scope="fallback"' in headers["www-authenticate"]


def test_access_denied_and_unavailable() -> None:
    status, headers, body = headers_of(AccessDenied("No AWS role for you"))
    assert (status, headers, body) == (
        403,
        {},
        {"error": "access_denied", "error_description": "No AWS role for you"},
    )
    status, headers, body = headers_of(ProviderUnavailable("Identity provider timed out", retry_after=7))
    assert status == 503 and headers == {"retry-after": "7"}
    assert body == {"error": "temporarily_unavailable", "error_description": "Identity provider timed out"}
    assert headers_of(ProviderUnavailable("down"))[1] == {"retry-after": "5"}


@pytest.mark.parametrize(
    "error",
    [
        MissingToken("m"),
        InvalidRequest("r"),
        InvalidToken("t"),
        InsufficientScope("s", ()),
        AccessDenied("a"),
    ],
)
def test_every_refusal_has_a_status_and_a_json_body(error: AuthError) -> None:
    status, _, body = refusal_response(error, PRM)
    assert status in (400, 401, 403)
    assert set(body) == {"error", "error_description"} and body["error_description"] == error.description


def test_protected_resource_metadata() -> None:
    meta = protected_resource_metadata("https://mcp.example.com/mcp", "https://issuer.example.com/")
    assert meta == {
        "resource": "https://mcp.example.com/mcp",
        "authorization_servers": ["https://issuer.example.com/"],
        "bearer_methods_supported": ["header"],
    }
    with_scopes = protected_resource_metadata("r", "i", ("logs:read", "metrics:read"))
    assert with_scopes["scopes_supported"] == ["logs:read", "metrics:read"]

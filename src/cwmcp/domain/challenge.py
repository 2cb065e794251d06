"""Refusal -> HTTP answer (RFC 6750 challenges, RFC 9728 resource metadata). Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cwmcp.domain.errors import (
    AuthError,
    InsufficientScope,
    ProviderUnavailable,
    Refusal,
)

Headers = list[tuple[str, str]]
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\]')


def quote(value: str) -> str:
    """A quoted-string safe for a header: no quotes, backslashes or control characters."""
    return '"' + _UNSAFE.sub("'", value)[:200] + '"'


def bearer_challenge(
    resource_metadata: str,
    *,
    error: str | None = None,
    description: str | None = None,
    scope: Sequence[str] = (),
) -> str:
    parts: list[str] = []
    if error:
        parts.append(f"error={quote(error)}")
    if description:
        parts.append(f"error_description={quote(description)}")
    if scope:
        parts.append(f"scope={quote(' '.join(scope))}")
    parts.append(f"resource_metadata={quote(resource_metadata)}")
    return "Bearer " + ", ".join(parts)


_STATUS = {
    Refusal.MISSING_TOKEN: 401,
    Refusal.INVALID_REQUEST: 400,
    Refusal.INVALID_TOKEN: 401,
    Refusal.INSUFFICIENT_SCOPE: 403,
    Refusal.ACCESS_DENIED: 403,
    Refusal.UNAVAILABLE: 503,
}


def refusal_response(
    error: AuthError, resource_metadata: str, required_scopes: Sequence[str] = ()
) -> tuple[int, Headers, dict[str, str]]:
    """The (status, headers, JSON body) for a refusal.

    A missing token gets a challenge without ``error=`` (RFC 6750 section 3.1) and ``scope=`` when
    scopes are required; bad tokens get ``invalid_token``; a missing scope 403
    ``insufficient_scope``; no usable role 403 ``access_denied``; an unreachable provider 503.
    """
    refusal = error.refusal
    headers: Headers = []
    code = refusal.value
    if refusal is Refusal.MISSING_TOKEN:
        code = "invalid_token"
        headers.append(("www-authenticate", bearer_challenge(resource_metadata, scope=required_scopes)))
    elif refusal in (Refusal.INVALID_TOKEN, Refusal.INVALID_REQUEST):
        challenge = bearer_challenge(resource_metadata, error=code, description=error.description)
        headers.append(("www-authenticate", challenge))
    elif isinstance(error, InsufficientScope):
        challenge = bearer_challenge(
            resource_metadata,
            error=code,
            description=error.description,
            scope=error.required or required_scopes,
        )
        headers.append(("www-authenticate", challenge))
    elif isinstance(error, ProviderUnavailable):
        headers.append(("retry-after", str(error.retry_after)))
    return _STATUS[refusal], headers, {"error": code, "error_description": error.description}


def protected_resource_metadata(resource: str, issuer: str, scopes: Sequence[str] = ()) -> dict[str, object]:
    """RFC 9728 metadata; ``authorization_servers`` holds the issuer exactly as configured."""
    body: dict[str, object] = {
        "resource": resource,
        "authorization_servers": [issuer],
        "bearer_methods_supported": ["header"],
    }
    if scopes:
        body["scopes_supported"] = list(scopes)
    return body

"""The raw ASGI wrapper: bearer token in, verified caller in a contextvar out (or a precise refusal).

A plain ASGI callable (no Starlette middleware base class): one call per request, nothing buffered,
streaming untouched.
``/health`` and the RFC 9728 metadata are answered without a token; everything else needs one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from cwmcp.domain.challenge import protected_resource_metadata, quote, refusal_response
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AuthError, InvalidRequest, MissingToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker, SessionFactory, TokenVerifier
from cwmcp.entrypoints.context import CallContext, reset_call, set_call
from cwmcp.entrypoints.responses import send_json
from cwmcp.entrypoints.settings import Settings

audit = logging.getLogger("cwmcp.audit")
log = logging.getLogger(__name__)
PRM_PATH = "/.well-known/oauth-protected-resource"

Admit = Callable[[Identity], tuple[RoleChoice, ...]]


@dataclass(frozen=True, slots=True)
class Gate:
    """What the wrapper needs, built by the container. ``verifier`` is ``None`` when auth is off."""

    settings: Settings
    verifier: TokenVerifier | None
    admit: Admit
    broker: CredentialBroker
    sessions: SessionFactory


class AuthMiddleware:
    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate
        s = gate.settings
        self._header = s.auth_header.encode("latin-1")
        self._scopes = s.required_scopes
        self._prm_paths = {PRM_PATH, PRM_PATH + s.mcp_path}
        self._anonymous = CallContext(None, (), gate.broker, gate.sessions, s.region)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets pass through
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/health":
            await send_json(send, 200, {"status": "ok"})
            return
        if path in self._prm_paths:
            await self._metadata(scope, send)
            return
        if self.gate.verifier is None or scope["method"] == "OPTIONS":
            await self._call(self._anonymous, scope, receive, send)
            return
        started = time.perf_counter()
        identity: Identity | None = None
        try:
            token = self._token(scope)
            identity = await self.gate.verifier.verify(token)
            roles = self.gate.admit(identity)
        except AuthError as exc:
            await self._refuse(exc, scope, send, started, identity)
            return
        except Exception as exc:  # a bug must still not become a 500 with a traceback
            log.error("Authentication failed unexpectedly (%s) path=%s", type(exc).__name__, quote(path))
            unexpected = ProviderUnavailable("Authentication failed unexpectedly")
            await self._refuse(unexpected, scope, send, started, identity)
            return
        if audit.isEnabledFor(logging.INFO):  # one line per request; values quoted against log injection
            audit.info(
                "auth subject=%s outcome=allow reason=verified path=%s latency_us=%d",
                quote(identity.subject),
                quote(path),
                (time.perf_counter() - started) * 1e6,
            )
        s = self.gate.settings
        await self._call(
            CallContext(identity, roles, self.gate.broker, self.gate.sessions, s.region), scope, receive, send
        )

    async def _call(self, ctx: CallContext, scope: Scope, receive: Receive, send: Send) -> None:
        token = set_call(ctx)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_call(token)

    def _token(self, scope: Scope) -> str:
        values: list[bytes] = [v for k, v in scope["headers"] if k == self._header]
        if len(values) > 1:
            raise InvalidRequest("More than one Authorization header")
        if not values:
            if b"access_token=" in scope.get("query_string", b""):
                raise InvalidRequest("Tokens are accepted only in the Authorization header, not the query")
            raise MissingToken("Authentication required: send 'Authorization: Bearer <token>'")
        scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise MissingToken("Authentication required: the Authorization scheme must be Bearer")
        return token

    async def _refuse(
        self, exc: AuthError, scope: Scope, send: Send, started: float, identity: Identity | None = None
    ) -> None:
        status, headers, body = refusal_response(exc, self._metadata_url(scope), self._scopes)
        audit.warning(
            "auth subject=%s outcome=deny reason=%s status=%d path=%s latency_us=%d detail=%s",
            quote(identity.subject) if identity is not None else "-",
            exc.refusal.value,
            status,
            quote(scope["path"]),
            (time.perf_counter() - started) * 1e6,
            quote(exc.description),
        )
        await send_json(send, status, body, headers)

    async def _metadata(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            await send_json(send, 405, {"error": "method_not_allowed"}, [("allow", "GET")])
            return
        s = self.gate.settings
        body = protected_resource_metadata(self._resource(scope), s.issuer or "", self._scopes)
        await send_json(send, 200, body)

    def _resource(self, scope: Scope) -> str:
        s = self.gate.settings
        return s.resource_url or _origin(scope) + s.mcp_path

    def _metadata_url(self, scope: Scope) -> str:
        s = self.gate.settings
        if s.resource_url:
            parts = urlsplit(s.resource_url)
            return f"{parts.scheme}://{parts.netloc}{PRM_PATH}{parts.path.rstrip('/')}"
        return _origin(scope) + PRM_PATH + s.mcp_path


def _origin(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def protect(app: ASGIApp, settings: Settings | None = None) -> ASGIApp:
    """Wrap any ASGI app (the MCP SDK's, FastMCP's, Starlette) with cwmcp's auth and credentials.

    ``settings=None`` reads the environment; bad configuration raises ``ConfigurationError``.
    """
    from cwmcp.entrypoints.container import build_gate

    return AuthMiddleware(app, build_gate(settings))

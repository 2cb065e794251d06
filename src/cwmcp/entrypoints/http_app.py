"""The served app: our MCP server's streamable HTTP app, wrapped by ``protect``."""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from cwmcp.entrypoints.asgi import protect
from cwmcp.entrypoints.server import build_server
from cwmcp.entrypoints.settings import Settings

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """The SDK's Host/Origin check, set from the real host so a deployment behind a name gets no 421.

    Bound to loopback: loopback names only (DNS-rebinding protection). Behind a name
    (``MCP_RESOURCE_URL``): that name too. Bound elsewhere without a known name: the check is off,
    which is safe only because every request must carry a bearer token (a rebinding page has none).
    """
    allowed_hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    allowed_origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if settings.resource_url:
        parts = urlsplit(settings.resource_url)
        allowed_hosts += [parts.netloc, f"{parts.hostname}:*"]
        allowed_origins.append(f"{parts.scheme}://{parts.netloc}")
    elif host not in _LOOPBACK:
        return TransportSecuritySettings(enable_dns_rebinding_protection=not settings.enable_auth)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )


def build_http_app(settings: Settings, host: str | None = None) -> ASGIApp:
    host = host or settings.host
    server = build_server()
    inner = server.streamable_http_app(
        streamable_http_path=settings.mcp_path,
        host=host,
        transport_security=transport_security(settings, host),
    )
    return protect(inner, settings)

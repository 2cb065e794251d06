"""``cwmcp serve``: uvicorn around the protected MCP app."""

from __future__ import annotations

import uvicorn

from cwmcp.entrypoints.http_app import build_http_app
from cwmcp.entrypoints.settings import load_settings


def serve(host: str | None, port: int | None) -> int:
    settings = load_settings()
    host = host or settings.host
    port = settings.port if port is None else port
    app = build_http_app(settings, host)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
    return 0

"""``cwmcp stdio``: one local user, the environment's AWS credentials, no token."""

from __future__ import annotations

import anyio

from cwmcp.entrypoints.container import ambient_context
from cwmcp.entrypoints.context import install_default
from cwmcp.entrypoints.server import build_server


def run_stdio() -> int:
    install_default(ambient_context())
    try:
        anyio.run(build_server().run_stdio_async)
    finally:
        install_default(None)
    return 0

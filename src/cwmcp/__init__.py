"""cwmcp: a CloudWatch MCP server where every user reaches AWS with their own identity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cwmcp._version import __version__

__all__ = ["__version__", "aws_client", "current_credentials", "current_identity", "protect"]

if TYPE_CHECKING:
    from cwmcp.entrypoints.asgi import protect
    from cwmcp.entrypoints.context import aws_client, current_credentials, current_identity


def __getattr__(name: str) -> Any:
    """Import lazily, so ``import cwmcp`` stays cheap and free of import cycles."""
    if name == "protect":
        from cwmcp.entrypoints.asgi import protect

        return protect
    if name in ("aws_client", "current_credentials", "current_identity"):
        from cwmcp.entrypoints import context

        return getattr(context, name)
    raise AttributeError(name)

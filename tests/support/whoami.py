"""A tiny inner ASGI app for wrapper tests: 200 with the subject ``current_identity()`` sees."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from cwmcp.entrypoints.context import current_identity

ANONYMOUS = "<anonymous>"


async def whoami(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers ``http`` with the caller's subject (``<anonymous>`` when none); completes lifespan."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    identity = current_identity()
    body = (identity.subject if identity is not None else ANONYMOUS).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})

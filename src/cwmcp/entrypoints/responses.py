"""Tiny raw-ASGI JSON answers, so refusals cost no framework round trip."""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import Send

_CORS = [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"WWW-Authenticate")]


async def send_json(
    send: Send, status: int, body: object, headers: Sequence[tuple[str, str]] = (), cors: bool = True
) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *[(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers],
    ]
    if cors:
        raw.extend(_CORS)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})

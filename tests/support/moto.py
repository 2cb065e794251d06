"""moto's real server on 127.0.0.1, reached by botocore through the standard AWS_ENDPOINT_URL."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from cwmcp.entrypoints.demo import moto_server

__all__ = ["enforce_iam", "iam_enforced", "moto_server", "relax_iam", "reset"]


def post(url: str, body: bytes, content_type: str = "application/json") -> bytes:
    req = urllib.request.Request(url, data=body, method="POST", headers={"content-type": content_type})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return bytes(resp.read())


def reset(base_url: str) -> None:
    """Forget every resource. moto keeps its state per *process*: every server in it shares it."""
    post(f"{base_url}/moto-api/reset", b"")


def enforce_iam(base_url: str) -> None:
    """Switch on moto's IAM enforcement; every request after this one is checked."""
    post(f"{base_url}/moto-api/reset-auth", b"0", "text/plain")


def relax_iam(base_url: str) -> None:
    """Switch moto's IAM enforcement off again (it is process-wide, like moto's data)."""
    post(f"{base_url}/moto-api/reset-auth", b"inf", "text/plain")


@contextmanager
def iam_enforced(base_url: str) -> Iterator[None]:
    """IAM enforcement on for the block only, so other tests in this process are not refused."""
    enforce_iam(base_url)
    try:
        yield
    finally:
        relax_iam(base_url)

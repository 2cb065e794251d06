"""A tiny stand-in for AWS SSO OIDC (moto has none): ``POST /token?aws_iam=t`` (CreateTokenWithIAM).

It speaks the REST-JSON shape botocore expects, insists on a SigV4-signed request (the server's
own credentials) and the JWT bearer grant, and answers with an ``idToken`` carrying
``sts:identity_context``. Reach it with ``AWS_ENDPOINT_URL_SSO_OIDC``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_id_token(claims: dict[str, Any]) -> str:
    """An unsigned-looking JWT (header.payload.signature); the broker only reads the payload."""
    return f"{_b64({'alg': 'RS256', 'kid': 'fake'})}.{_b64(claims)}.c2ln"


@dataclass
class FakeSsoOidc:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=lambda: {"refused-token"})
    """Assertions answered with InvalidGrantException."""


@contextmanager
def sso_oidc_server() -> Iterator[FakeSsoOidc]:
    state = FakeSsoOidc()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _answer(self, status: int, body: dict[str, Any], error: str | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
            signed = self.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256")
            state.requests.append({"path": self.path, "body": body, "signed": signed})
            if self.path != "/token?aws_iam=t":
                return self._answer(404, {"message": "not found"}, "ResourceNotFoundException")
            if not signed:
                return self._answer(403, {"message": "unsigned"}, "AccessDeniedException")
            if body.get("grantType") != JWT_BEARER or not body.get("clientId"):
                return self._answer(400, {"error": "unsupported_grant_type"}, "UnsupportedGrantTypeException")
            assertion = str(body.get("assertion", ""))
            if not assertion or assertion in state.refuse:
                return self._answer(400, {"error": "invalid_grant"}, "InvalidGrantException")
            context = "ctx-" + base64.urlsafe_b64encode(assertion[-16:].encode()).decode()
            claims = {"sub": "idc-user", "aud": body["clientId"], "sts:identity_context": context}
            return self._answer(
                200,
                {
                    "accessToken": "idc-access-token",
                    "tokenType": "Bearer",
                    "expiresIn": 3600,
                    "idToken": fake_id_token(claims),
                    "issuedTokenType": "urn:ietf:params:oauth:token-type:access_token",
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

"""What the deployment checks share: the target, the outcome exceptions, HTTP probes and the parsing
of Bearer challenges. No pytest here: ``cwmcp contract`` runs without it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from cwmcp.contract.kits import tamper_signature

PRM_PATH = "/.well-known/oauth-protected-resource"
EXPECTED_TOOLS = (
    "describe_log_groups",
    "analyze_log_group",
    "execute_log_insights_query",
    "get_logs_insight_query_results",
    "cancel_logs_insight_query",
    "get_metric_data",
    "get_active_alarms",
    "get_alarm_history",
    "whoami",
)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "cwmcp-contract", "version": "1"},
    },
}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


class CheckFailed(Exception):
    """The deployment breaks a promise; the message says which and how."""


class CheckSkipped(Exception):
    """The check needs an input that was not given (e.g. ``--expired-token``)."""


@dataclass(frozen=True)
class Target:
    """The deployment under test: its MCP URL and the tokens the caller could provide."""

    url: str
    token: str | None = field(default=None, repr=False)
    expired_token: str | None = field(default=None, repr=False)
    wrong_audience_token: str | None = field(default=None, repr=False)
    timeout: float = 15.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.strip().rstrip("/"))

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.rstrip("/")

    @property
    def base(self) -> str:
        """Where ``/health`` lives: the URL without its final ``/mcp`` (else the origin)."""
        path = self.path
        return self.origin + (path[: -len("/mcp")] if path.endswith("/mcp") else "")

    def problems(self) -> list[str]:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return [f"--url {self.url!r} is not an absolute http(s) URL such as https://host/mcp"]
        return []

    def redact(self, text: str) -> str:
        """``text`` with every token this target knows replaced, so reports never show one."""
        for token in (self.token, self.expired_token, self.wrong_audience_token):
            if token:
                text = text.replace(token, "<token>")
        return text


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """``'Bearer error="x", resource_metadata="y"'`` -> ``("bearer", {"error": "x", ...})``."""
    scheme, _, rest = value.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return scheme.lower(), params


def tamper(token: str) -> str:
    """The token with one byte in the middle of its signature flipped (the base64 stays canonical)."""
    try:
        return tamper_signature(token)
    except ValueError:
        raise CheckSkipped("the valid token is not a signed JWT (header.payload.signature)") from None


async def post_mcp(
    target: Target, http: httpx2.AsyncClient, authorization: list[str] | None = None, query: str = ""
) -> httpx2.Response:
    """POST an MCP ``initialize`` to the URL, with these Authorization header values (or none)."""
    headers = list(MCP_HEADERS.items()) + [("authorization", v) for v in authorization or []]
    url = target.url + (f"?{query}" if query else "")
    response = await http.post(url, headers=headers, content=json.dumps(INITIALIZE))
    session = response.headers.get("mcp-session-id")
    if session and response.status_code < 300:  # a server that accepted it: close what it opened
        await http.delete(target.url, headers=[*headers, ("mcp-session-id", session)])
    return response


def json_body(response: httpx2.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(f"{what} is not JSON: {response.text[:120]!r}") from None


def describe(response: httpx2.Response) -> str:
    """``HTTP 401 (invalid_token: Token has expired)``: enough to see what the server said."""
    text = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return text
    if isinstance(body, dict) and "error" in body:
        text += f" ({body.get('error')}: {body.get('error_description', '')})"
    return text


def expect_refusal(
    response: httpx2.Response, *, statuses: tuple[int, ...] = (401,), error: str | None = "invalid_token"
) -> dict[str, str]:
    """The response is a refusal with a Bearer challenge naming the resource metadata.

    ``error``: the ``error=`` attribute it must carry (``None``: it must carry none; ``"*"``: any).
    """
    if response.status_code not in statuses:
        wanted = " or ".join(str(s) for s in statuses)
        raise CheckFailed(f"expected HTTP {wanted}, got {describe(response)}")
    header = response.headers.get("www-authenticate")
    if response.status_code == 401 and not header:
        raise CheckFailed("HTTP 401 without a WWW-Authenticate header")
    if not header:
        return {}
    scheme, params = parse_challenge(header)
    if scheme != "bearer":
        raise CheckFailed(f"the challenge scheme is {scheme!r}, not Bearer: {header[:120]!r}")
    metadata = params.get("resource_metadata", "")
    if not urlsplit(metadata).scheme or not urlsplit(metadata).netloc:
        raise CheckFailed(f"the challenge has no absolute resource_metadata URL: {header[:160]!r}")
    if error is None and "error" in params:
        raise CheckFailed(
            f"a request without a token must get no error= attribute, got error={params['error']!r}"
        )
    if error not in (None, "*") and params.get("error") != error:
        raise CheckFailed(f"expected error={error!r} in the challenge, got {header[:160]!r}")
    return params


def need(value: str | None, option: str) -> str:
    if not value:
        raise CheckSkipped(f"needs {option}")
    return value


def token_from_command(command: str, timeout: float = 60.0) -> str:
    """Run ``command`` (split like a shell would, but run without one) and return what it prints.

    For pipes or variables, wrap it: ``sh -c '...'``. A leading ``Bearer `` is dropped. Raises
    ``CheckFailed`` when the command fails or prints nothing; its output never reaches the message.
    """
    try:
        done = subprocess.run(  # noqa: S603 - the user's own command, by design
            shlex.split(command), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise CheckFailed(f"--token-cmd could not run: {type(exc).__name__}: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1][:200]
        raise CheckFailed(f"--token-cmd exited with status {done.returncode}: {last}")
    token = done.stdout.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token or any(c.isspace() for c in token):
        raise CheckFailed("--token-cmd must print exactly one token")
    return token

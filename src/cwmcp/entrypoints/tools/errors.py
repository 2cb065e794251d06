"""Domain failures -> MCP tool errors (``isError: true``) with a plain message.

One decorator, ``mapped``, wraps every tool: ``AwsCallError`` becomes "AWS error <Code>: <message>"
(an access denial also names the IAM action and the role/account alias in use); refusals from the
credential side (``AccessDenied``, ``ProviderUnavailable``, ``InvalidToken``, ...) name the failure.
The message is built from safe fields only, so no traceback and no secret reaches the client.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from cwmcp.domain.errors import (
    AccessDenied,
    AuthError,
    AwsCallError,
    InsufficientScope,
    InvalidToken,
    ProviderUnavailable,
)
from cwmcp.domain.roles import choose_role
from cwmcp.entrypoints.context import current_call

P = ParamSpec("P")
R = TypeVar("R")

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "NotAuthorized",
        "403",
    }
)
MAX_MESSAGE = 500
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL | re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain(message: str) -> str:
    """One short line of text: XML error bodies reduced to their <Message>, tags and newlines removed."""
    found = _XML_MESSAGE.search(message)
    text = found.group(1) if found else message
    text = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip()
    return text[:MAX_MESSAGE] + ("..." if len(text) > MAX_MESSAGE else "")


def _role_in_use(account: str | None) -> str:
    """Which credentials a denied call used, for the message; never fails."""
    try:
        role = choose_role(current_call().roles, account)
    except AuthError:
        return f"account '{account}'" if account else "your credentials"
    if role is None:
        return "the server's own credentials"
    return f"role {role.role_arn} (account '{role.account}')"


def aws_message(err: AwsCallError, account: str | None = None) -> str:
    code = "AccessDenied" if err.code == "403" else err.code
    text = plain(err.message) or "no message"
    if err.code in DENIED_CODES:
        action = err.operation or "this action"
        return f"AWS error {code}: not allowed to call {action} with {_role_in_use(account)}: {text}"
    return f"AWS error {code}: {text}"


def auth_message(err: AuthError) -> str:
    if isinstance(err, ProviderUnavailable):
        return f"Temporarily unavailable: {err.description} (retry after {err.retry_after} s)"
    if isinstance(err, AccessDenied):
        return f"Access denied: {err.description}"
    if isinstance(err, InvalidToken):
        return f"Invalid token: {err.description}"
    if isinstance(err, InsufficientScope):
        return f"Insufficient scope: {err.description}"
    return f"Not authorized: {err.description}"


def mapped(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool so domain errors become MCP tool errors; the signature stays for the schema."""

    @functools.wraps(fn)
    async def tool(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except AwsCallError as err:
            account = kwargs.get("account")
            raise ToolError(aws_message(err, account if isinstance(account, str) else None)) from None
        except AuthError as err:
            raise ToolError(auth_message(err)) from None

    return tool

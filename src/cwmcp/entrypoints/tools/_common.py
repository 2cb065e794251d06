"""What every tool shares: parameter types, ISO 8601 time handling, AWS calls and bounded pagination."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from cwmcp.domain.errors import AwsCallError
from cwmcp.domain.ports import AwsClient

Region = Annotated[
    str | None,
    Field(description="AWS region, e.g. 'eu-west-1'. Default: the server's AWS_REGION, else us-east-1."),
]
Account = Annotated[
    str | None,
    Field(
        description="Account alias from the server's role rules (see whoami 'accounts'). "
        "Default: your first (or only) account."
    ),
]
StartTime = Annotated[
    datetime | None,
    Field(
        description="Start of the time window, ISO 8601 (UTC if no offset is given). "
        "Default: the tool's usual window before end_time (see the tool's description)."
    ),
]
EndTime = Annotated[
    datetime | None,
    Field(description="End of the time window, ISO 8601 (UTC if no offset is given). Default: now."),
]

READ_ONLY = {
    "read_only_hint": True,
    "destructive_hint": False,
    "idempotent_hint": True,
    "open_world_hint": True,
}
MAX_PAGES = 100
"""A hard stop for any pagination loop, whatever the service answers."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool function and its human-readable title; the server registers these."""

    fn: Callable[..., Awaitable[Any]]
    title: str

    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(title=self.title, **READ_ONLY)


def utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    """The (start, end) a tool works on: end defaults to now, start to ``default`` before end."""
    stop = utc(end) if end is not None else datetime.now(UTC)
    begin = utc(start) if start is not None else stop - default
    if begin >= stop:
        raise ToolError("start_time must be before end_time")
    return begin, stop


def iso(value: Any) -> str | None:
    """ISO 8601 UTC ('...Z') from a datetime or epoch milliseconds; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = utc(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(value / 1000, UTC)
    else:
        return str(value)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_seconds(value: datetime) -> int:
    return int(utc(value).timestamp())


_SNAKE = re.compile(r"_([a-z0-9])")


def action_name(service: str, operation: str) -> str:
    """IAM action for an operation: ('logs', 'describe_log_groups') -> 'logs:DescribeLogGroups'."""
    if ":" in operation:
        return operation
    camel = _SNAKE.sub(lambda m: m.group(1).upper(), operation)
    return f"{service}:{camel[:1].upper()}{camel[1:]}"


async def call(client: AwsClient, operation: str, **params: Any) -> dict[str, Any]:
    """One AWS call; a failure keeps its code and learns which IAM action it was."""
    try:
        return await client.call(operation, **params)
    except AwsCallError as err:
        raise AwsCallError(err.code, err.message, action_name(client.service, operation)) from None


async def pages(
    client: AwsClient,
    operation: str,
    max_items: int,
    count: Callable[[dict[str, Any]], int],
    *,
    cursor: str = "nextToken",
    size_param: str | None = None,
    size_cap: int = 50,
    **params: Any,
) -> tuple[list[dict[str, Any]], bool]:
    """Pages of ``operation`` until ``max_items`` items (``count`` per page) or the end.

    Returns the pages and whether more items remain. Asks for no more than is still needed
    (``size_param``, at most ``size_cap`` per page) and stops at ``MAX_PAGES`` or a repeated token.
    """
    found: list[dict[str, Any]] = []
    seen = 0
    next_token: str | None = None
    for _ in range(MAX_PAGES):
        request = dict(params)
        if size_param:
            request[size_param] = max(1, min(size_cap, max_items - seen))
        if next_token:
            request[cursor] = next_token
        page = await call(client, operation, **request)
        found.append(page)
        seen += count(page)
        following = page.get(cursor)
        if not following or following == next_token or seen >= max_items:
            return found, bool(following and following != next_token) or seen > max_items
        next_token = following
    return found, True

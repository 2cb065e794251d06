"""CloudWatch Logs Insights: start a query, poll it with a timeout, fetch results later, or cancel it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, NotRequired

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from typing_extensions import TypedDict

from cwmcp.domain.ports import AwsClient
from cwmcp.entrypoints.context import aws_client
from cwmcp.entrypoints.tools._common import (
    Account,
    EndTime,
    Region,
    StartTime,
    ToolSpec,
    call,
    epoch_seconds,
    window,
)
from cwmcp.entrypoints.tools.errors import mapped

FINAL = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})
FIRST_POLL = 0.25
MAX_POLL = 2.0

QueryId = Annotated[
    str, Field(description="The query id returned by execute_log_insights_query.", min_length=1)
]


class QueryStatistics(TypedDict):
    records_matched: float
    records_scanned: float
    bytes_scanned: float


class QueryResult(TypedDict):
    """A query's status and rows; each row maps field name -> value (``@ptr`` left out)."""

    query_id: str
    status: str
    results: list[dict[str, str]]
    statistics: QueryStatistics | None
    message: NotRequired[str]


class CancelResult(TypedDict):
    query_id: str
    cancelled: bool


def to_result(query_id: str, page: dict[str, Any]) -> QueryResult:
    rows = [
        {str(f.get("field")): str(f.get("value", "")) for f in row if f.get("field") not in (None, "@ptr")}
        for row in page.get("results") or []
    ]
    stats = page.get("statistics")
    statistics: QueryStatistics | None = None
    if isinstance(stats, dict):
        statistics = {
            "records_matched": float(stats.get("recordsMatched", 0.0)),
            "records_scanned": float(stats.get("recordsScanned", 0.0)),
            "bytes_scanned": float(stats.get("bytesScanned", 0.0)),
        }
    return {
        "query_id": query_id,
        "status": str(page.get("status", "Unknown")),
        "results": rows,
        "statistics": statistics,
    }


async def start(
    client: AwsClient,
    query_string: str,
    begin: datetime,
    stop: datetime,
    groups: list[str],
    limit: int | None = None,
) -> str:
    """Start a query over ``groups``: names, or (when any is an ARN) identifiers, which take both."""
    params: dict[str, Any] = {
        "queryString": query_string,
        "startTime": epoch_seconds(begin),
        "endTime": epoch_seconds(stop),
    }
    if any(g.startswith("arn:") for g in groups):
        params["logGroupIdentifiers"] = groups
    else:
        params["logGroupNames"] = groups
    if limit is not None:
        params["limit"] = limit
    answer = await call(client, "start_query", **params)
    return str(answer["queryId"])


async def wait_for(client: AwsClient, query_id: str, seconds: float) -> QueryResult:
    """Poll until the query ends or ``seconds`` pass; then say how to go on polling."""
    deadline = anyio.current_time() + seconds
    delay = FIRST_POLL
    while True:
        result = to_result(query_id, await call(client, "get_query_results", queryId=query_id))
        if result["status"] in FINAL:
            return result
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            result["message"] = (
                f"The query is still {result['status']} after {seconds:g} s; rows so far may be partial. "
                f"Call get_logs_insight_query_results with query_id '{query_id}' to poll again."
            )
            return result
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL)


@mapped
async def execute_log_insights_query(
    query_string: Annotated[
        str,
        Field(
            min_length=1,
            description="A CloudWatch Logs Insights query, e.g. "
            "'fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 20'.",
        ),
    ],
    log_group_names: Annotated[
        list[str],
        Field(min_length=1, max_length=50, description="Log group names (or ARNs) to query, 1 to 50."),
    ],
    start_time: StartTime = None,
    end_time: EndTime = None,
    limit: Annotated[
        int | None,
        Field(ge=1, le=10000, description="Most rows to return. Default: the service's (1000)."),
    ] = None,
    max_timeout: Annotated[
        int,
        Field(ge=1, le=300, description="Seconds to wait for the query to finish before returning its id."),
    ] = 30,
    region: Region = None,
    account: Account = None,
) -> QueryResult:
    """Run a CloudWatch Logs Insights query and wait (up to max_timeout seconds) for its rows.

    Returns status ('Complete', 'Failed', 'Cancelled', 'Timeout', or 'Running'/'Scheduled' if it
    did not finish in time), the rows as {field: value} objects and the scan statistics. When it
    did not finish, poll with get_logs_insight_query_results using the returned query_id.
    """
    begin, stop = window(start_time, end_time, timedelta(hours=1))
    client = await aws_client("logs", region, account)
    query_id = await start(client, query_string, begin, stop, list(log_group_names), limit)
    return await wait_for(client, query_id, max_timeout)


@mapped
async def get_logs_insight_query_results(
    query_id: QueryId, region: Region = None, account: Account = None
) -> QueryResult:
    """The current status and rows of a Logs Insights query (rows may be partial while it runs)."""
    if not query_id.strip():
        raise ToolError("query_id must not be empty")
    client = await aws_client("logs", region, account)
    return to_result(query_id, await call(client, "get_query_results", queryId=query_id))


@mapped
async def cancel_logs_insight_query(
    query_id: QueryId, region: Region = None, account: Account = None
) -> CancelResult:
    """Stop a running Logs Insights query. Changes no log data; it only ends the query early."""
    client = await aws_client("logs", region, account)
    answer = await call(client, "stop_query", queryId=query_id)
    return {"query_id": query_id, "cancelled": bool(answer.get("success", False))}


TOOLS = (
    ToolSpec(execute_log_insights_query, "Run a Logs Insights query"),
    ToolSpec(get_logs_insight_query_results, "Get Logs Insights query results"),
    ToolSpec(cancel_logs_insight_query, "Cancel a Logs Insights query"),
)

"""Log groups: list them, and summarise one over a time window with a few Logs Insights queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import anyio
from pydantic import Field
from typing_extensions import TypedDict

from cwmcp.domain.errors import AwsCallError
from cwmcp.entrypoints.context import aws_client
from cwmcp.entrypoints.tools._common import (
    Account,
    EndTime,
    Region,
    StartTime,
    ToolSpec,
    iso,
    pages,
    window,
)
from cwmcp.entrypoints.tools.errors import mapped
from cwmcp.entrypoints.tools.insights import QueryResult, start, wait_for

ERROR_FILTER = r"filter @message like /(?i)(error|exception|fatal|fail|panic)/"


class LogGroup(TypedDict):
    name: str
    arn: str | None
    creation_time: str | None
    retention_in_days: int | None
    stored_bytes: int | None
    log_group_class: str | None


class LogGroups(TypedDict):
    log_groups: list[LogGroup]
    has_more: bool


class PatternCount(TypedDict):
    pattern: str
    count: int


class LogAnalysis(TypedDict):
    """A summary of one log group; a part whose query did not complete is ``None``/empty and named in
    ``incomplete`` with its query's status."""

    log_group_name: str
    start_time: str
    end_time: str
    event_count: int | None
    error_count: int | None
    top_patterns: list[PatternCount]
    top_error_patterns: list[PatternCount]
    incomplete: list[str]


def _log_group(raw: dict[str, Any]) -> LogGroup:
    return {
        "name": str(raw.get("logGroupName", "")),
        "arn": raw.get("logGroupArn") or raw.get("arn"),
        "creation_time": iso(raw.get("creationTime")),
        "retention_in_days": raw.get("retentionInDays"),
        "stored_bytes": raw.get("storedBytes"),
        "log_group_class": raw.get("logGroupClass"),
    }


@mapped
async def describe_log_groups(
    log_group_name_prefix: Annotated[
        str | None, Field(description="Only log groups whose name starts with this, e.g. '/aws/lambda/'.")
    ] = None,
    max_items: Annotated[int, Field(ge=1, le=1000, description="Most log groups to return.")] = 50,
    region: Region = None,
    account: Account = None,
) -> LogGroups:
    """List CloudWatch log groups (name, ARN, creation time, retention, stored bytes, class)."""
    client = await aws_client("logs", region, account)
    params: dict[str, Any] = {}
    if log_group_name_prefix:
        params["logGroupNamePrefix"] = log_group_name_prefix
    found, more = await pages(
        client,
        "describe_log_groups",
        max_items,
        lambda page: len(page.get("logGroups") or []),
        size_param="limit",
        **params,
    )
    groups = [_log_group(g) for page in found for g in page.get("logGroups") or []]
    return {"log_groups": groups[:max_items], "has_more": more or len(groups) > max_items}


def _count(result: QueryResult, field: str) -> int | None:
    if result["status"] != "Complete":
        return None
    rows = result["results"]
    if not rows:
        return 0
    try:
        return int(float(rows[0].get(field, "")))
    except ValueError:
        return None


def _patterns(result: QueryResult) -> list[PatternCount]:
    found: list[PatternCount] = []
    for row in result["results"]:
        if "@pattern" in row:
            try:
                count = int(float(row.get("@sampleCount", "0")))
            except ValueError:
                count = 0
            found.append({"pattern": row["@pattern"], "count": count})
    return found


@mapped
async def analyze_log_group(
    log_group_name: Annotated[str, Field(min_length=1, description="The log group's name or ARN.")],
    start_time: StartTime = None,
    end_time: EndTime = None,
    top: Annotated[int, Field(ge=1, le=50, description="How many top patterns to return.")] = 10,
    max_timeout: Annotated[
        int, Field(ge=1, le=300, description="Seconds to wait for the summary queries to finish.")
    ] = 60,
    region: Region = None,
    account: Account = None,
) -> LogAnalysis:
    """Summarise a log group over a time window (default: the last hour).

    Runs four Logs Insights queries at once: the number of events, the number of events that look
    like errors (error, exception, fatal, fail, panic), and the most frequent message patterns
    overall and among those errors (Insights' `pattern` command). Any part that does not complete
    in time is reported in 'incomplete' rather than guessed.
    """
    begin, stop = window(start_time, end_time, timedelta(hours=1))
    client = await aws_client("logs", region, account)
    queries = {
        "event_count": "stats count(*) as events",
        "error_count": f"{ERROR_FILTER} | stats count(*) as errors",
        "top_patterns": f"pattern @message | sort @sampleCount desc | limit {top}",
        "top_error_patterns": f"{ERROR_FILTER} | pattern @message | sort @sampleCount desc | limit {top}",
    }
    ids = {part: await start(client, q, begin, stop, [log_group_name]) for part, q in queries.items()}
    results: dict[str, QueryResult] = {}
    failures: list[AwsCallError] = []

    async def finish(part: str) -> None:
        try:
            results[part] = await wait_for(client, ids[part], max_timeout)
        except AwsCallError as err:  # kept, so the caller sees the AWS error, not a task-group wrapper
            failures.append(err)

    async with anyio.create_task_group() as tg:
        for part in ids:
            tg.start_soon(finish, part)
    if failures:
        raise failures[0]
    counts = {"event_count": _count(results["event_count"], "events")}
    counts["error_count"] = _count(results["error_count"], "errors")
    patterns = {part: _patterns(results[part]) for part in ("top_patterns", "top_error_patterns")}
    return {
        "log_group_name": log_group_name,
        "start_time": iso(begin) or "",
        "end_time": iso(stop) or "",
        "event_count": counts["event_count"],
        "error_count": counts["error_count"],
        "top_patterns": patterns["top_patterns"],
        "top_error_patterns": patterns["top_error_patterns"],
        "incomplete": _gaps(results, counts, patterns),
    }


def _gaps(
    results: dict[str, QueryResult], counts: dict[str, int | None], patterns: dict[str, list[PatternCount]]
) -> list[str]:
    """Each part that has no trustworthy answer, and why: so nothing is guessed or silently empty."""
    gaps = [f"{part}: query {r['status']}" for part, r in results.items() if r["status"] != "Complete"]
    for part, n in counts.items():
        if n is None and results[part]["status"] == "Complete":
            gaps.append(f"{part}: the result had no count")
    for part, found in patterns.items():
        if not found and results[part]["status"] == "Complete" and results[part]["results"]:
            gaps.append(f"{part}: the result had no patterns")
    return sorted(gaps)


TOOLS = (
    ToolSpec(describe_log_groups, "Describe log groups"),
    ToolSpec(analyze_log_group, "Analyze a log group"),
)

"""CloudWatch alarms: those firing now (metric and composite) and one alarm's history."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

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

HistoryItemType = Literal[
    "ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"
]


class MetricAlarm(TypedDict):
    name: str
    arn: str | None
    description: str | None
    state_reason: str | None
    state_updated: str | None
    namespace: str | None
    metric_name: str | None
    dimensions: dict[str, str]
    statistic: str | None
    period: int | None
    evaluation_periods: int | None
    threshold: float | None
    comparison_operator: str | None


class CompositeAlarm(TypedDict):
    name: str
    arn: str | None
    description: str | None
    state_reason: str | None
    state_updated: str | None
    alarm_rule: str | None


class ActiveAlarms(TypedDict):
    metric_alarms: list[MetricAlarm]
    composite_alarms: list[CompositeAlarm]
    has_more: bool


class HistoryItem(TypedDict):
    timestamp: str | None
    alarm_name: str
    alarm_type: str | None
    history_item_type: str | None
    summary: str | None
    old_state: str | None
    new_state: str | None


class AlarmHistory(TypedDict):
    alarm_name: str
    start_time: str
    end_time: str
    items: list[HistoryItem]
    has_more: bool


def _metric_alarm(raw: dict[str, Any]) -> MetricAlarm:
    threshold = raw.get("Threshold")
    return {
        "name": str(raw.get("AlarmName", "")),
        "arn": raw.get("AlarmArn"),
        "description": raw.get("AlarmDescription"),
        "state_reason": raw.get("StateReason"),
        "state_updated": iso(raw.get("StateUpdatedTimestamp")),
        "namespace": raw.get("Namespace"),
        "metric_name": raw.get("MetricName"),
        "dimensions": {str(d.get("Name")): str(d.get("Value")) for d in raw.get("Dimensions") or []},
        "statistic": raw.get("Statistic") or raw.get("ExtendedStatistic"),
        "period": raw.get("Period"),
        "evaluation_periods": raw.get("EvaluationPeriods"),
        "threshold": float(threshold) if threshold is not None else None,
        "comparison_operator": raw.get("ComparisonOperator"),
    }


def _composite_alarm(raw: dict[str, Any]) -> CompositeAlarm:
    return {
        "name": str(raw.get("AlarmName", "")),
        "arn": raw.get("AlarmArn"),
        "description": raw.get("AlarmDescription"),
        "state_reason": raw.get("StateReason"),
        "state_updated": iso(raw.get("StateUpdatedTimestamp")),
        "alarm_rule": raw.get("AlarmRule"),
    }


def _alarm_count(page: dict[str, Any]) -> int:
    return len(page.get("MetricAlarms") or []) + len(page.get("CompositeAlarms") or [])


@mapped
async def get_active_alarms(
    max_items: Annotated[
        int, Field(ge=1, le=500, description="Most alarms (metric and composite) to return.")
    ] = 50,
    region: Region = None,
    account: Account = None,
) -> ActiveAlarms:
    """Alarms currently in the ALARM state, metric alarms and composite alarms apart."""
    client = await aws_client("cloudwatch", region, account)
    found, more = await pages(
        client,
        "describe_alarms",
        max_items,
        _alarm_count,
        cursor="NextToken",
        size_param="MaxRecords",
        size_cap=100,
        StateValue="ALARM",
        AlarmTypes=["MetricAlarm", "CompositeAlarm"],
    )
    metric = [_metric_alarm(a) for p in found for a in p.get("MetricAlarms") or []]
    composite = [_composite_alarm(a) for p in found for a in p.get("CompositeAlarms") or []]
    room = max(0, max_items - len(metric))
    return {
        "metric_alarms": metric[:max_items],
        "composite_alarms": composite[:room],
        "has_more": more or len(metric) + len(composite) > max_items,
    }


def _states(data: Any) -> tuple[str | None, str | None]:
    """Old and new state from a StateUpdate's HistoryData (JSON); ``None`` when it has none."""
    try:
        parsed = json.loads(data) if isinstance(data, str) else None
    except ValueError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    old, new = parsed.get("oldState"), parsed.get("newState")
    return (
        old.get("stateValue") if isinstance(old, dict) else None,
        new.get("stateValue") if isinstance(new, dict) else None,
    )


def _history_item(raw: dict[str, Any]) -> HistoryItem:
    old, new = _states(raw.get("HistoryData"))
    return {
        "timestamp": iso(raw.get("Timestamp")),
        "alarm_name": str(raw.get("AlarmName", "")),
        "alarm_type": raw.get("AlarmType"),
        "history_item_type": raw.get("HistoryItemType"),
        "summary": raw.get("HistorySummary"),
        "old_state": old,
        "new_state": new,
    }


@mapped
async def get_alarm_history(
    alarm_name: Annotated[str, Field(min_length=1, description="The alarm's name.")],
    start_time: StartTime = None,
    end_time: EndTime = None,
    history_item_type: Annotated[
        HistoryItemType | None, Field(description="Only this kind of history item. Default: all kinds.")
    ] = None,
    max_items: Annotated[int, Field(ge=1, le=500, description="Most history items to return.")] = 50,
    region: Region = None,
    account: Account = None,
) -> AlarmHistory:
    """An alarm's history over a time window (default: the last 24 hours), newest first: state
    changes (with old and new state), configuration updates and actions."""
    begin, stop = window(start_time, end_time, timedelta(days=1))
    client = await aws_client("cloudwatch", region, account)
    params: dict[str, Any] = {"AlarmName": alarm_name, "StartDate": begin, "EndDate": stop}
    if history_item_type:
        params["HistoryItemType"] = history_item_type
    found, more = await pages(
        client,
        "describe_alarm_history",
        max_items,
        lambda page: len(page.get("AlarmHistoryItems") or []),
        cursor="NextToken",
        size_param="MaxRecords",
        size_cap=100,
        ScanBy="TimestampDescending",
        **params,
    )
    items = [_history_item(i) for p in found for i in p.get("AlarmHistoryItems") or []]
    return {
        "alarm_name": alarm_name,
        "start_time": iso(begin) or "",
        "end_time": iso(stop) or "",
        "items": items[:max_items],
        "has_more": more or len(items) > max_items,
    }


TOOLS = (
    ToolSpec(get_active_alarms, "Get active alarms"),
    ToolSpec(get_alarm_history, "Get alarm history"),
)

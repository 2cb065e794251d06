"""Two AWS operations moto 5.2 lacks (it answers 500), added to the in-process moto of the demo.

``cloudwatch:DescribeAlarmHistory`` is answered from the state history moto already keeps for
each alarm (``Alarm.history``), in AWS's shape (``HistoryData`` JSON with ``oldState``/``newState``).
``logs:StopQuery``: moto runs every query to completion at once, so there is never a running
query to stop; like AWS, it answers ``success: false`` for a finished query and
``ResourceNotFoundException`` for an unknown id. Both go through moto's IAM enforcement like any
other action. Idempotent; a moto whose internals moved leaves the operations unimplemented.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

_HISTORY_DEFAULT_MAX = 100


def _when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def alarm_history_items(alarm: Any) -> list[dict[str, Any]]:
    """One ``StateUpdate`` item per state change of a moto ``Alarm``, oldest first.

    ``alarm.history`` holds, per change, the state *before* it: (kind, reason, reason data, value,
    updated); the state after is the next entry, or the alarm's current state for the last one.
    """
    states = [(h[1], h[2], h[3], h[4]) for h in alarm.history if h and h[0] == "StateUpdate"]
    states.append(
        (alarm.state_reason, alarm.state_reason_data, alarm.state_value, alarm.state_updated_timestamp)
    )
    items = []
    for old, new in itertools.pairwise(states):
        data = {
            "version": "1.0",
            "oldState": {"stateValue": old[2], "stateReason": old[0]},
            "newState": {"stateValue": new[2], "stateReason": new[0], "stateReasonData": new[1]},
        }
        items.append(
            {
                "AlarmName": alarm.name,
                "AlarmType": "CompositeAlarm" if getattr(alarm, "rule", None) else "MetricAlarm",
                "Timestamp": _aware(new[3]),
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old[2]} to {new[2]}",
                "HistoryData": json.dumps(data),
            }
        )
    return items


def _describe_alarm_history(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    start, end = _when(self._get_param("StartDate")), _when(self._get_param("EndDate"))
    newest_first = (self._get_param("ScanBy") or "TimestampDescending") == "TimestampDescending"
    limit = int(self._get_param("MaxRecords") or _HISTORY_DEFAULT_MAX)
    alarms = self.cloudwatch_backend.alarms.values()
    items = [
        item
        for alarm in alarms
        if not name or alarm.name == name
        for item in alarm_history_items(alarm)
        if (not kind or item["HistoryItemType"] == kind)
        and (start is None or item["Timestamp"] >= start)
        and (end is None or item["Timestamp"] <= end)
    ]
    items.sort(key=lambda i: i["Timestamp"], reverse=newest_first)
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def _stop_query(self: Any) -> str:
    from moto.logs.exceptions import ResourceNotFoundException

    query_id = self._get_param("queryId")
    query = self.logs_backend.queries.get(query_id)
    if query is None:
        raise ResourceNotFoundException(f"Query {query_id} does not exist")
    stopped = query.status in ("Scheduled", "Running")
    if stopped:
        query.status = "Cancelled"
    return json.dumps({"success": stopped})


def fill_moto_gaps() -> bool:
    """Add the two operations to moto's response classes; ``False`` when moto's layout is unknown."""
    try:
        from moto.cloudwatch.responses import CloudWatchResponse
        from moto.logs.responses import LogsResponse
    except ImportError:
        return False
    if not hasattr(CloudWatchResponse, "describe_alarm_history"):
        setattr(CloudWatchResponse, "describe_alarm_history", _describe_alarm_history)  # noqa: B010
    if not hasattr(LogsResponse, "stop_query"):
        setattr(LogsResponse, "stop_query", _stop_query)  # noqa: B010
    return True

"""Tool paths moto cannot serve, through the MCP client with botocore's Stubber on the real client.

Stubbed because moto lacks them: logs StopQuery; CloudWatch DescribeAlarmHistory and composite
alarms (PutCompositeAlarm is not implemented, AlarmTypes is ignored); a query still running or with
scan statistics (moto finishes every query at once, without statistics); access denials as AWS
sends them. The stubbed client is the one the session factory caches and the tools get through
``aws_client``, so our adapter's error mapping runs for real. Retries are off (max_attempts=1).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from mcp import Client
from mcp_types import CallToolResult

from cwmcp.adapters.ambient import AmbientBroker
from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.entrypoints.context import CallContext, install_default
from cwmcp.entrypoints.server import build_server

ROLE = RoleChoice("arn:aws:iam::111111111111:role/cw-read", "saas")
StubFor = Callable[[str], Awaitable[Stubber]]


@pytest.fixture
async def stub_for() -> AsyncIterator[StubFor]:
    """``await stub_for("logs")``: an active Stubber on the client the tools will get."""
    factory = BotocoreSessionFactory(max_attempts=1)
    broker = AmbientBroker(factory)
    install_default(CallContext(None, (ROLE,), broker, factory, "us-east-1"))
    stubbers: list[Stubber] = []

    async def make(service: str) -> Stubber:
        creds = await broker.credentials(Identity(subject="local", issuer=""), ROLE)
        stubber = Stubber((await factory.client(service, "us-east-1", creds)).raw)
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    try:
        yield make
    finally:
        for stubber in stubbers:
            stubber.deactivate()
        install_default(None)


async def call(tool: str, **args: Any) -> CallToolResult:
    async with Client(build_server()) as client:
        return await client.call_tool(tool, args)


def text_of(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text and "testing" not in text
    return text


@pytest.mark.anyio
async def test_cancel_query_stops_it(stub_for: StubFor) -> None:
    logs = await stub_for("logs")
    logs.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
    result = await call("cancel_logs_insight_query", query_id="q-1")
    assert result.structured_content == {"query_id": "q-1", "cancelled": True}
    logs.assert_no_pending_responses()


@pytest.mark.anyio
async def test_cancel_of_a_finished_query_is_a_tool_error(stub_for: StubFor) -> None:
    logs = await stub_for("logs")
    logs.add_client_error("stop_query", "InvalidParameterException", "Query is not running")
    text = text_of(await call("cancel_logs_insight_query", query_id="q-1"))
    assert "AWS error InvalidParameterException: Query is not running" in text


@pytest.mark.anyio
async def test_query_still_running_returns_its_id_to_poll(stub_for: StubFor) -> None:
    logs = await stub_for("logs")
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 1, tzinfo=UTC)
    logs.add_response(
        "start_query",
        {"queryId": "q-slow"},
        {
            "logGroupNames": ["/app"],
            "queryString": "fields @message",
            "startTime": int(start.timestamp()),
            "endTime": int(end.timestamp()),
            "limit": 5,
        },
    )
    for _ in range(12):
        logs.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-slow"})
    result = await call(
        "execute_log_insights_query",
        log_group_names=["/app"],
        query_string="fields @message",
        start_time="2025-01-01T00:00:00Z",
        end_time="2025-01-01T01:00:00",  # naive: taken as UTC
        limit=5,
        max_timeout=1,
    )
    answer = result.structured_content
    assert answer is not None and not result.is_error
    assert answer["query_id"] == "q-slow" and answer["status"] == "Running"
    assert "get_logs_insight_query_results" in answer["message"] and "q-slow" in answer["message"]


@pytest.mark.anyio
async def test_query_rows_and_statistics(stub_for: StubFor) -> None:
    logs = await stub_for("logs")
    logs.add_response("start_query", {"queryId": "q-2"})
    row = [
        {"field": "@message", "value": "boom"},
        {"field": "n", "value": "3"},
        {"field": "@ptr", "value": "x"},
    ]
    stats = {"recordsMatched": 3.0, "recordsScanned": 40.0, "bytesScanned": 1234.0}
    logs.add_response("get_query_results", {"status": "Complete", "results": [row], "statistics": stats})
    result = await call(
        "execute_log_insights_query",
        log_group_names=["arn:aws:logs:us-east-1:111111111111:log-group:/app"],
        query_string="stats count(*) as n by @message",
    )
    assert result.structured_content == {
        "query_id": "q-2",
        "status": "Complete",
        "results": [{"@message": "boom", "n": "3"}],
        "statistics": {"records_matched": 3.0, "records_scanned": 40.0, "bytes_scanned": 1234.0},
    }


@pytest.mark.anyio
async def test_active_alarms_metric_and_composite_across_pages(stub_for: StubFor) -> None:
    cw = await stub_for("cloudwatch")
    when = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    base = {"StateValue": "ALARM", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    metric = [{"AlarmName": f"m{i}", "StateUpdatedTimestamp": when, "Threshold": 1.0} for i in range(2)]
    cw.add_response("describe_alarms", {"MetricAlarms": metric, "NextToken": "t1"}, {**base, "MaxRecords": 3})
    composite = {"AlarmName": "c1", "AlarmRule": 'ALARM("m0") AND ALARM("m1")', "StateUpdatedTimestamp": when}
    cw.add_response(
        "describe_alarms",
        {"CompositeAlarms": [composite], "NextToken": "t2"},
        {**base, "MaxRecords": 1, "NextToken": "t1"},
    )
    result = await call("get_active_alarms", max_items=3)
    answer = result.structured_content
    assert answer is not None
    assert [a["name"] for a in answer["metric_alarms"]] == ["m0", "m1"]
    assert answer["composite_alarms"] == [
        {
            "name": "c1",
            "arn": None,
            "description": None,
            "state_reason": None,
            "state_updated": "2025-03-01T12:00:00.000Z",
            "alarm_rule": 'ALARM("m0") AND ALARM("m1")',
        }
    ]
    assert answer["has_more"] is True
    cw.assert_no_pending_responses()


@pytest.mark.anyio
async def test_alarm_history_with_state_changes(stub_for: StubFor) -> None:
    cw = await stub_for("cloudwatch")
    data = {"oldState": {"stateValue": "OK"}, "newState": {"stateValue": "ALARM", "stateReason": "high"}}
    item = {
        "AlarmName": "high-latency",
        "AlarmType": "MetricAlarm",
        "Timestamp": datetime(2025, 3, 1, 12, 5, tzinfo=UTC),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": "Alarm updated from OK to ALARM",
        "HistoryData": json.dumps(data),
    }
    cw.add_response(
        "describe_alarm_history",
        {"AlarmHistoryItems": [item]},
        {
            "AlarmName": "high-latency",
            "StartDate": datetime(2025, 3, 1, tzinfo=UTC),
            "EndDate": datetime(2025, 3, 2, tzinfo=UTC),
            "HistoryItemType": "StateUpdate",
            "MaxRecords": 20,
            "ScanBy": "TimestampDescending",
        },
    )
    result = await call(
        "get_alarm_history",
        alarm_name="high-latency",
        start_time="2025-03-01T00:00:00Z",
        end_time="2025-03-02T01:00:00+01:00",
        history_item_type="StateUpdate",
        max_items=20,
    )
    answer = result.structured_content
    assert answer is not None and answer["has_more"] is False
    assert (
        answer["start_time"] == "2025-03-01T00:00:00.000Z"
        and answer["end_time"] == "2025-03-02T00:00:00.000Z"
    )
    assert answer["items"] == [
        {
            "timestamp": "2025-03-01T12:05:00.000Z",
            "alarm_name": "high-latency",
            "alarm_type": "MetricAlarm",
            "history_item_type": "StateUpdate",
            "summary": "Alarm updated from OK to ALARM",
            "old_state": "OK",
            "new_state": "ALARM",
        }
    ]


@pytest.mark.anyio
async def test_access_denied_names_the_action_and_role(stub_for: StubFor) -> None:
    logs = await stub_for("logs")
    denial = "User: arn:aws:sts::111111111111:assumed-role/cw-read/alice is not authorized to perform: x"
    logs.add_client_error("describe_log_groups", "AccessDeniedException", denial, http_status_code=400)
    text = text_of(await call("describe_log_groups"))
    assert "AWS error AccessDeniedException: not allowed to call logs:DescribeLogGroups" in text
    assert "role arn:aws:iam::111111111111:role/cw-read (account 'saas')" in text and denial in text


@pytest.mark.anyio
async def test_xml_403_from_cloudwatch_is_a_plain_access_denied(stub_for: StubFor) -> None:
    cw = await stub_for("cloudwatch")
    xml = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>Not allowed here</Message></Error>"
    cw.add_client_error("get_metric_data", "403", xml, http_status_code=403)
    text = text_of(await call("get_metric_data", namespace="AWS/EC2", metric_name="CPUUtilization"))
    assert "AWS error AccessDenied: not allowed to call cloudwatch:GetMetricData" in text
    assert "Not allowed here" in text and "<" not in text

"""Every tool through the MCP SDK's in-process client against moto, seeded with botocore directly.

moto lacks some APIs (logs StopQuery, CloudWatch DescribeAlarmHistory and composite alarms) and
does not run Insights `stats`/`pattern` commands: those paths are in test_tools_stubbed.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from mcp import Client
from mcp_types import CallToolResult

from cwmcp.adapters.ambient import AmbientBroker
from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.contract.deployment_http import EXPECTED_TOOLS
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.entrypoints.context import CallContext, install_default
from cwmcp.entrypoints.server import build_server


@dataclass(frozen=True)
class Seed:
    prefix: str
    groups: tuple[str, ...]
    messages: tuple[str, ...]  # oldest first, in the first group
    namespace: str
    metric_start: datetime
    metric_values: tuple[float, ...]
    firing_alarm: str
    quiet_alarm: str


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def seed(moto_url: str) -> Seed:
    run = uuid.uuid4().hex[:8]
    session = botocore.session.get_session()
    logs = session.create_client("logs", region_name="us-east-1")
    cw = session.create_client("cloudwatch", region_name="us-east-1")
    prefix = f"/cwmcp-test/{run}/"
    groups = (f"{prefix}app", f"{prefix}web")
    for group in groups:
        logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=groups[0], retentionInDays=7)
    logs.create_log_stream(logGroupName=groups[0], logStreamName="s1")
    now = datetime.now(UTC)
    messages = ("INFO started", "ERROR db timeout after 30s", "INFO request served", "WARN slow request")
    logs.put_log_events(
        logGroupName=groups[0],
        logStreamName="s1",
        logEvents=[
            {"timestamp": int((now - timedelta(minutes=10 - i)).timestamp() * 1000), "message": m}
            for i, m in enumerate(messages)
        ],
    )
    namespace = f"CwmcpTest{run}"
    start = (now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    values = (10.0, 20.0, 30.0, 40.0, 50.0)
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Service", "Value": "api"}],
                "Timestamp": start + timedelta(minutes=i),
                "Value": v,
            }
            for i, v in enumerate(values)
        ],
    )
    firing, quiet = f"cwmcp-{run}-latency-high", f"cwmcp-{run}-latency-ok"
    for name in (firing, quiet):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName="Latency",
            Dimensions=[{"Name": "Service", "Value": "api"}],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=25.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    cw.set_alarm_state(AlarmName=firing, StateValue="ALARM", StateReason="latency above 25")
    cw.set_alarm_state(AlarmName=quiet, StateValue="OK", StateReason="fine")
    return Seed(prefix, groups, messages, namespace, start, values, firing, quiet)


@pytest.fixture(scope="module")
def factory(moto_url: str) -> BotocoreSessionFactory:
    return BotocoreSessionFactory(max_attempts=1)


@pytest.fixture
def ambient(factory: BotocoreSessionFactory) -> Iterator[None]:
    install_default(
        CallContext(
            identity=None, roles=(), broker=AmbientBroker(factory), sessions=factory, region="us-east-1"
        )
    )
    yield
    install_default(None)


@pytest.fixture
async def client(ambient: None) -> AsyncIterator[Client]:
    async with Client(build_server()) as connected:
        yield connected


async def ok(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result: CallToolResult = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text and 'File "' not in text
    return text


@pytest.mark.anyio
async def test_every_tool_is_listed_read_only_with_schemas(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == set(EXPECTED_TOOLS)
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.open_world_hint is True and tool.annotations.destructive_hint is False
        assert tool.output_schema is not None, tool.name
        props = tool.input_schema["properties"]
        assert all(p.get("description") for p in props.values()), tool.name
        if tool.name != "whoami":
            assert {"region", "account"} <= set(props), tool.name


@pytest.mark.anyio
async def test_whoami_without_auth_reports_the_aws_identity(client: Client) -> None:
    me = await ok(client, "whoami")
    assert me["subject"] is None and "email" not in me and me["accounts"] == []
    assert me["aws"]["account"] == "123456789012"
    assert me["aws"]["arn"].startswith("arn:aws:")


@pytest.mark.anyio
async def test_whoami_names_the_caller_and_their_accounts(factory: BotocoreSessionFactory) -> None:
    roles = (
        RoleChoice("arn:aws:iam::111111111111:role/cw-read", "saas"),
        RoleChoice("arn:aws:iam::222222222222:role/cw-read", "ops"),
        RoleChoice("arn:aws:iam::111111111111:role/cw-logs", "saas"),
    )
    alice = Identity(subject="u-123", issuer="https://issuer.test", email="alice@example.com")
    install_default(CallContext(alice, roles, AmbientBroker(factory), factory, "us-east-1"))
    try:
        async with Client(build_server()) as client:
            me = await ok(client, "whoami", account="ops")
    finally:
        install_default(None)
    assert me["subject"] == "u-123" and me["email"] == "alice@example.com"
    assert me["accounts"] == ["saas", "ops"]
    assert me["aws"]["account"] == "123456789012"


@pytest.mark.anyio
async def test_describe_log_groups_lists_the_seeded_groups(client: Client, seed: Seed) -> None:
    found = await ok(client, "describe_log_groups", log_group_name_prefix=seed.prefix)
    assert [g["name"] for g in found["log_groups"]] == list(seed.groups)
    assert found["has_more"] is False
    app = found["log_groups"][0]
    assert app["retention_in_days"] == 7 and app["arn"] and app["arn"].startswith("arn:aws:logs:")
    assert app["creation_time"] and app["creation_time"].endswith("Z")
    first = await ok(client, "describe_log_groups", log_group_name_prefix=seed.prefix, max_items=1)
    assert [g["name"] for g in first["log_groups"]] == [seed.groups[0]] and first["has_more"] is True


@pytest.mark.anyio
async def test_insights_query_returns_rows_then_results_again_by_id(client: Client, seed: Seed) -> None:
    now = datetime.now(UTC)
    answer = await ok(
        client,
        "execute_log_insights_query",
        log_group_names=[seed.groups[0]],
        query_string="fields @timestamp, @message | sort @timestamp desc | limit 2",
        start_time=_iso(now - timedelta(hours=1)),
        end_time=_iso(now + timedelta(minutes=1)),
    )
    assert answer["status"] == "Complete"
    assert [row["@message"] for row in answer["results"]] == list(reversed(seed.messages))[:2]
    assert all("@ptr" not in row for row in answer["results"])
    again = await ok(client, "get_logs_insight_query_results", query_id=answer["query_id"])
    assert again["status"] == "Complete" and again["results"] == answer["results"]


@pytest.mark.anyio
async def test_get_metric_data_returns_the_seeded_points(client: Client, seed: Seed) -> None:
    data = await ok(
        client,
        "get_metric_data",
        namespace=seed.namespace,
        metric_name="Latency",
        dimensions={"Service": "api"},
        statistic="Sum",
        period=60,
        start_time=_iso(seed.metric_start),
        end_time=_iso(seed.metric_start + timedelta(minutes=10)),
    )
    assert data["values"] == list(seed.metric_values)
    expected = [_iso(seed.metric_start + timedelta(minutes=i)) for i in range(len(seed.metric_values))]
    assert data["timestamps"] == expected
    assert data["dimensions"] == {"Service": "api"} and data["has_more"] is False


@pytest.mark.anyio
async def test_active_alarms_lists_only_alarms_in_alarm_state(client: Client, seed: Seed) -> None:
    active = await ok(client, "get_active_alarms", max_items=100)
    names = {a["name"] for a in active["metric_alarms"]}
    assert seed.firing_alarm in names and seed.quiet_alarm not in names
    alarm = next(a for a in active["metric_alarms"] if a["name"] == seed.firing_alarm)
    assert alarm["state_reason"] == "latency above 25" and alarm["threshold"] == 25.0
    assert alarm["namespace"] == seed.namespace and alarm["dimensions"] == {"Service": "api"}
    assert alarm["state_updated"] and alarm["state_updated"].endswith("Z")


@pytest.mark.anyio
async def test_missing_log_group_is_a_tool_error_with_the_aws_code(client: Client) -> None:
    for tool, args in (
        (
            "execute_log_insights_query",
            {"log_group_names": ["/no/such/group"], "query_string": "fields @message"},
        ),
        ("analyze_log_group", {"log_group_name": "/no/such/group"}),
    ):
        text = error_text(await client.call_tool(tool, args))
        assert "AWS error ResourceNotFoundException" in text, text
        assert "testing" not in text  # the fake secret key never leaks


@pytest.mark.anyio
async def test_unknown_account_alias_is_access_denied(client: Client) -> None:
    text = error_text(await client.call_tool("describe_log_groups", {"account": "nope"}))
    assert "Access denied" in text and "nope" in text


@pytest.mark.anyio
async def test_arguments_outside_the_caps_are_refused(client: Client) -> None:
    error_text(await client.call_tool("describe_log_groups", {"max_items": 0}))
    error_text(await client.call_tool("describe_log_groups", {"max_items": 5000}))
    error_text(
        await client.call_tool("get_metric_data", {"namespace": "N", "metric_name": "M", "statistic": "x"})
    )

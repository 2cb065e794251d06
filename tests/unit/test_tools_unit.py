"""Tool logic with fakes of OUR ports (AwsClient, SessionFactory, CredentialBroker), through the MCP client.

analyze_log_group runs its four Insights queries concurrently, so a fixed-order Stubber cannot
serve it: a fake client answers by query id instead.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AuthError, AwsCallError, InvalidToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import AwsClient
from cwmcp.entrypoints.context import CallContext, install_default
from cwmcp.entrypoints.server import build_server
from cwmcp.entrypoints.tools._common import action_name, iso, pages, window
from cwmcp.entrypoints.tools.errors import aws_message, plain

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class FakeClient:
    service: str
    handler: Handler
    region: str = "us-east-1"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        return self.handler(operation, params)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.call, name)


@dataclass
class FakeSessions:
    client_: FakeClient

    async def client(self, service: str, region: str, credentials: AwsCredentials | None) -> AwsClient:
        return self.client_


@dataclass
class FakeBroker:
    failure: AuthError | None = None

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        if self.failure is not None:
            raise self.failure
        return AwsCredentials("AKIAFAKE", "s3cr3t-value", "session-tok")


@pytest.fixture
def install() -> Iterator[Callable[[FakeClient, FakeBroker], None]]:
    def put(client: FakeClient, broker: FakeBroker) -> None:
        install_default(CallContext(None, (), broker, FakeSessions(client), "us-east-1"))

    yield put
    install_default(None)


@pytest.fixture
async def mcp_client() -> AsyncIterator[Client]:
    async with Client(build_server()) as client:
        yield client


QUERY_IDS = {
    "stats count(*) as events": "q-events",
    "| stats count(*) as errors": "q-errors",
    "pattern @message | sort": "q-patterns",
    "| pattern @message |": "q-error-patterns",
}


def insights(answers: dict[str, dict[str, Any]]) -> Handler:
    def handle(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "start_query":
            query = params["queryString"]
            ids = [qid for key, qid in QUERY_IDS.items() if key in query]
            return {"queryId": ids[-1]}
        return answers[params["queryId"]]

    return handle


def rows(*items: dict[str, str]) -> list[list[dict[str, str]]]:
    return [[{"field": k, "value": v} for k, v in item.items()] for item in items]


@pytest.mark.anyio
async def test_analyze_log_group_summarises_the_four_queries(install: Any, mcp_client: Client) -> None:
    done = {
        "q-events": {"status": "Complete", "results": rows({"events": "1200"})},
        "q-errors": {"status": "Complete", "results": rows({"errors": "7"})},
        "q-patterns": {
            "status": "Complete",
            "results": rows(
                {"@pattern": "GET /<*> 200", "@sampleCount": "900"}, {"@pattern": "x", "@sampleCount": "3"}
            ),
        },
        "q-error-patterns": {
            "status": "Complete",
            "results": rows({"@pattern": "ERROR db <*>", "@sampleCount": "7"}),
        },
    }
    client = FakeClient("logs", insights(done))
    install(client, FakeBroker())
    result = await mcp_client.call_tool(
        "analyze_log_group",
        {"log_group_name": "/app", "start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-01T06:00:00Z"},
    )
    answer = result.structured_content
    assert answer is not None and not result.is_error
    assert answer["event_count"] == 1200 and answer["error_count"] == 7
    assert answer["top_patterns"] == [{"pattern": "GET /<*> 200", "count": 900}, {"pattern": "x", "count": 3}]
    assert answer["top_error_patterns"] == [{"pattern": "ERROR db <*>", "count": 7}]
    assert answer["incomplete"] == [] and answer["end_time"] == "2025-01-01T06:00:00.000Z"
    starts = [p for op, p in client.calls if op == "start_query"]
    assert len(starts) == 4 and all(p["logGroupNames"] == ["/app"] for p in starts)
    assert all(p["endTime"] - p["startTime"] == 6 * 3600 for p in starts)


@pytest.mark.anyio
async def test_analyze_reports_parts_that_did_not_finish(install: Any, mcp_client: Client) -> None:
    answers: dict[str, dict[str, Any]] = {
        "q-events": {"status": "Complete", "results": rows({"events": "5"})},
        "q-errors": {"status": "Failed", "results": []},
        "q-patterns": {"status": "Running", "results": []},
        "q-error-patterns": {"status": "Complete", "results": []},
    }
    install(FakeClient("logs", insights(answers)), FakeBroker())
    result = await mcp_client.call_tool("analyze_log_group", {"log_group_name": "/app", "max_timeout": 1})
    answer = result.structured_content
    assert answer is not None
    assert answer["event_count"] == 5 and answer["error_count"] is None and answer["top_patterns"] == []
    assert answer["incomplete"] == ["error_count: query Failed", "top_patterns: query Running"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (
            ProviderUnavailable("STS is unreachable", retry_after=7),
            "Temporarily unavailable: STS is unreachable (retry after 7 s)",
        ),
        (InvalidToken("Token has expired"), "Invalid token: Token has expired"),
    ],
)
async def test_credential_failures_are_tool_errors(
    install: Any, mcp_client: Client, failure: AuthError, expected: str
) -> None:
    install(FakeClient("sts", lambda op, p: {}), FakeBroker(failure))
    result = await mcp_client.call_tool("whoami", {})
    assert result.is_error
    text = " ".join(getattr(b, "text", "") for b in result.content)
    assert expected in text and "Traceback" not in text


@pytest.mark.anyio
async def test_pages_asks_only_for_what_is_left_and_stops_at_max_items() -> None:
    def handle(op: str, params: dict[str, Any]) -> dict[str, Any]:
        n = int(params.get("nextToken", "0"))
        return {"items": list(range(n, n + params["limit"])), "nextToken": str(n + params["limit"])}

    client = FakeClient("logs", handle)
    found, more = await pages(client, "list", 7, lambda p: len(p["items"]), size_param="limit", size_cap=5)
    assert [p["limit"] for _, p in client.calls] == [5, 2]
    assert sum(len(p["items"]) for p in found) == 7 and more is True


@pytest.mark.anyio
async def test_pages_stops_on_a_repeated_token_and_names_the_action_on_errors() -> None:
    client = FakeClient("logs", lambda op, p: {"items": [1], "nextToken": "same"})
    found, more = await pages(client, "list_things", 100, lambda p: len(p["items"]))
    assert len(found) == 2 and more is False

    def fail(op: str, params: dict[str, Any]) -> dict[str, Any]:
        raise AwsCallError("ThrottlingException", "Rate exceeded", op)

    with pytest.raises(AwsCallError) as err:
        await pages(FakeClient("cloudwatch", fail), "describe_alarms", 5, len)
    assert err.value.code == "ThrottlingException" and err.value.operation == "cloudwatch:DescribeAlarms"


def test_messages_are_plain_and_short() -> None:
    xml = "<Response><Error><Code>AccessDenied</Code><Message>No &amp; never</Message></Error></Response>"
    assert plain(xml) == "No & never"
    assert plain("line one\n  line two") == "line one line two"
    assert len(plain("x" * 5000)) == 503
    denied = aws_message(AwsCallError("403", xml, "monitoring:GetMetricData"))
    assert denied.startswith("AWS error AccessDenied: not allowed to call monitoring:GetMetricData with")
    assert aws_message(AwsCallError("ValidationError", "bad")) == "AWS error ValidationError: bad"


def test_action_names_and_time_windows() -> None:
    assert action_name("logs", "describe_log_groups") == "logs:DescribeLogGroups"
    assert action_name("sts", "GetCallerIdentity") == "sts:GetCallerIdentity"
    begin, end = window(datetime(2025, 1, 1), None, timedelta(hours=1))
    assert begin.tzinfo is UTC and end > begin
    assert window(None, datetime(2025, 1, 1, 2), timedelta(hours=1))[0] == datetime(2025, 1, 1, 1, tzinfo=UTC)
    with pytest.raises(ToolError):
        window(datetime(2025, 1, 2), datetime(2025, 1, 1), timedelta(hours=1))
    assert iso(1735689600000) == "2025-01-01T00:00:00.000Z" and iso(None) is None

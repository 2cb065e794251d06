"""The served app end to end: uvicorn on 127.0.0.1, the official SDK client, LocalIssuer tokens,
moto with IAM enforced, ``assume-role`` per user. The setup is ``cwmcp demo``'s own
(``running_demo``), so what the demo shows is what is tested here.

moto lacks DescribeAlarmHistory and StopQuery; the demo adds both to its in-process moto
(``cwmcp.entrypoints.demo_moto``), so every tool answers here over HTTP. moto's Logs Insights runs
only ``fields``/``sort``/``limit`` (no ``filter``, ``stats``, ``pattern``): the summaries of
``analyze_log_group`` are checked in test_tools_stubbed.py, here only that it answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import anyio
import anyio.lowlevel
import pytest

from cwmcp.contract.deployment_http import EXPECTED_TOOLS
from cwmcp.entrypoints.demo import DemoRun, running_demo
from cwmcp.entrypoints.demo_seed import ACCOUNT_ALIAS, NAMESPACE
from tests.support.mcp_http import call, mcp_session, text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoRun]:
    with running_demo() as run:
        yield run


def _arn(demo: DemoRun, role: str, email: str) -> str:
    return f"arn:aws:sts::{demo.aws.account}:assumed-role/{role}/{email}"


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


async def test_every_tool_answers_over_http(demo: DemoRun) -> None:
    now = datetime.now(UTC)
    async with mcp_session(demo.url, demo.tokens["alice"]) as alice:
        assert {t.name for t in (await alice.session.list_tools()).tools} == set(EXPECTED_TOOLS)

        me = await call(alice, "whoami")
        assert me["subject"] == "alice" and me["email"] == "alice@example.com"
        assert me["accounts"] == [ACCOUNT_ALIAS]
        assert me["aws"]["arn"] == _arn(demo, "cwmcp-demo-sre", "alice@example.com")

        groups = await call(alice, "describe_log_groups")
        assert sorted(g["name"] for g in groups["log_groups"]) == sorted(demo.aws.log_groups)

        window = {"start_time": _iso(now - timedelta(hours=3)), "end_time": _iso(now + timedelta(minutes=1))}
        query = await call(
            alice,
            "execute_log_insights_query",
            log_group_names=["/demo/checkout-api"],
            query_string="fields @timestamp, @message | sort @timestamp desc | limit 5",
            **window,
        )
        assert query["status"] == "Complete" and len(query["results"]) == 5
        stamps = [row["@timestamp"] for row in query["results"]]
        assert stamps == sorted(stamps, reverse=True)
        assert all(row["@message"] for row in query["results"])
        again = await call(alice, "get_logs_insight_query_results", query_id=query["query_id"])
        assert again["results"] == query["results"]
        cancelled = await call(alice, "cancel_logs_insight_query", query_id=query["query_id"])
        assert cancelled == {"query_id": query["query_id"], "cancelled": False}  # it had finished

        summary = await call(alice, "analyze_log_group", log_group_name="/demo/checkout-api", **window)
        assert summary["log_group_name"] == "/demo/checkout-api"
        assert summary["start_time"] == window["start_time"].replace("Z", ".000Z")

        metric = await call(
            alice,
            "get_metric_data",
            namespace=NAMESPACE,
            metric_name="Latency",
            dimensions={"Service": "checkout-api"},
            period=300,
            start_time=_iso(now - timedelta(hours=4)),
            end_time=_iso(now + timedelta(minutes=1)),
        )
        assert len(metric["values"]) == 36 and metric["timestamps"] == sorted(metric["timestamps"])
        assert max(metric["values"][:20]) < 200 < 500 < min(metric["values"][-5:])  # the seeded spike

        alarms = await call(alice, "get_active_alarms")
        assert {a["name"] for a in alarms["metric_alarms"]} == set(demo.aws.firing_alarms)

        history = await call(alice, "get_alarm_history", alarm_name=demo.aws.firing_alarms[0])
        changes = [(i["old_state"], i["new_state"]) for i in history["items"]]
        assert changes == [("OK", "ALARM"), ("ALARM", "OK"), ("OK", "ALARM")]  # newest first
        assert {i["history_item_type"] for i in history["items"]} == {"StateUpdate"}


async def test_concurrent_users_never_see_each_other(demo: DemoRun) -> None:
    carol = demo.issuer.mint("carol", email="carol@example.com", groups=["sre"])
    users = {
        "alice": (demo.tokens["alice"], _arn(demo, "cwmcp-demo-sre", "alice@example.com")),
        "bob": (demo.tokens["bob"], _arn(demo, "cwmcp-demo-dev", "bob@example.com")),
        "carol": (carol, _arn(demo, "cwmcp-demo-sre", "carol@example.com")),
    }
    seen: dict[str, list[tuple[str, str]]] = {name: [] for name in users}
    started = anyio.Event()

    async def user(name: str) -> None:
        token, _ = users[name]
        async with mcp_session(demo.url, token) as me:
            await started.wait()
            for _ in range(6):
                answer = await call(me, "whoami")
                seen[name].append((answer["subject"], answer["aws"]["arn"]))
                await anyio.lowlevel.checkpoint()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for name in users:
                tg.start_soon(user, name)
            await anyio.sleep(0.2)
            started.set()
    for name, (_, arn) in users.items():
        assert seen[name] == [(name, arn)] * 6, name


async def test_a_new_token_mid_session_takes_effect_on_the_next_call(demo: DemoRun) -> None:
    async with mcp_session(demo.url, demo.tokens["alice"]) as client:
        first = await call(client, "whoami")
        client.use_token(demo.tokens["bob"])
        second = await call(client, "whoami")
        posts = [r for r in client.sent.requests if r[0] == "POST" and r[1] is not None]
    assert first["subject"] == "alice" and second["subject"] == "bob"
    assert second["aws"]["arn"] == _arn(demo, "cwmcp-demo-dev", "bob@example.com")
    assert len({session for _, session, _ in posts}) == 1, "the MCP session changed"
    assert {auth for _, _, auth in posts} == {f"Bearer {demo.tokens[u]}" for u in ("alice", "bob")}


async def test_logs_only_user_is_denied_alarms_by_iam(demo: DemoRun) -> None:
    async with mcp_session(demo.url, demo.tokens["bob"]) as bob:
        denied = await bob.session.call_tool("get_active_alarms", {})
        logs = await call(bob, "describe_log_groups")
    assert denied.is_error
    message = text(denied)
    assert "AccessDenied" in message and "DescribeAlarms" in message and "cwmcp-demo-dev" in message
    assert "Traceback" not in message
    assert len(logs["log_groups"]) == len(demo.aws.log_groups)
    async with mcp_session(demo.url, demo.tokens["alice"]) as alice:
        alarms = await call(alice, "get_active_alarms")
    assert {a["name"] for a in alarms["metric_alarms"]} == set(demo.aws.firing_alarms)

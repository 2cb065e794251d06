"""Per-user AWS credentials end to end against moto over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import botocore.session
import pytest

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.credential_cache import CachingBroker
from cwmcp.adapters.sts import AssumeRoleBroker, WebIdentityBroker
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AccessDenied, AwsCallError, ProviderUnavailable
from cwmcp.domain.identity import Identity
from tests.support.moto import enforce_iam, moto_server, post

pytestmark = pytest.mark.anyio
ACCOUNT = "123456789012"
ROLE = RoleChoice(f"arn:aws:iam::{ACCOUNT}:role/cw-read", "saas")
ALICE = Identity(
    subject="sub-alice", issuer="https://issuer.test", email="alice@example.com", token="tok.alice.x"
)
BOB = Identity(subject="sub-bob", issuer="https://issuer.test", email="bob@example.com", token="tok.bob.x")


async def caller_arn(sessions: BotocoreSessionFactory, broker: Any, who: Identity, role: RoleChoice) -> str:
    creds = await broker.credentials(who, role)
    sts = await sessions.client("sts", "us-east-1", creds)
    return str((await sts.call("GetCallerIdentity"))["Arn"])


async def count_assume_role(sessions: BotocoreSessionFactory) -> list[str]:
    """Every AssumeRole that leaves the server, seen by a botocore hook on the broker's STS client."""
    seen: list[str] = []
    sts = await sessions.client("sts", "us-east-1", None)
    sts.raw.meta.events.register("before-send.sts.AssumeRole", lambda **_: seen.append("AssumeRole"))
    return seen


async def test_two_users_get_their_own_named_sessions(moto_url: str) -> None:
    sessions = BotocoreSessionFactory()
    broker = CachingBroker(AssumeRoleBroker(sessions))
    alice = await caller_arn(sessions, broker, ALICE, ROLE)
    bob = await caller_arn(sessions, broker, BOB, ROLE)
    assert alice == f"arn:aws:sts::{ACCOUNT}:assumed-role/cw-read/alice@example.com"
    assert bob == f"arn:aws:sts::{ACCOUNT}:assumed-role/cw-read/bob@example.com"


async def test_web_identity_sessions_are_named_too(moto_url: str) -> None:
    sessions = BotocoreSessionFactory()
    arn = await caller_arn(sessions, WebIdentityBroker(sessions), BOB, ROLE)
    assert arn.endswith("assumed-role/cw-read/bob@example.com")


async def test_200_concurrent_first_calls_make_one_sts_call(moto_url: str) -> None:
    sessions = BotocoreSessionFactory()
    broker = CachingBroker(AssumeRoleBroker(sessions))
    sent = await count_assume_role(sessions)
    keys: set[str] = set()

    async def one() -> None:
        keys.add((await broker.credentials(ALICE, ROLE)).access_key_id)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(one)
    assert sent == ["AssumeRole"]
    assert len(keys) == 1
    assert broker.fetches == 1


async def test_credentials_near_expiry_are_refreshed(moto_url: str) -> None:
    offset = 0.0
    sessions = BotocoreSessionFactory()
    broker = CachingBroker(
        AssumeRoleBroker(sessions, 900), refresh_margin=300, clock=lambda: time.time() + offset
    )
    sent = await count_assume_role(sessions)
    first = await broker.credentials(ALICE, ROLE)
    assert first.expires_at is not None
    assert (await broker.credentials(ALICE, ROLE)) is first
    assert len(sent) == 1
    offset = first.expires_at - 300 - time.time() + 1  # one second inside the refresh margin
    fresh = await broker.credentials(ALICE, ROLE)
    assert len(sent) == 2
    assert fresh.access_key_id != first.access_key_id
    assert fresh.expires_at is not None and fresh.expires_at > first.expires_at


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode", ["assume-role", "web-identity"])
async def test_sts_unreachable_fails_fast_and_clearly_without_secrets(
    moto_url: str, mode: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "server-secret-never-logged"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{closed_port()}")
    caplog.set_level(logging.DEBUG)
    sessions = BotocoreSessionFactory()
    broker = CachingBroker(
        AssumeRoleBroker(sessions) if mode == "assume-role" else WebIdentityBroker(sessions)
    )
    started = time.monotonic()
    with anyio.fail_after(20), pytest.raises(ProviderUnavailable) as caught:
        await broker.credentials(ALICE, ROLE)
    assert time.monotonic() - started < 10
    assert "sts" in caught.value.description.lower()
    assert "unreachable" in caught.value.description
    for text in (caplog.text, str(caught.value), repr(caught.value)):
        assert secret not in text
        assert ALICE.token not in text
    assert len(broker) == 0  # not cached: the next call tries again


async def test_debug_logging_shows_no_token_and_no_credentials(
    moto_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sessions = BotocoreSessionFactory()
    creds = await WebIdentityBroker(sessions).credentials(ALICE, ROLE)
    sts = await sessions.client("sts", "us-east-1", creds)
    await sts.call("GetCallerIdentity")
    assert caplog.records, "nothing was logged at all: the check below would prove nothing"
    for secret in (ALICE.token, creds.secret_access_key, creds.session_token or "-"):
        assert secret not in caplog.text


def _policy(actions: list[str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    )


def _trust(principal: str) -> str:
    allow = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [allow]})


@pytest.fixture
def enforced(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A moto with two roles trusting a server IAM user, then IAM enforcement switched on.

    moto keeps its backends and its enforcement switch per process, not per server: names are
    unique per test, and enforcement is switched off again afterwards.
    """
    run = uuid.uuid4().hex[:8]
    with moto_server() as url:
        iam = botocore.session.get_session().create_client("iam", region_name="us-east-1", endpoint_url=url)
        found: dict[str, Any] = {}
        for user in ("server", "stranger"):
            name = f"cwmcp-{user}-{run}"
            arn = iam.create_user(UserName=name)["User"]["Arn"]
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(["sts:AssumeRole"]))
            found[user] = (arn, iam.create_access_key(UserName=name)["AccessKey"])
        grants = {"logs-only": ["logs:*"], "logs-and-alarms": ["logs:*", "cloudwatch:*", "monitoring:*"]}
        for role, actions in grants.items():
            name = f"{role}-{run}"
            trust = _trust(found["server"][0])
            found[role] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(actions))
        enforce_iam(url)
        try:
            monkeypatch.setenv("AWS_ENDPOINT_URL", url)
            use_keys(monkeypatch, found["server"][1])
            yield found
        finally:
            post(f"{url}/moto-api/reset-auth", b"inf", "text/plain")


def use_keys(monkeypatch: pytest.MonkeyPatch, key: dict[str, str]) -> None:
    """The server's own credentials (botocore's default chain reads them from the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


async def test_each_user_gets_only_their_roles_permissions(enforced: dict[str, Any]) -> None:
    sessions = BotocoreSessionFactory(max_attempts=1)
    broker = CachingBroker(AssumeRoleBroker(sessions, source_identity=False))
    logs_only = RoleChoice(enforced["logs-only"], "logs")
    everything = RoleChoice(enforced["logs-and-alarms"], "all")

    alice_creds = await broker.credentials(ALICE, logs_only)
    alice_logs = await sessions.client("logs", "us-east-1", alice_creds)
    await alice_logs.call("DescribeLogGroups")
    alice_cw = await sessions.client("cloudwatch", "us-east-1", alice_creds)
    with pytest.raises(AwsCallError) as caught:
        await alice_cw.call("DescribeAlarms")
    assert caught.value.code == "AccessDenied"
    assert alice_creds.secret_access_key not in str(caught.value)
    assert "<" not in caught.value.message  # moto's XML denial is not passed on raw

    bob_creds = await broker.credentials(BOB, everything)
    bob_cw = await sessions.client("cloudwatch", "us-east-1", bob_creds)
    assert "MetricAlarms" in await bob_cw.call("DescribeAlarms")
    bob_logs = await sessions.client("logs", "us-east-1", bob_creds)
    await bob_logs.describe_log_groups()


async def test_a_role_that_does_not_trust_the_server_is_refused_by_name(
    enforced: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, enforced["stranger"][1])
    broker = AssumeRoleBroker(BotocoreSessionFactory(max_attempts=1), source_identity=False)
    with pytest.raises(AccessDenied) as caught:
        await broker.credentials(ALICE, RoleChoice(enforced["logs-only"]))
    assert enforced["logs-only"] in caught.value.description


async def test_unknown_server_keys_are_a_server_problem(
    enforced: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUSER00000")
    broker = AssumeRoleBroker(BotocoreSessionFactory(max_attempts=1), source_identity=False)
    with pytest.raises(ProviderUnavailable) as caught:
        await broker.credentials(ALICE, RoleChoice(enforced["logs-only"]))
    assert "server's own AWS credentials" in caught.value.description

"""What ``cwmcp demo`` (and the end-to-end tests) put into moto before the server starts.

Seeding runs with throwaway keys while moto's IAM enforcement is still off; afterwards only the
demo's IAM user (the server) and the roles it assumes can do anything. Needs moto (the ``demo``
extra); nothing here ever talks to real AWS: every client is built with moto's URL.

moto keeps its data and its enforcement switch per *process*, shared by every moto server in it.
So each run seeds a fresh account of its own (``x-moto-account-id`` while seeding; afterwards moto
finds the account from the access key), and whoever switches enforcement on switches it off again.
"""

from __future__ import annotations

import json
import random
import secrets
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session

from cwmcp.entrypoints.settings import Settings, load_settings

REGION = "us-east-1"
ACCOUNT_ALIAS = "demo"
AUDIENCE = "cwmcp"
NAMESPACE = "CwmcpDemo"
SERVER_USER = "cwmcp-demo-server"
_SEED_KEYS = {"aws_access_key_id": "seed", "aws_secret_access_key": "seed"}  # moto before enforcement


@dataclass(frozen=True, slots=True)
class ServerKey:
    """The access key of the server's IAM user; the secret stays out of ``repr``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DemoAws:
    """What was created in moto: the account, two roles, the server's key and the seeded resources."""

    moto_url: str
    account: str
    sre_role_arn: str
    dev_role_arn: str
    server_key: ServerKey
    log_groups: tuple[str, ...]
    firing_alarms: tuple[str, ...]
    quiet_alarms: tuple[str, ...]


def new_account() -> str:
    """A random 12-digit account id, so runs in one process never see each other's resources."""
    return str(100_000_000_000 + secrets.randbelow(900_000_000_000))


def client(moto_url: str, service: str, account: str) -> Any:
    """A botocore client for moto only (explicit endpoint: never real AWS), acting in ``account``."""
    made = botocore.session.get_session().create_client(
        service, region_name=REGION, endpoint_url=moto_url, **_SEED_KEYS
    )

    def in_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    made.meta.events.register("before-sign", in_account)
    return made


def _post(url: str, body: bytes, content_type: str) -> None:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("moto runs on 127.0.0.1 only")
    headers = {"content-type": content_type}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with opener.open(request, timeout=10) as answer:
        answer.read()


def enforce_iam(moto_url: str, on: bool = True) -> None:
    """Switch moto's IAM enforcement on (every request is checked against IAM) or off again.
    The switch is process-wide: every moto server in this process follows it."""
    _post(f"{moto_url}/moto-api/reset-auth", b"0" if on else b"inf", "text/plain")


_LOG_LINES = {
    "/demo/checkout-api": [
        "INFO GET /cart 200 14ms",
        "INFO POST /checkout 200 87ms",
        "INFO GET /products 200 9ms",
        "WARN slow query on orders table took 1240ms",
        "ERROR POST /checkout 502 payment gateway timeout after 30s",
    ],
    "/demo/payments-worker": [
        "INFO processed payment batch size=25",
        "INFO settled 25 payments",
        "ERROR failed to charge card: card_declined",
        "ERROR connection reset by peer (payments-db)",
    ],
    "/aws/lambda/demo-thumbnailer": [
        "START RequestId: 4f1c Version: $LATEST",
        "REPORT RequestId: 4f1c Duration: 182.31 ms Billed Duration: 183 ms",
        "ERROR Task timed out after 3.00 seconds",
    ],
}


def _seed_logs(moto_url: str, account: str, now: datetime, rng: random.Random) -> tuple[str, ...]:
    logs = client(moto_url, "logs", account)
    for group, lines in _LOG_LINES.items():
        logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=14)
        logs.create_log_stream(logGroupName=group, logStreamName="main")
        start = now - timedelta(hours=2)
        events = [
            {
                "timestamp": int((start + timedelta(minutes=2 * i)).timestamp() * 1000),
                "message": lines[-1] if i % 9 == 4 else rng.choice(lines[:-1]),
            }
            for i in range(60)
        ]
        logs.put_log_events(logGroupName=group, logStreamName="main", logEvents=events)
    return tuple(_LOG_LINES)


Names = tuple[str, ...]
_METRICS = (  # name, dimension (Service), normal level, level over the last 30 minutes
    ("Latency", "checkout-api", 120.0, 780.0),
    ("Errors", "checkout-api", 2.0, 9.0),
    ("QueueDepth", "payments-worker", 20.0, 240.0),
)
_ALARMS = (  # name, metric, service, statistic, threshold, firing
    ("checkout-api-latency-high", "Latency", "checkout-api", "Average", 500.0, True),
    ("payments-queue-backlog", "QueueDepth", "payments-worker", "Maximum", 100.0, True),
    ("checkout-api-errors", "Errors", "checkout-api", "Sum", 50.0, False),
)


def _seed_metrics(moto_url: str, account: str, now: datetime, rng: random.Random) -> tuple[Names, Names]:
    cw = client(moto_url, "cloudwatch", account)
    start = (now - timedelta(hours=3)).replace(second=0, microsecond=0)
    for name, service, normal, spike in _METRICS:
        data = []
        for i in range(36):  # every 5 minutes over the last 3 hours
            stamp = start + timedelta(minutes=5 * i)
            level = spike if now - stamp <= timedelta(minutes=30) else normal
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "Service", "Value": service}],
                    "Timestamp": stamp,
                    "Value": round(level * rng.uniform(0.85, 1.15), 2),
                }
            )
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=data)
    for alarm, metric, service, statistic, threshold, firing in _ALARMS:
        cw.put_metric_alarm(
            AlarmName=alarm,
            AlarmDescription=f"{metric} of {service} above {threshold:g}",
            Namespace=NAMESPACE,
            MetricName=metric,
            Dimensions=[{"Name": "Service", "Value": service}],
            Statistic=statistic,
            Period=300,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
        )
        above = f"Threshold Crossed: {metric} above {threshold:g} for 1 datapoint"
        below = f"Threshold Crossed: {metric} back below {threshold:g}"
        states = [("ALARM", above), ("OK", below)] + ([("ALARM", above)] if firing else [])
        for state, reason in states:  # a little history: fired, recovered (and fired again)
            cw.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=reason)
    return (
        tuple(a[0] for a in _ALARMS if a[5]),
        tuple(a[0] for a in _ALARMS if not a[5]),
    )


def _policy(actions: list[str], resource: str | list[str] = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


ROLE_ACTIONS = {
    "cwmcp-demo-sre": ["logs:*", "cloudwatch:*", "monitoring:*", "sts:GetCallerIdentity"],
    "cwmcp-demo-dev": ["logs:*", "sts:GetCallerIdentity"],
}


def _create_identities(moto_url: str, account: str) -> tuple[str, str, ServerKey]:
    """Two roles (logs + alarms; logs only) and the server's IAM user, allowed to assume both."""
    iam = client(moto_url, "iam", account)
    user_arn = f"arn:aws:iam::{account}:user/{SERVER_USER}"
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user_arn},
                    "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                }
            ],
        }
    )
    arns: list[str] = []
    for role, actions in ROLE_ACTIONS.items():
        created = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust, MaxSessionDuration=43200)
        iam.put_role_policy(RoleName=role, PolicyName="cloudwatch-read", PolicyDocument=_policy(actions))
        arns.append(created["Role"]["Arn"])
    iam.create_user(UserName=SERVER_USER)
    iam.put_user_policy(
        UserName=SERVER_USER,
        PolicyName="assume-demo-roles",
        PolicyDocument=_policy(["sts:AssumeRole", "sts:SetSourceIdentity"], arns),
    )
    key = iam.create_access_key(UserName=SERVER_USER)["AccessKey"]
    return arns[0], arns[1], ServerKey(key["AccessKeyId"], key["SecretAccessKey"])


def seed(moto_url: str, account: str | None = None, now: datetime | None = None) -> DemoAws:
    """Fill a fresh account of moto (IAM enforcement still off) with logs, metrics, alarms and
    identities; ``account`` defaults to a new random one."""
    account = account or new_account()
    now = now or datetime.now(UTC)
    rng = random.Random(7)  # noqa: S311 (demo data, not security)
    groups = _seed_logs(moto_url, account, now, rng)
    firing, quiet = _seed_metrics(moto_url, account, now, rng)
    sre, dev, key = _create_identities(moto_url, account)
    return DemoAws(moto_url, account, sre, dev, key, groups, firing, quiet)


def write_role_rules(directory: Path, aws: DemoAws) -> Path:
    """The rules file: group ``sre`` -> the logs+alarms role, ``dev`` -> the logs-only role."""
    rules = {
        "rules": [
            {
                "when": {"groups": ["sre"]},
                "roles": [{"account": ACCOUNT_ALIAS, "role_arn": aws.sre_role_arn}],
            },
            {
                "when": {"groups": ["dev"]},
                "roles": [{"account": ACCOUNT_ALIAS, "role_arn": aws.dev_role_arn}],
            },
        ]
    }
    path = directory / "role-rules.json"
    path.write_text(json.dumps(rules, indent=2), encoding="utf-8")
    return path


def demo_settings(issuer: str, rules_file: Path) -> Settings:
    """Auth on, ``assume-role`` through the rules file; validated like any configuration."""
    return load_settings(
        {
            "ENABLE_AUTH": "true",
            "OAUTH_ISSUER": issuer,
            "OAUTH_AUDIENCE": AUDIENCE,
            "AWS_CREDENTIALS_MODE": "assume-role",
            "AWS_ROLE_RULES_FILE": str(rules_file),
            "AWS_REGION": REGION,
        }
    )

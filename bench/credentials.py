"""What per-user credentials cost per AWS call, against moto on 127.0.0.1.

(a) one static botocore client, called directly: the floor (it would block a server's loop).
(t) the same static client through anyio.to_thread: what keeping the loop free costs alone.
(b) cwmcp's path, warm: CachingBroker(AssumeRoleBroker) per user -> BotocoreSessionFactory's
    cached client -> the call in a worker thread (anyio.to_thread, shared CapacityLimiter).
(c) a new botocore session + client per call: the pattern the seed documents show.

The runs are interleaved (a, t, b, a, t, b, ..., c per round) so a noisy machine slows all alike.
Target: b <= 1.1 x the static client, judged against (t): the static client called the way an async
server must call botocore (off the loop, a rule of cwmcp's design). Against moto's ~2 ms answers the
thread hop alone is ~10 %, so b/a (on-loop, blocking) is printed too, for the record; against real AWS
(tens of ms per call) the two ratios converge.
Usage: python bench/credentials.py [--rounds N] [--per-round K]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _moto import moto_process, use_fake_aws

use_fake_aws()

import anyio  # noqa: E402
import botocore.session  # noqa: E402

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory  # noqa: E402
from cwmcp.adapters.credential_cache import CachingBroker  # noqa: E402
from cwmcp.adapters.sts import AssumeRoleBroker  # noqa: E402
from cwmcp.domain.credentials import RoleChoice  # noqa: E402
from cwmcp.domain.identity import Identity  # noqa: E402

REGION = "us-east-1"
ROLE = RoleChoice("arn:aws:iam::123456789012:role/cw-read", "bench")
USERS = [Identity(subject=f"user-{i}", issuer="https://bench.test", email=f"u{i}@ex.com") for i in range(8)]


async def timed(samples: list[float], fn: Callable[[], Awaitable[Any]]) -> None:
    started = time.perf_counter()
    await fn()
    samples.append((time.perf_counter() - started) * 1000)


async def run(rounds: int, per_round: int) -> dict[str, list[float]]:
    static = botocore.session.get_session().create_client("logs", region_name=REGION)
    static.create_log_group(logGroupName="/bench/app")

    sessions = BotocoreSessionFactory()
    broker = CachingBroker(AssumeRoleBroker(sessions))
    turn = 0

    async def a() -> None:
        static.describe_log_groups()

    async def t() -> None:
        await anyio.to_thread.run_sync(static.describe_log_groups, limiter=sessions.limiter)

    async def b() -> None:
        nonlocal turn
        user = USERS[turn % len(USERS)]
        turn += 1
        creds = await broker.credentials(user, ROLE)
        client = await sessions.client("logs", REGION, creds)
        await client.call("DescribeLogGroups")

    async def c() -> None:
        client = botocore.session.get_session().create_client("logs", region_name=REGION)
        client.describe_log_groups()

    for _ in range(len(USERS) * 2):  # warm: every user's credentials and client are cached
        await b()
        await a()
    samples: dict[str, list[float]] = {"a": [], "t": [], "b": [], "c": []}
    for _ in range(rounds):
        for _ in range(per_round):
            await timed(samples["a"], a)
            await timed(samples["t"], t)
            await timed(samples["b"], b)
        await timed(samples["c"], c)
    assert broker.fetches == len(USERS), "warm path made extra STS calls"
    n, started = 5000, time.perf_counter()  # the per-user lookups alone, no AWS call
    for i in range(n):
        creds = await broker.credentials(USERS[i % len(USERS)], ROLE)
        await sessions.client("logs", REGION, creds)
    samples["lookup_us"] = [(time.perf_counter() - started) / n * 1e6]
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--per-round", type=int, default=6)
    args = parser.parse_args()
    with moto_process() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        started = time.perf_counter()
        samples = anyio.run(run, args.rounds, args.per_round)
    med = {k: statistics.median(v) for k, v in samples.items()}
    labels = {
        "a": "static botocore client",
        "t": "static botocore client via to_thread",
        "b": "cwmcp per-user (cached creds + client, to_thread)",
        "c": "new botocore session per call",
    }
    took = time.perf_counter() - started
    print(f"describe_log_groups against moto on 127.0.0.1, in its own process ({took:.1f} s)")
    for key in labels:
        print(f"  ({key}) {labels[key]:<50} {med[key]:8.2f} ms/call median  (n={len(samples[key])})")
    ratio_b, ratio_c = med["b"] / med["a"], med["c"] / med["a"]
    print(f"  b/a = {ratio_b:.2f}   c/a = {ratio_c:.1f}   b/t = {med['b'] / med['t']:.2f}")
    hop, rest = med["t"] - med["a"], med["b"] - med["t"]
    print(
        f"  b - a = {med['b'] - med['a']:.2f} ms/call: thread hop (t - a) {hop:.2f}, "
        f"per-user clients, each with its own connection (b - t) {rest:.2f}"
    )
    print(
        f"  of which cwmcp's cache lookups (credentials + client), measured alone: "
        f"{med['lookup_us']:.1f} us/call"
    )
    ratio_t = med["b"] / med["t"]
    print(
        f"  target b <= 1.1 x t (static client off the loop): {'met' if ratio_t <= 1.1 else 'NOT met'}"
        f" ({ratio_t:.2f}); against the blocking on-loop call (a): {ratio_b:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What auth and per-user credentials cost on a whole tool call: ``tools/call whoami`` end to end.

Both variants run over real HTTP: the official MCP SDK client (httpx2) -> uvicorn on 127.0.0.1 ->
cwmcp's served app (``build_http_app``) -> sts:GetCallerIdentity against moto (in its own
process, as AWS would be, so its threads do not share our GIL).

(i)  auth off (``ENABLE_AUTH=false``): everyone uses the server's own (ambient) credentials.
(ii) auth on: a LocalIssuer token per user, verified on every request, ``assume-role`` per user
     through the demo's role rules, credentials and clients warm (cached).

Each variant gets the same number of MCP sessions (one per user); calls are interleaved in rounds
(i, ii, i, ii, ...) so a noisy machine slows both alike. Target: (ii) <= 1.15 x (i).
Usage: python bench/server.py [--rounds N] [--per-round K] [--users U]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from _moto import moto_process, use_fake_aws

use_fake_aws()

import anyio  # noqa: E402
import httpx2  # noqa: E402
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from cwmcp.entrypoints.background import serve_in_thread  # noqa: E402
from cwmcp.entrypoints.demo_seed import demo_settings, seed, write_role_rules  # noqa: E402
from cwmcp.entrypoints.http_app import build_http_app  # noqa: E402
from cwmcp.entrypoints.issuer import LocalIssuer  # noqa: E402
from cwmcp.entrypoints.settings import load_settings  # noqa: E402

TARGET = 1.15


@asynccontextmanager
async def session(stack: AsyncExitStack, url: str, token: str | None) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=30, trust_env=False))
    read, write = await stack.enter_async_context(streamable_http_client(url, http_client=http))
    client = await stack.enter_async_context(ClientSession(read, write))
    await client.initialize()
    yield client


async def whoami(client: ClientSession) -> dict[str, Any]:
    result = await client.call_tool("whoami", {})
    if result.is_error or not isinstance(result.structured_content, dict):
        raise RuntimeError(f"whoami failed: {result.content}")
    return result.structured_content


async def run(
    off_url: str, on_url: str, tokens: dict[str, str], rounds: int, per_round: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"i": [], "ii": []}
    async with AsyncExitStack() as stack:
        off = [await stack.enter_async_context(session(stack, off_url, None)) for _ in tokens]
        on = {u: await stack.enter_async_context(session(stack, on_url, t)) for u, t in tokens.items()}
        for user, client in on.items():  # warm: each user's role credentials and client are cached
            me = await whoami(client)
            assert me["subject"] == user, me
        for client in off:
            assert (await whoami(client))["subject"] is None
        users = list(on)
        turn = 0
        for _ in range(rounds):
            for kind in ("i", "ii"):
                for _ in range(per_round):
                    client = off[turn % len(off)] if kind == "i" else on[users[turn % len(users)]]
                    turn += 1
                    started = time.perf_counter()
                    await whoami(client)
                    samples[kind].append((time.perf_counter() - started) * 1000)
    return samples


def quiet_logging(audit: bool) -> None:
    """Like ``cwmcp serve`` (plain lines on stderr) but only cwmcp's own at INFO: the SDK's and httpx2's
    per-request INFO lines would add the same cost to both variants and flatter the ratio."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("cwmcp").setLevel(logging.INFO if audit else logging.WARNING)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-audit", action="store_true", help="cwmcp's INFO audit lines off")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--per-round", type=int, default=8)
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args()
    quiet_logging(audit=not args.no_audit)
    started = time.perf_counter()
    with moto_process() as moto_url, tempfile.TemporaryDirectory() as tmp:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        aws = seed(moto_url)
        issuer = LocalIssuer(audience="cwmcp")
        with issuer.serve():
            on_settings = demo_settings(issuer.issuer, write_role_rules(Path(tmp), aws))
            on_app = build_http_app(on_settings, "127.0.0.1")
            off_app = build_http_app(load_settings({"ENABLE_AUTH": "false"}), "127.0.0.1")
            users = [f"user{i}" for i in range(args.users)]
            tokens = {u: issuer.mint(u, email=f"{u}@example.com", groups=["sre"]) for u in users}
            with serve_in_thread(off_app) as off_base, serve_in_thread(on_app) as on_base:
                samples = anyio.run(
                    run, off_base + "/mcp", on_base + "/mcp", tokens, args.rounds, args.per_round
                )
            fetches = getattr(getattr(on_app, "gate", None), "broker", None)
    took = time.perf_counter() - started
    med = {k: statistics.median(v) for k, v in samples.items()}
    n = {k: len(v) for k, v in samples.items()}
    ratio = med["ii"] / med["i"]
    sts = getattr(fetches, "fetches", "?")
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    audit = "off" if args.no_audit else "on (one INFO line per request in (ii))"
    print(f"tools/call whoami, real HTTP: SDK client -> uvicorn 127.0.0.1 -> cwmcp -> moto ({took:.1f} s)")
    print(f"  (i)  auth off, ambient credentials         {med['i']:7.2f} ms/call median  (n={n['i']})")
    print(f"  (ii) auth on, assume-role per user, warm   {med['ii']:7.2f} ms/call median  (n={n['ii']})")
    print(f"       {len(tokens)} users; STS AssumeRole calls in all of (ii): {sts} (one per user: warm)")
    print(f"  (ii) - (i) = {med['ii'] - med['i']:.2f} ms/call")
    print(f"  logging: plain lines on stderr as in `cwmcp serve`; cwmcp audit {audit}; others WARNING")
    print(f"  ratio (ii)/(i) = {ratio:.3f}   target (ii) <= {TARGET} x (i): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

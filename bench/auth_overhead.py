"""What bearer-token auth costs per request, in microseconds, against a LocalIssuer on 127.0.0.1.

(a)  bare PyJWT ``jwt.decode`` with an already parsed RSA key (RS256; the same token every time).
(b)  cwmcp ``JwtVerifier.verify`` on a token it has never seen (keys already fetched).
(c)  cwmcp's ASGI wrapper (``protect``) on a token it has seen, called in-process with a minimal
     scope; the cost of calling the trivial inner app alone is subtracted.
(d1) the mcp SDK's stack (Starlette ``AuthenticationMiddleware`` + ``BearerAuthBackend`` +
     ``AuthContextMiddleware`` + ``RequireAuthMiddleware``) with a ``TokenVerifier`` built on
     ``jwt.PyJWKClient``, driven like (c), inner app subtracted.
(d2) FastMCP's ``JWTVerifier.verify_token`` (jwks_uri, issuer, audience).
(c') as (c), with the audit line of every allowed request written (INFO, to /dev/null through a
     formatter) as ``cwmcp serve`` does; (c) runs with logging unconfigured, as a library would.

Every verifier fetches the JWKS over HTTP once (warm-up), then the measurements are interleaved in
rounds, in a rotating order, so a noisy machine slows all alike. The peers keep no per-token cache,
so they are measured on the same token as (c). Usage: python bench/auth_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import jwt
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.entrypoints.asgi import protect
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings

AUDIENCE = "cwmcp"
Step = Callable[[], Awaitable[Any]]


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class Sink:
    """An ASGI ``send`` that keeps the last status, so a refusal cannot pass for a success."""

    status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


def http_scope(token: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:3334"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3334),
    }


def asgi_step(app: ASGIApp, token: str) -> Step:
    sink = Sink()

    async def step() -> None:
        sink.status = 0
        await app(http_scope(token), receive, sink)
        if sink.status != 200:
            raise RuntimeError(f"request answered {sink.status}")

    return step


def pyjwt_step(issuer: LocalIssuer, token: str) -> Step:
    key = jwt.PyJWK(issuer.jwks()["keys"][0]).key

    async def step() -> None:
        jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer.issuer)

    return step


async def ours(issuer: LocalIssuer, token: str, fresh: list[str]) -> tuple[Step, Step]:
    keys = JwksKeySet(issuer.issuer)
    verifier = JwtVerifier(keys, ClaimsPolicy(issuer=issuer.issuer, audiences=(AUDIENCE,)))
    await verifier.verify(issuer.mint("warm"))
    unseen = iter(fresh)

    async def b() -> None:
        await verifier.verify(next(unseen))

    settings = Settings(issuer=issuer.issuer, audiences=(AUDIENCE,), credentials_mode="ambient")
    c = asgi_step(protect(inner, settings), token)
    await c()  # warm: discovery, JWKS and the token's first verification
    return b, c


def mcp_sdk_step(issuer: LocalIssuer, token: str) -> Step:
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
    from mcp.server.auth.provider import AccessToken

    class PyJWKVerifier:
        """A TokenVerifier as the SDK's docs suggest: PyJWKClient for keys, jwt.decode for the rest."""

        def __init__(self) -> None:
            self.client = jwt.PyJWKClient(f"{issuer.issuer}/jwks")

        async def verify_token(self, token: str) -> AccessToken | None:
            try:
                key = self.client.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token, key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer.issuer
                )
            except jwt.PyJWTError:
                return None
            return AccessToken(
                token=token,
                client_id=str(claims.get("client_id") or claims["sub"]),
                scopes=str(claims.get("scope", "")).split(),
                expires_at=int(claims["exp"]),
                subject=claims["sub"],
                claims=claims,
            )

    required = RequireAuthMiddleware(inner, [], None)
    backend = BearerAuthBackend(PyJWKVerifier())
    app = AuthenticationMiddleware(AuthContextMiddleware(required), backend=backend)
    return asgi_step(app, token)


def fastmcp_step(issuer: LocalIssuer, token: str) -> Step:
    from fastmcp.server.auth.providers.jwt import JWTVerifier

    verifier = JWTVerifier(jwks_uri=f"{issuer.issuer}/jwks", issuer=issuer.issuer, audience=AUDIENCE)

    async def step() -> None:
        if await verifier.verify_token(token) is None:
            raise RuntimeError("FastMCP refused the token")

    return step


class AuditOn:
    """Turns the audit log on at INFO, into /dev/null, for the duration of one batch."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("cwmcp.audit")
        self.handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def __enter__(self) -> None:
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(logging.NOTSET)
        self.logger.propagate = True


async def timed(fn: Step, n: int, audit: AuditOn | None = None) -> float:
    """The median of ``n`` individually timed calls, in microseconds."""
    if audit is not None:
        with audit:
            return await timed(fn, n)
    times = []
    for _ in range(n):
        started = time.perf_counter_ns()
        await fn()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


async def run(rounds: int, per_round: int) -> tuple[dict[str, list[float]], dict[str, str], int]:
    issuer = LocalIssuer()
    with issuer.serve():
        token = issuer.mint("alice", email="alice@example.com")
        fresh = [issuer.mint(f"user-{i}") for i in range(rounds * per_round)]
        b, c = await ours(issuer, token, fresh)
        steps: dict[str, Step] = {
            "a": pyjwt_step(issuer, token),
            "b": b,
            "c": c,
            "c'": c,
            "inner": asgi_step(inner, "-"),
        }
        audit = AuditOn()
        skipped: dict[str, str] = {}
        for name, make in (("d1", mcp_sdk_step), ("d2", fastmcp_step)):
            try:
                steps[name] = make(issuer, token)
                await steps[name]()  # warm: fetches the JWKS over HTTP
            except Exception as exc:  # a peer that cannot be built is reported, not fatal
                steps.pop(name, None)
                skipped[name] = f"{type(exc).__name__}: {exc}"
        for name, step in steps.items():
            if name != "b":
                for _ in range(50):
                    await step()
        hits_after_warm = issuer.jwks_hits
        samples: dict[str, list[float]] = {name: [] for name in steps}
        names = list(steps)
        for r in range(rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(await timed(steps[name], per_round, audit if name == "c'" else None))
        if issuer.jwks_hits != hits_after_warm:
            raise RuntimeError("a verifier fetched the JWKS again during the measurements")
    return samples, skipped, hits_after_warm


LABELS = {
    "a": "PyJWT jwt.decode, parsed key",
    "b": "cwmcp JwtVerifier.verify, unseen token",
    "c": "cwmcp wrapper (protect), seen token, net",
    "c'": "same as (c), audit line written (INFO)",
    "d1": "mcp SDK auth middleware + PyJWKClient, net",
    "d2": "FastMCP JWTVerifier.verify_token",
}


def report(samples: dict[str, list[float]], skipped: dict[str, str], fetches: int, took: float) -> None:
    med = {name: statistics.median(v) for name, v in samples.items()}
    inner_us = med.pop("inner")
    for name in ("c", "c'", "d1"):
        if name in med:
            med[name] -= inner_us
    a = med["a"]
    rounds = len(samples["a"])
    print(f"Auth overhead per request, RS256, {rounds} rounds, {took:.1f} s; warm-up JWKS fetches: {fetches}")
    print(
        f"(c), (c') and (d1) call the ASGI app in-process; the trivial inner app alone ({inner_us:.2f} us) "
        "was measured in the same rounds and subtracted."
    )
    print(f"{'':5} {'what':<45} {'us/req':>9} {'x (a)':>7}")
    for name in ("a", "b", "c", "c'", "d1", "d2"):
        if name in med:
            print(f"{f'({name})':<5} {LABELS[name]:<45} {med[name]:9.2f} {med[name] / a:7.3f}")
        else:
            print(f"{f'({name})':<5} {LABELS[name]:<45} {'skipped':>9}  {skipped.get(name, '')}")
    peers = [med[n] for n in ("d1", "d2") if n in med]
    cheapest = min(peers) if peers else float("inf")
    targets = [
        ("(c) <= 0.1 x (a)", med["c"] <= 0.1 * a),
        ("(b) <= 1.1 x (a)", med["b"] <= 1.1 * a),
        ("(b) and (c) below every peer", bool(peers) and max(med["b"], med["c"]) < cheapest),
    ]
    for text, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    samples, skipped, fetches = anyio.run(run, args.rounds, args.per_round)
    report(samples, skipped, fetches, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())

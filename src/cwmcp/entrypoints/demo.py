"""``cwmcp demo``: the whole thing on this machine, no AWS account: an OIDC issuer, moto as AWS
(seeded, IAM enforced) and the server with auth on in ``assume-role`` mode.

``running_demo()`` brings it all up and is what the end-to-end tests use too, so the demo and the
tests share one setup. Everything binds 127.0.0.1. The server's own AWS credentials (an IAM user
in moto) and ``AWS_ENDPOINT_URL`` are put in this process's environment while the demo runs, and
put back afterwards.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from cwmcp.entrypoints.background import serve_in_thread
from cwmcp.entrypoints.demo_seed import DemoAws, demo_settings, enforce_iam, seed, write_role_rules
from cwmcp.entrypoints.http_app import build_http_app
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings

log = logging.getLogger("cwmcp.demo")
NEEDS_EXTRA = "cwmcp demo needs the demo extra: pip install 'cwmcp[demo]'"
TOKEN_HOURS = 12
INSPECTOR = "npx @modelcontextprotocol/inspector"


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    email: str
    group: str
    may: str

    @property
    def env_name(self) -> str:
        return f"{self.name.upper()}_TOKEN"


USERS = (
    DemoUser("alice", "alice@example.com", "sre", "logs, Logs Insights, metrics and alarms"),
    DemoUser("bob", "bob@example.com", "dev", "logs and Logs Insights; metrics and alarms are AccessDenied"),
)


@dataclass(frozen=True, slots=True)
class DemoRun:
    """A running demo. ``tokens`` maps user name -> bearer token; ``issuer`` can mint more."""

    url: str
    base_url: str
    issuer: LocalIssuer
    aws: DemoAws
    settings: Settings
    tokens: dict[str, str]


_ENV_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


@contextmanager
def _aws_environment(moto_url: str, key_id: str, secret: str) -> Iterator[None]:
    """botocore's default chain and endpoint point at moto only: no profile, file or metadata."""
    names = [*_ENV_KEYS, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]
    saved = {k: os.environ.get(k) for k in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's real server on an OS-chosen loopback port (the demo's AWS; tests use it too)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def running_demo(port: int = 0) -> Iterator[DemoRun]:
    """Issuer, seeded moto with IAM enforced, and the protected server, all on 127.0.0.1."""
    from cwmcp.entrypoints.demo_moto import fill_moto_gaps

    fill_moto_gaps()
    with ExitStack() as stack:
        moto_url = stack.enter_context(moto_server())
        aws = seed(moto_url)
        enforce_iam(moto_url)
        stack.callback(enforce_iam, moto_url, on=False)  # process-wide: leave moto as found
        log.info("moto at %s: account %s seeded, IAM enforcement on", moto_url, aws.account)
        stack.enter_context(
            _aws_environment(moto_url, aws.server_key.access_key_id, aws.server_key.secret_access_key)
        )
        rules = write_role_rules(Path(stack.enter_context(tempfile.TemporaryDirectory("-cwmcp-demo"))), aws)
        issuer = LocalIssuer(audience="cwmcp")
        stack.enter_context(issuer.serve("127.0.0.1", 0))
        settings = demo_settings(issuer.issuer, rules)
        base = stack.enter_context(serve_in_thread(build_http_app(settings, "127.0.0.1"), "127.0.0.1", port))
        tokens = {
            u.name: issuer.mint(u.name, email=u.email, groups=[u.group], exp_in=TOKEN_HOURS * 3600)
            for u in USERS
        }
        yield DemoRun(base + settings.mcp_path, base, issuer, aws, settings, tokens)


def _initialize_body() -> str:
    from mcp_types.version import LATEST_HANDSHAKE_VERSION

    return (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'
        + LATEST_HANDSHAKE_VERSION
        + '","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
    )


def banner(run: DemoRun) -> str:
    """What the demo prints: the URL, a token per user, and command lines that work as printed
    once the ``export`` lines are pasted into a POSIX shell."""
    aws = run.aws
    lines = [
        "cwmcp demo: an OIDC issuer, moto as AWS and cwmcp with auth on, all on 127.0.0.1. Ctrl-C stops all.",
        "",
        f"  MCP URL:  {run.url}",
        f"  issuer:   {run.issuer.issuer}  (audience {run.settings.audiences[0]})",
        f"  AWS:      moto at {aws.moto_url} (IAM enforced; server assumes roles as an IAM user)",
        "",
        f"Users (bearer tokens valid {TOKEN_HOURS} hours):",
    ]
    for user in USERS:
        role = aws.sre_role_arn if user.group == "sre" else aws.dev_role_arn
        lines.append(f"  {user.email:<18} group {user.group}: {user.may}")
        lines.append(f"  {'':<18} role {role}, account alias 'demo'")
    lines += ["", "Paste into a shell:", f"  export CWMCP_URL={shlex.quote(run.url)}"]
    lines += [f"  export {u.env_name}={shlex.quote(run.tokens[u.name])}" for u in USERS]
    auth = '"Authorization: Bearer $ALICE_TOKEN"'
    lines += [
        "",
        "Then try:",
        f"  curl -s {run.base_url}/health",
        '  curl -s -X POST "$CWMCP_URL" -H ' + auth + " -H 'Content-Type: application/json' \\",
        "    -H 'Accept: application/json, text/event-stream' \\",
        f"    -d {shlex.quote(_initialize_body())}",
        f'  {INSPECTOR} --cli "$CWMCP_URL" --transport http --method tools/list --header {auth}',
        f'  {INSPECTOR} --cli "$CWMCP_URL" --transport http --method tools/call --tool-name whoami'
        f" --header {auth}",
        f'  {INSPECTOR} --cli "$CWMCP_URL" --transport http --method tools/call --tool-name get_active_alarms'
        ' --header "Authorization: Bearer $BOB_TOKEN"     # bob: AccessDenied',
        "",
        f"Any MCP client: streamable HTTP at {run.url} with header 'Authorization: Bearer <token>'.",
        "",
    ]
    return "\n".join(lines)


def _wait_for_signal() -> int:
    """Block until SIGINT or SIGTERM; the previous handlers come back afterwards."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        stop.wait()
        return 0
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    log.info("signal %s: stopping", signal.Signals(received[0]).name if received else "?")
    return 0


def run_demo(port: int = 0) -> int:
    """``cwmcp demo [--port P]``: run until Ctrl-C or SIGTERM; 2 when moto is not installed."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        print(NEEDS_EXTRA, file=sys.stderr, flush=True)
        return 2
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    try:
        with running_demo(port) as run:
            print(banner(run), flush=True)
            status = _wait_for_signal()
    except RuntimeError as exc:  # e.g. the port is taken: uvicorn could not start
        print(f"cwmcp demo could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    log.info("cwmcp demo stopped")
    return status

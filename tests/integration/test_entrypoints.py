"""The ways in: ``cwmcp stdio``, ``protect()`` around the SDK's and FastMCP's apps, ``cwmcp demo`` as a
process (its printed command lines run as printed), and the MCP Inspector CLI from npm."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import botocore.session
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.mcpserver import MCPServer

import cwmcp
from cwmcp.entrypoints.background import serve_in_thread
from cwmcp.entrypoints.demo import banner, run_demo, running_demo
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings, load_settings
from tests.support.mcp_http import mcp_session, structured, text

INSPECTOR_VERSION = "^2.12.0"  # flags checked against 2.12: --cli URL --transport http --method --header
INSPECTOR_CACHE = Path.home() / ".cache" / "cwmcp-tests" / "inspector"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer(audience="cwmcp")
    with local.serve():
        yield local


@pytest.fixture(scope="module")
def settings(issuer: LocalIssuer) -> Settings:
    return load_settings(
        {"OAUTH_ISSUER": issuer.issuer, "OAUTH_AUDIENCE": "cwmcp", "AWS_CREDENTIALS_MODE": "ambient"}
    )


def _subject() -> str:
    who = cwmcp.current_identity()
    return who.subject if who is not None else "nobody"


@pytest.mark.anyio
@pytest.mark.slow
async def test_stdio_lists_tools_and_describes_log_groups(moto_url: str) -> None:
    logs = botocore.session.get_session().create_client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/cwmcp-stdio/app")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cwmcp", "stdio"],
        env={
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        },
    )
    with anyio.fail_after(30):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            found = structured(
                await session.call_tool("describe_log_groups", {"log_group_name_prefix": "/cwmcp-stdio/"})
            )
    assert {"describe_log_groups", "whoami", "get_active_alarms"} <= names and len(names) == 9
    assert [g["name"] for g in found["log_groups"]] == ["/cwmcp-stdio/app"]


@pytest.mark.anyio
async def test_protect_around_the_sdk_server(issuer: LocalIssuer, settings: Settings) -> None:
    server = MCPServer("probe")
    server.add_tool(_subject, name="subject")
    app = cwmcp.protect(server.streamable_http_app(host="127.0.0.1"), settings)
    with serve_in_thread(app) as base:
        async with httpx2.AsyncClient(trust_env=False) as http:
            refused = await http.post(f"{base}/mcp", json={})
        async with mcp_session(f"{base}/mcp", issuer.mint("sdk-user")) as client:
            answer = await client.session.call_tool("subject", {})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer resource_metadata="')
    assert not answer.is_error and text(answer) == "sdk-user"


@pytest.mark.anyio
async def test_protect_around_a_fastmcp_app(issuer: LocalIssuer, settings: Settings) -> None:
    from fastmcp import FastMCP

    server = FastMCP("fastmcp-probe")
    server.tool(_subject, name="subject")
    app = cwmcp.protect(server.http_app(), settings)
    with serve_in_thread(app) as base:
        async with mcp_session(f"{base}/mcp", issuer.mint("fastmcp-user")) as client:
            answer = await client.session.call_tool("subject", {})
        async with httpx2.AsyncClient(trust_env=False) as http:
            refused = await http.post(f"{base}/mcp", json={}, headers={"authorization": "Bearer nope"})
    assert not answer.is_error and text(answer) == "fastmcp-user"
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_demo_without_moto_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)  # as if moto were not installed
    assert run_demo() == 2
    assert capsys.readouterr().err.strip() == "cwmcp demo needs the demo extra: pip install 'cwmcp[demo]'"


def _read_banner(proc: subprocess.Popen[str], timeout: float) -> list[str]:
    """stdout lines up to the banner's last line, read in a thread so a silent child cannot hang us."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            raise AssertionError(f"cwmcp demo exited early: {got}")
        got.append(line)
        if line.startswith("Any MCP client"):
            return got


def _exports(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if line.strip().startswith("export "):
            name, _, value = line.strip().removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


def _commands(lines: list[str], starts: str) -> list[str]:
    """The printed command lines starting with ``starts``, continuation lines joined."""
    block = [line.strip() for line in lines[lines.index("Then try:") + 1 :]]
    commands: list[str] = []
    joining = False
    for line in block:
        if joining:
            commands[-1] += "\n" + line
        elif line.startswith(starts):
            commands.append(line)
        joining = line.endswith("\\") and bool(commands)
    return commands


def _shell(
    lines: list[str], command: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    exports = "\n".join(line.strip() for line in lines if line.strip().startswith("export "))
    return subprocess.run(
        ["bash", "-c", f"{exports}\n{command}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **env},
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_process_serves_its_printed_lines_and_stops_on_a_signal(tmp_path: Path, stop: int) -> None:
    with (tmp_path / "demo.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cwmcp", "demo"], stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            lines = _read_banner(proc, timeout=60)
            found = _exports(lines)

            async def whoami() -> list[dict[str, Any]]:
                answers = []
                for user in ("ALICE", "BOB"):
                    async with mcp_session(found["CWMCP_URL"], found[f"{user}_TOKEN"]) as client:
                        answers.append(structured(await client.session.call_tool("whoami", {})))
                return answers

            alice, bob = anyio.run(whoami)
            curls = _commands(lines, "curl ")
            shown = [_shell(lines, c) for c in curls] if shutil.which("curl") else []
            started = time.monotonic()
            proc.send_signal(stop)
            status = proc.wait(timeout=15)
            took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert (alice["subject"], alice["email"]) == ("alice", "alice@example.com")
    assert alice["aws"]["arn"].endswith(":assumed-role/cwmcp-demo-sre/alice@example.com")
    assert bob["aws"]["arn"].endswith(":assumed-role/cwmcp-demo-dev/bob@example.com")
    assert found["CWMCP_URL"].startswith("http://127.0.0.1:") and found["CWMCP_URL"].endswith("/mcp")
    listening = re.findall(r"https?://[^\s'\"/]+", "\n".join(lines))  # server, issuer, moto
    assert len(set(listening)) == 3 and all(u.startswith("http://127.0.0.1:") for u in listening), listening
    assert len(curls) == 2
    for result in shown:
        assert result.returncode == 0, result.stderr
    if shown:
        assert json.loads(shown[0].stdout) == {"status": "ok"}
        assert '"serverInfo":{"name":"cwmcp"' in shown[1].stdout
    assert status == 0 and took < 5, (status, took)


def _inspector() -> Path:
    """The Inspector installed once into a cache dir (``npm install --prefix``); skip without npm."""
    if shutil.which("npm") is None or shutil.which("npx") is None:
        pytest.skip("npm is not installed: cannot run the MCP Inspector CLI")
    if not (
        INSPECTOR_CACHE / "node_modules" / "@modelcontextprotocol" / "inspector" / "package.json"
    ).exists():
        INSPECTOR_CACHE.mkdir(parents=True, exist_ok=True)
        package = f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"
        cmd = ["npm", "install", "--prefix", str(INSPECTOR_CACHE), "--no-audit", "--no-fund", package]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install of the MCP Inspector timed out (no network?)")
        if done.returncode != 0:
            pytest.skip(f"npm install of the MCP Inspector failed (no network?): {done.stderr[-300:]}")
    return INSPECTOR_CACHE


@pytest.mark.slow
def test_inspector_cli_runs_the_demo_lines_as_printed(tmp_path: Path) -> None:
    cache = _inspector()
    with running_demo() as run:
        lines = banner(run).splitlines()
        commands = _commands(lines, "npx @modelcontextprotocol/inspector --cli")
        env = {"MCP_CATALOG_PATH": str(tmp_path / "catalog.json")}
        listed, alice, bob = (_shell(lines, c, cwd=cache, **env) for c in commands)
    assert listed.returncode == 0, listed.stderr
    tools = {t["name"] for t in json.loads(listed.stdout)["tools"]}
    assert "whoami" in tools and "get_active_alarms" in tools and len(tools) == 9
    assert alice.returncode == 0, alice.stderr
    me = json.loads(alice.stdout)["structuredContent"]
    assert me["subject"] == "alice" and me["aws"]["arn"].endswith("cwmcp-demo-sre/alice@example.com")
    assert bob.returncode != 0 and "AccessDenied" in bob.stdout and "cwmcp-demo-dev" in bob.stdout

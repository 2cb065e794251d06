"""The deployment contract against what we ship: ``cwmcp serve``'s app (in a thread, auth on, ambient
mode against moto), the ``cwmcp contract`` command in a process that cannot import pytest, and a
``cwmcp demo`` process."""

from __future__ import annotations

import io
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwmcp.contract.deployment import CHECKS
from cwmcp.entrypoints.deployment_check import run_contract
from tests.contract.conftest import Served, contract

NO_PYTEST = "import sys; sys.modules['pytest'] = sys.modules['_pytest'] = None; "


def statuses(report: str) -> dict[str, str]:
    """``{check name: PASS/FAIL/SKIP}`` from a report."""
    names = {c.name for c in CHECKS}
    found = {}
    for line in report.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("PASS", "FAIL", "SKIP") and words[1] in names:
            found[words[1]] = words[0]
    return found


def test_our_server_passes_every_check(served: Served) -> None:
    status, report = contract(served)
    assert status == 0, report
    assert statuses(report) == {c.name: "PASS" for c in CHECKS}
    assert f"PASSED: {len(CHECKS)} passed, 0 failed, 0 skipped" in report
    assert served.token not in report and served.expired_token not in report


def test_without_tokens_the_token_checks_are_skipped_not_failed(served: Served) -> None:
    out = io.StringIO()
    assert run_contract(served.url, None, None, None, out=out) == 0
    found = statuses(out.getvalue())
    assert found["no-token"] == found["health"] == "PASS"
    assert found["whoami"] == found["expired-token"] == "SKIP"
    assert "pass --token or --token-cmd" in out.getvalue()


def test_the_command_runs_without_pytest_and_takes_a_token_command(served: Served, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(served.token + "\n")
    args = [
        "contract",
        "--url",
        served.url,
        "--token-cmd",
        f"cat {shlex.quote(str(token_file))}",
        "--wrong-audience-token",
        served.wrong_audience_token,
    ]
    code = NO_PYTEST + f"from cwmcp.entrypoints.cli import main; raise SystemExit(main({args!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = statuses(done.stdout)
    assert found["whoami"] == found["wrong-audience-token"] == "PASS"
    assert found["expired-token"] == "SKIP"
    assert "pytest" not in done.stderr
    for token in (served.token, served.wrong_audience_token):  # not in the report, nor in any log line
        assert token not in done.stdout and token not in done.stderr


def test_bad_inputs_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_contract("ftp://host/mcp", None, None, None) == 2
    assert "is not an absolute http(s) URL" in capsys.readouterr().err
    assert (
        run_contract("http://127.0.0.1:9/mcp", None, f"{sys.executable} -c 'raise SystemExit(3)'", None) == 2
    )
    assert "--token-cmd exited with status 3" in capsys.readouterr().err


def test_an_unreachable_url_fails_every_check_saying_so() -> None:
    out = io.StringIO()
    assert run_contract("http://127.0.0.1:9/mcp", "a.b.c", None, None, timeout=2, out=out) == 1
    report = out.getvalue()
    assert "cannot reach http://127.0.0.1:9/mcp" in report
    assert "PASS" not in report.replace("PASSED", "")


# --- cwmcp demo --------------------------------------------------------------------------------


def read_banner(proc: subprocess.Popen[str], found: dict[str, str]) -> None:
    """Read the demo's banner until the URL and alice's token are in ``found`` (or the output ends)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("MCP URL:"):
            found["url"] = line.split()[-1]
        words = shlex.split(line) if line.strip().startswith("export ") else []
        if len(words) == 2 and words[1].startswith("ALICE_TOKEN="):
            found["token"] = words[1].partition("=")[2]
        if len(found) == 2:
            return


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, str]]:
    """A ``cwmcp demo`` process; yields its MCP URL and alice's token from the banner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cwmcp", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    found: dict[str, str] = {}
    reader = threading.Thread(target=read_banner, args=(proc, found), daemon=True)
    reader.start()
    try:
        reader.join(timeout=120)
        assert len(found) == 2, f"the demo printed no URL and token (exit status {proc.poll()})"
        yield found["url"], found["token"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_demo_passes_the_deployment_contract(demo: tuple[str, str]) -> None:
    url, token = demo
    out = io.StringIO()
    status = run_contract(url, token, None, None, out=out)
    report = out.getvalue()
    assert status == 0, report
    found = statuses(report)
    assert {name for name, s in found.items() if s == "SKIP"} == {"expired-token", "wrong-audience-token"}
    assert found["whoami"] == found["tools-list"] == "PASS"

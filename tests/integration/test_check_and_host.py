"""`cwmcp check` against a real issuer and moto; the SDK's Host check set from the real host."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from cwmcp.entrypoints.check import findings
from cwmcp.entrypoints.cli import main
from cwmcp.entrypoints.http_app import transport_security
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings, load_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def issuer_url() -> Iterator[str]:
    issuer = LocalIssuer()
    with issuer.serve() as url:
        yield url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_passes_with_a_reachable_issuer_and_sts(
    issuer_url: str, moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "OAUTH_ISSUER": issuer_url,
        "OAUTH_AUDIENCE": "cwmcp",
        "AWS_CREDENTIALS_MODE": "ambient",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert f"ok       issuer {issuer_url}: 1 signing key(s)" in out
    assert "ok       STS as arn:aws:" in out


async def test_check_names_each_problem_with_a_fix(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{_closed_port()}")
    settings = load_settings(
        {
            "OAUTH_ISSUER": f"http://127.0.0.1:{_closed_port()}",
            "OAUTH_AUDIENCE": "cwmcp",
            "AWS_CREDENTIALS_MODE": "ambient",
            "OAUTH_HTTP_TIMEOUT_SECONDS": "0.5",
        }
    )
    found = await findings(settings)
    problems = [f for f in found if not f.ok]
    assert [p.what.split(":")[0] for p in problems] == ["issuer keys could not be fetched", "STS unreachable"]
    assert all(p.fix for p in problems)


def test_bad_configuration_exits_2_with_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OAUTH_ALGORITHMS", "HS256")
    monkeypatch.delenv("OAUTH_ISSUER", raising=False)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "OAUTH_ISSUER is not set" in err and "HS256" in err


def test_host_check_follows_the_real_host() -> None:
    loopback = transport_security(Settings(issuer="https://i", audiences=("a",)), "127.0.0.1")
    assert loopback.enable_dns_rebinding_protection and "localhost:*" in loopback.allowed_hosts
    named = transport_security(
        Settings(issuer="https://i", audiences=("a",), resource_url="https://cw.example.com/mcp"),
        "0.0.0.0",
    )
    assert "cw.example.com" in named.allowed_hosts and "https://cw.example.com" in named.allowed_origins
    anywhere = transport_security(Settings(issuer="https://i", audiences=("a",)), "0.0.0.0")
    assert not anywhere.enable_dns_rebinding_protection  # every request needs a bearer token instead
    assert transport_security(Settings(enable_auth=False), "0.0.0.0").enable_dns_rebinding_protection

"""Servers for the deployment contract (``cwmcp serve``'s app on 127.0.0.1, auth on, ambient mode
against moto) and a runner for the packaged suite in a fresh pytest process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cwmcp.entrypoints.background import serve_in_thread
from cwmcp.entrypoints.deployment_check import run_contract
from cwmcp.entrypoints.http_app import build_http_app
from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Served:
    """A running server and tokens from its issuer."""

    url: str
    token: str
    expired_token: str
    wrong_audience_token: str


@pytest.fixture(scope="session")
def contract_issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer(audience="cwmcp")
    with issuer.serve():
        yield issuer


def serve(settings: Settings, issuer: LocalIssuer) -> Iterator[Served]:
    with serve_in_thread(build_http_app(settings, "127.0.0.1")) as base:
        yield Served(
            url=base + settings.mcp_path,
            token=issuer.mint("alice", email="alice@example.com"),
            expired_token=issuer.mint("alice", exp_in=-3600),
            wrong_audience_token=issuer.mint("alice", aud="someone-else"),
        )


@pytest.fixture(scope="session")
def served(moto_url: str, contract_issuer: LocalIssuer) -> Iterator[Served]:
    """What ``cwmcp serve`` runs, configured right: auth on, audience checked, ambient credentials."""
    settings = Settings(issuer=contract_issuer.issuer, audiences=("cwmcp",), credentials_mode="ambient")
    yield from serve(settings, contract_issuer)


class PackagedSuite:
    """Runs ``pytest -p cwmcp.contract.plugin --pyargs cwmcp.contract ARGS`` in a new process with an
    empty ini (none of this repository's settings), as an integrator would. Our ``tests`` package is
    importable there, so kits in ``tests.contract.our_kits`` can be named."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.ini = pytester.makeini("[pytest]\n")

    def __call__(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest_subprocess(
            "-c",
            str(self.ini),
            "--rootdir",
            str(self.pytester.path),
            "-p",
            "cwmcp.contract.plugin",
            "--pyargs",
            "cwmcp.contract",
            "-rsf",
            *args,
            timeout=300,
        )


@pytest.fixture
def packaged_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> PackagedSuite:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return PackagedSuite(pytester)


def contract(served: Served) -> tuple[int, str]:
    """Run the deployment contract against a served app; (exit status, report)."""
    out = io.StringIO()
    status = run_contract(
        served.url,
        served.token,
        None,
        served.expired_token,
        wrong_audience_token=served.wrong_audience_token,
        out=out,
    )
    return status, out.getvalue()

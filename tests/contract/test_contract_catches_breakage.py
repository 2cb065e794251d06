"""The contracts must catch what they exist for, with a message that says what is wrong:

- a broken adapter (a verifier that accepts any audience; a broker whose repr shows the secret),
  run through the packaged suite with ``--verifier`` / ``--broker`` in a fresh pytest process;
- a misconfigured server (our wrapper with a policy that skips the audience check; a server that
  answers without a token), run through ``cwmcp contract``'s ``run_contract``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cwmcp.entrypoints.issuer import LocalIssuer
from cwmcp.entrypoints.settings import Settings
from tests.contract.conftest import PackagedSuite, Served, contract, serve

pytest_plugins = ["pytester"]

BROKEN_KITS = '''
from dataclasses import dataclass

from cwmcp.contract.kits import BrokerKit
from cwmcp.domain.credentials import AwsCredentials
from cwmcp.domain.identity import Identity
from tests.contract.our_kits import jwt_verifier_kit, local_issuer


def any_audience():
    """JwtVerifier with an empty audience list: it checks everything but 'aud'."""
    return jwt_verifier_kit(local_issuer(), audiences=())


@dataclass
class StaticKeysBroker:
    """The same static keys for everyone; the dataclass repr shows the secret."""

    access_key_id: str
    secret_access_key: str

    async def credentials(self, identity, role):
        return AwsCredentials(self.access_key_id, self.secret_access_key)


def leaky_broker():
    broker = StaticKeysBroker("AKIASTATICKEY", "static-secret-value-123")
    return BrokerKit(broker, Identity(subject="alice", issuer="https://issuer.test"), None)
'''


@pytest.fixture
def broken(packaged_suite: PackagedSuite) -> PackagedSuite:
    packaged_suite.pytester.makepyfile(broken_kits=BROKEN_KITS)
    return packaged_suite


def failed_tests(result: pytest.RunResult) -> set[str]:
    return {line.split("::")[-1].split(" ")[0] for line in result.outlines if line.startswith("FAILED ")}


def test_a_verifier_that_accepts_any_audience_is_caught(broken: PackagedSuite) -> None:
    result = broken("--verifier=broken_kits:any_audience", "-k", "TestTokenVerifier")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert failed_tests(result) == {"test_wrong_audience_is_refused"}
    result.stdout.fnmatch_lines(
        ["*the verifier accepted a token minted for another audience; it must refuse it (is 'aud'*checked?)*"]
    )


def test_a_broker_whose_repr_shows_the_secret_is_caught(broken: PackagedSuite) -> None:
    result = broken("--broker=broken_kits:leaky_broker", "-k", "TestCredentialBroker")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert failed_tests(result) == {"test_secret_stays_out_of_repr_and_str"}
    # the failing line and pytest's explanation: the secret, found in the broker's repr
    result.stdout.fnmatch_lines(["*secret not in repr(broker)*", "E *static-secret-value-123*"])


# --- misconfigured servers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_audience_check(moto_url: str, contract_issuer: LocalIssuer) -> Iterator[Served]:
    """Our wrapper, but its verifier's policy has ``audiences=()``: any token of the issuer passes."""
    settings = Settings(issuer=contract_issuer.issuer, audiences=(), credentials_mode="ambient")
    yield from serve(settings, contract_issuer)


@pytest.fixture(scope="module")
def no_auth(moto_url: str, contract_issuer: LocalIssuer) -> Iterator[Served]:
    """``ENABLE_AUTH=false`` exposed: every request gets through with the server's own credentials."""
    yield from serve(Settings(enable_auth=False, credentials_mode="ambient"), contract_issuer)


def report_line(report: str, check: str) -> str:
    return next(line for line in report.splitlines() if line.split()[1:2] == [check])


def test_a_server_that_skips_the_audience_check_is_caught(no_audience_check: Served) -> None:
    status, report = contract(no_audience_check)
    assert status == 1
    line = report_line(report, "wrong-audience-token")
    assert line.split()[0] == "FAIL"
    assert "a token minted for another audience was accepted" in line
    assert "does not check the audience" in line
    assert [ln.split()[1] for ln in report.splitlines() if ln.startswith("  FAIL")] == [
        "wrong-audience-token"
    ]
    assert served_tokens_absent(report, no_audience_check)


def test_a_server_that_answers_without_a_token_is_caught(no_auth: Served) -> None:
    status, report = contract(no_auth)
    assert status == 1
    line = report_line(report, "no-token")
    assert line.split()[0] == "FAIL"
    assert "does not require a token" in line
    failed = {ln.split()[1] for ln in report.splitlines() if ln.startswith("  FAIL")}
    assert {"no-token", "garbage-token", "wrong-scheme", "expired-token", "tampered-signature"} <= failed
    assert served_tokens_absent(report, no_auth)


def served_tokens_absent(report: str, served: Served) -> bool:
    return all(t not in report for t in (served.token, served.expired_token, served.wrong_audience_token))

"""The command-line route, in fresh pytest processes: ``pytest --pyargs cwmcp.contract`` with our own
adapters' kits named by ``--verifier`` / ``--broker`` / ``--session-factory``, with our running server
named by ``--deployment-url``, without any option (all skipped, saying why) and with bad specs."""

from __future__ import annotations

import pytest

from cwmcp.contract.deployment import CHECKS
from tests.contract.conftest import PackagedSuite, Served

pytest_plugins = ["pytester"]
KITS = "tests.contract.our_kits"


def test_our_adapters_pass_through_the_options(packaged_suite: PackagedSuite) -> None:
    result = packaged_suite(
        f"--verifier={KITS}:verifier",
        f"--broker={KITS}:broker",
        f"--session-factory={KITS}:session_factory",
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    assert outcomes.get("passed", 0) >= 40
    assert outcomes.get("skipped", 0) == len(CHECKS)  # only the deployment: no --deployment-url
    result.stdout.fnmatch_lines(["*--deployment-url not given*"])


def test_our_server_passes_the_deployment_contract_under_pytest(
    packaged_suite: PackagedSuite, served: Served
) -> None:
    result = packaged_suite(
        f"--deployment-url={served.url}",
        f"--deployment-token={served.token}",
        f"--deployment-expired-token={served.expired_token}",
        f"--deployment-wrong-audience-token={served.wrong_audience_token}",
        "-k",
        "test_deployment",
        "--log-level=INFO",
        "-rP",  # passed tests' captured logs too: no request line may show the token
    )
    assert result.ret == 0, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == len(CHECKS)
    assert "failed" not in outcomes and "skipped" not in outcomes
    assert served.token not in result.stdout.str() + result.stderr.str()


def test_without_options_everything_is_skipped_with_the_option_to_pass(packaged_suite: PackagedSuite) -> None:
    result = packaged_suite()
    assert result.ret == 0
    assert set(result.parseoutcomes()) == {"skipped"}
    result.stdout.fnmatch_lines_random(
        [
            "*--verifier not given: pass --verifier=MODULE:FUNCTION (a VerifierKit factory)*",
            "*--broker not given*",
            "*--session-factory not given*",
            "*--deployment-url not given*",
        ]
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_anywhere:make", "*--verifier: cannot import 'no_such_module_anywhere'*"),
        (f"{KITS}:no_such_factory", f"*--verifier: module '{KITS}' has no attribute 'no_such_factory'*"),
        ("missing-colon", "*--verifier: 'missing-colon' is not of the form 'module:function'*"),
    ],
)
def test_a_bad_factory_spec_stops_the_run_with_one_message(
    packaged_suite: PackagedSuite, spec: str, message: str
) -> None:
    result = packaged_suite(f"--verifier={spec}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_factory_returning_no_kit_fails_saying_what_to_return(packaged_suite: PackagedSuite) -> None:
    packaged_suite.pytester.makepyfile(not_a_kit="def make():\n    return 42\n")
    result = packaged_suite("--verifier=not_a_kit:make", "-k", "TestTokenVerifier")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*not_a_kit:make returned int, which lacks verifier*cwmcp.contract.kits.VerifierKit*"]
    )

"""The pytest plugin of the contract suite: options naming the integrator's kits and deployment, and
the fixtures the suites ask for.

Loaded by the ``pytest11`` entry point of an installed cwmcp (or ``-p cwmcp.contract.plugin``, or
``pytest_plugins``; the entry point has the module's own name, so any mix registers it once)::

    pytest --pyargs cwmcp.contract --verifier=mypkg.auth:make_kit
    pytest --pyargs cwmcp.contract --deployment-url=https://host/mcp --deployment-token=...

A suite whose option is not given is skipped, saying which option it needs. The factory specs are
imported at start, so a typo fails the run at once with one clear message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from cwmcp.contract.kits import BrokerKit, KitError, SessionFactoryKit, VerifierKit, load_factory, open_kit

# The contracts say what broke through their asserts: have pytest rewrite them, as it does test modules
# (kits, imported above, holds none of them).
pytest.register_assert_rewrite(
    "cwmcp.contract.token_verifier", "cwmcp.contract.credential_broker", "cwmcp.contract.session_factory"
)

KITS: dict[str, tuple[type[Any], str]] = {
    "verifier": (VerifierKit, "a TokenVerifier"),
    "broker": (BrokerKit, "a CredentialBroker"),
    "session_factory": (SessionFactoryKit, "a SessionFactory"),
}
_FACTORIES = pytest.StashKey[dict[str, tuple[str, Callable[[], Any]]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cwmcp-contract", "cwmcp contract suite (pytest --pyargs cwmcp.contract)")
    for dest, (kind, port) in KITS.items():
        group.addoption(
            "--" + dest.replace("_", "-"),
            dest=f"cwmcp_{dest}",
            metavar="MODULE:FUNCTION",
            help=f"a factory returning a {kind.__name__}: checks {port} against its contract",
        )
    group.addoption(
        "--deployment-url", dest="cwmcp_url", metavar="URL", help="a running deployment's MCP URL"
    )
    group.addoption("--deployment-token", dest="cwmcp_token", metavar="TOKEN", help="a valid bearer token")
    group.addoption(
        "--deployment-token-cmd",
        dest="cwmcp_token_cmd",
        metavar="CMD",
        help="a command printing a valid token",
    )
    group.addoption(
        "--deployment-expired-token", dest="cwmcp_expired", metavar="TOKEN", help="an expired token"
    )
    group.addoption(
        "--deployment-wrong-audience-token",
        dest="cwmcp_wrong_audience",
        metavar="TOKEN",
        help="a token of the same issuer minted for another audience",
    )


def pytest_configure(config: pytest.Config) -> None:
    factories: dict[str, tuple[str, Callable[[], Any]]] = {}
    for dest in KITS:
        spec = config.getoption(f"cwmcp_{dest}", None)
        if spec:
            try:
                factories[dest] = (spec, load_factory(spec))
            except KitError as exc:
                raise pytest.UsageError(f"--{dest.replace('_', '-')}: {exc}") from None
    config.stash[_FACTORIES] = factories
    wants_async = factories or config.getoption("cwmcp_url", None)
    anyio_loaded = any(
        getattr(p, "__name__", "") == "anyio.pytest_plugin" for p in config.pluginmanager.get_plugins()
    )
    if wants_async and not anyio_loaded:
        raise pytest.UsageError("the cwmcp contract needs anyio's pytest plugin: add '-p anyio'")


NOT_GIVEN = "not given: pass "


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report "option not given" skips at one place, so ``-rs`` shows one line per suite, not per test."""
    report: pytest.TestReport = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and NOT_GIVEN in str(longrepr[2]):
        report.longrepr = (__file__, 0, longrepr[2])
    return report


def _kit(request: pytest.FixtureRequest, dest: str) -> Iterator[Any]:
    kind, port = KITS[dest]
    found = request.config.stash.get(_FACTORIES, {}).get(dest)
    if found is None:
        option = "--" + dest.replace("_", "-")
        pytest.skip(
            f"{option} {NOT_GIVEN}{option}=MODULE:FUNCTION (a {kind.__name__} factory) to check {port}"
        )
    spec, factory = found
    try:
        with open_kit(factory, kind, spec) as kit:
            yield kit
    except KitError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def verifier_kit(request: pytest.FixtureRequest) -> Iterator[VerifierKit]:
    """The integrator's kit from ``--verifier``; skips the suite when the option is absent."""
    yield from _kit(request, "verifier")


@pytest.fixture
def broker_kit(request: pytest.FixtureRequest) -> Iterator[BrokerKit]:
    """The integrator's kit from ``--broker``; skips the suite when the option is absent."""
    yield from _kit(request, "broker")


@pytest.fixture
def session_factory_kit(request: pytest.FixtureRequest) -> Iterator[SessionFactoryKit]:
    """The integrator's kit from ``--session-factory``; skips the suite when the option is absent."""
    yield from _kit(request, "session_factory")


@pytest.fixture(scope="session")
def deployment_target(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The deployment from ``--deployment-url`` and the token options; skips when no URL is given."""
    from cwmcp.contract.deployment_http import CheckFailed, Target, token_from_command

    url = pytestconfig.getoption("cwmcp_url", None)
    if not url:
        pytest.skip(f"--deployment-url {NOT_GIVEN}--deployment-url=https://host/mcp to check a deployment")
    token = pytestconfig.getoption("cwmcp_token", None)
    command = pytestconfig.getoption("cwmcp_token_cmd", None)
    if command and not token:
        try:
            token = token_from_command(command)
        except CheckFailed as exc:
            pytest.fail(str(exc), pytrace=False)
    target = Target(
        url,
        token,
        pytestconfig.getoption("cwmcp_expired", None),
        pytestconfig.getoption("cwmcp_wrong_audience", None),
    )
    problems = target.problems()
    if problems:
        raise pytest.UsageError("; ".join(problems))
    # httpx2 logs each request URL at INFO, and the query-token check puts the token in one
    logger = logging.getLogger("httpx2")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    yield target
    logger.setLevel(level)

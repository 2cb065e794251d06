"""The port contracts against the integrator's adapters, named by the plugin's options::

    pytest --pyargs cwmcp.contract --verifier=mypkg.auth:make_kit --broker=mypkg.creds:make_kit

Each class is skipped when its option is absent. See docs/contract.md for writing a kit.
"""

from __future__ import annotations

import pytest

from cwmcp.contract.suites import CredentialBrokerSuite, SessionFactorySuite, TokenVerifierSuite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TestTokenVerifier(TokenVerifierSuite):
    """``--verifier``: refuses what it must, says why, survives concurrency and cancellation."""


class TestCredentialBroker(CredentialBrokerSuite):
    """``--broker``: usable credentials, secrets out of every repr, concurrency- and cancel-safe."""


class TestSessionFactory(SessionFactorySuite):
    """``--session-factory``: cached clients, calls off the event loop, domain errors only."""

"""Our adapters through the kit path integrators use: the suites of ``cwmcp.contract.suites`` with
the kit fixtures overridden by kits of ours (``our_kits``); the factories behind ``--verifier`` etc.
are the same functions, run from the command line in ``test_plugin_route``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cwmcp.contract.kits import BrokerKit, SessionFactoryKit, VerifierKit
from cwmcp.contract.suites import CredentialBrokerSuite, SessionFactorySuite, TokenVerifierSuite
from cwmcp.entrypoints.issuer import LocalIssuer
from tests.contract import our_kits


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer(audience="cwmcp")
    with local.serve():
        yield local


class TestJwtVerifierKit(TokenVerifierSuite):
    @pytest.fixture
    def verifier_kit(self, issuer: LocalIssuer) -> VerifierKit:
        return our_kits.jwt_verifier_kit(issuer)


class TestBrokerKits(CredentialBrokerSuite):
    @pytest.fixture(params=["assume-role", "token-claims"])
    def broker_kit(self, request: pytest.FixtureRequest, moto_url: str) -> BrokerKit:
        return our_kits.assume_role_kit() if request.param == "assume-role" else our_kits.token_claims_kit()


class TestBotocoreSessionsKit(SessionFactorySuite):
    @pytest.fixture
    def session_factory_kit(self, moto_url: str) -> SessionFactoryKit:
        return our_kits.botocore_sessions_kit()

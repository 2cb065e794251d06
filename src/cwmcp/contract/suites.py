"""The port contracts fed by kits: each suite asks for one fixture (``verifier_kit``, ``broker_kit``,
``session_factory_kit``) and derives the fixtures its contract needs from it.

The plugin provides those fixtures from ``--verifier`` / ``--broker`` / ``--session-factory``;
a test class may override one to check an adapter directly (ours do, in ``tests/contract``)::

    class TestMyVerifier(TokenVerifierSuite):
        @pytest.fixture
        def verifier_kit(self) -> VerifierKit:
            return make_kit()
"""

from __future__ import annotations

import pytest

from cwmcp.contract.credential_broker import CredentialBrokerContract
from cwmcp.contract.kits import BrokerKit, Mint, SessionFactoryKit, VerifierKit
from cwmcp.contract.session_factory import SessionFactoryContract
from cwmcp.contract.token_verifier import TokenVerifierContract
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker, SessionFactory, TokenVerifier


class TokenVerifierSuite(TokenVerifierContract):
    @pytest.fixture
    def verifier(self, verifier_kit: VerifierKit) -> TokenVerifier:
        return verifier_kit.verifier

    @pytest.fixture
    def expected_subject(self, verifier_kit: VerifierKit) -> str:
        return verifier_kit.expected_subject

    @pytest.fixture
    def mint_valid(self, verifier_kit: VerifierKit) -> Mint:
        return verifier_kit.mint_valid

    @pytest.fixture
    def mint_expired(self, verifier_kit: VerifierKit) -> Mint:
        return verifier_kit.mint_expired

    @pytest.fixture
    def mint_wrong_audience(self, verifier_kit: VerifierKit) -> Mint:
        return verifier_kit.mint_wrong_audience

    @pytest.fixture
    def mint_bad_signature(self, verifier_kit: VerifierKit) -> Mint:
        return verifier_kit.mint_bad_signature


class CredentialBrokerSuite(CredentialBrokerContract):
    @pytest.fixture
    def broker(self, broker_kit: BrokerKit) -> CredentialBroker:
        return broker_kit.broker

    @pytest.fixture
    def identity(self, broker_kit: BrokerKit) -> Identity:
        return broker_kit.identity

    @pytest.fixture
    def role(self, broker_kit: BrokerKit) -> RoleChoice | None:
        return broker_kit.role

    @pytest.fixture
    def refused(self, broker_kit: BrokerKit) -> tuple[Identity, RoleChoice | None]:
        if getattr(broker_kit, "refused", None) is None:
            pytest.skip("the kit names no input this broker must refuse (BrokerKit.refused)")
        assert broker_kit.refused is not None
        return broker_kit.refused


class SessionFactorySuite(SessionFactoryContract):
    @pytest.fixture
    def factory(self, session_factory_kit: SessionFactoryKit) -> SessionFactory:
        return session_factory_kit.factory

    @pytest.fixture
    def credentials(self, session_factory_kit: SessionFactoryKit) -> AwsCredentials | None:
        return session_factory_kit.credentials

    @pytest.fixture
    def region(self, session_factory_kit: SessionFactoryKit) -> str:
        return session_factory_kit.region

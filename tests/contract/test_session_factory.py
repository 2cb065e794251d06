"""The session factory contract against moto over HTTP: explicit and the server's own credentials."""

from __future__ import annotations

import pytest

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.contract.session_factory import SessionFactoryContract
from cwmcp.domain.credentials import AwsCredentials


class TestBotocoreSessionFactory(SessionFactoryContract):
    @pytest.fixture
    def factory(self, moto_url: str) -> BotocoreSessionFactory:
        return BotocoreSessionFactory(max_attempts=1)

    @pytest.fixture(params=["explicit", "server-own"])
    def credentials(self, request: pytest.FixtureRequest) -> AwsCredentials | None:
        if request.param == "server-own":
            return None
        return AwsCredentials("AKIDCONTRACTUSER", "contract-user-secret", "contract-session-token")

    @pytest.fixture
    def region(self) -> str:
        return "us-east-1"

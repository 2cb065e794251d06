"""The credential broker contract for every broker, against moto (and a local sso-oidc) over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.session
import pytest

from cwmcp.adapters.ambient import AmbientBroker
from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.credential_cache import CachingBroker
from cwmcp.adapters.identity_center import IdentityCenterBroker
from cwmcp.adapters.identity_pool import IdentityPoolBroker
from cwmcp.adapters.sts import AssumeRoleBroker, WebIdentityBroker
from cwmcp.adapters.token_claims import TokenClaimsBroker
from cwmcp.contract.credential_broker import CredentialBrokerContract
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.identity import Identity
from tests.support.sso_oidc import FakeSsoOidc, sso_oidc_server

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZS1zdWIifQ.c2lnbmF0dXJl"
ROLE = RoleChoice("arn:aws:iam::123456789012:role/cw-read", "saas")
ALICE = Identity(subject="alice-sub", issuer="https://issuer.test", email="alice@example.com", token=TOKEN)


def sessions() -> BotocoreSessionFactory:
    return BotocoreSessionFactory(max_attempts=1)


class _Common:
    @pytest.fixture
    def identity(self) -> Identity:
        return ALICE

    @pytest.fixture
    def role(self) -> RoleChoice | None:
        return ROLE


class TestAssumeRole(_Common, CredentialBrokerContract):
    @pytest.fixture
    def broker(self, moto_url: str) -> AssumeRoleBroker:
        return AssumeRoleBroker(sessions(), 900)

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return ALICE, None


class TestWebIdentity(_Common, CredentialBrokerContract):
    @pytest.fixture
    def broker(self, moto_url: str) -> WebIdentityBroker:
        return WebIdentityBroker(sessions(), 900)

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return ALICE, None


@pytest.fixture(scope="module")
def pool_id(moto_url: str) -> str:
    cognito = botocore.session.get_session().create_client("cognito-identity", region_name="us-east-1")
    pool = cognito.create_identity_pool(IdentityPoolName="contract", AllowUnauthenticatedIdentities=False)
    return str(pool["IdentityPoolId"])


@pytest.fixture(scope="module")
def sso() -> Iterator[FakeSsoOidc]:
    with sso_oidc_server() as server:
        yield server


class TestIdentityPool(_Common, CredentialBrokerContract):
    @pytest.fixture
    def broker(self, pool_id: str) -> IdentityPoolBroker:
        return IdentityPoolBroker(sessions(), pool_id, "us-east-1", "us-east-1_Contract")

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return Identity(subject="no-token", issuer="https://issuer.test"), None


class TestIdentityCenter(_Common, CredentialBrokerContract):
    """sso-oidc from a local stand-in (moto has none); STS from moto."""

    @pytest.fixture
    def broker(
        self, moto_url: str, sso: FakeSsoOidc, monkeypatch: pytest.MonkeyPatch
    ) -> IdentityCenterBroker:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", sso.url)
        app = "arn:aws:sso::123456789012:application/ssoins-1234/apl-5678"
        return IdentityCenterBroker(sessions(), app, "us-east-1", 900)

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return Identity(subject="bob", issuer="https://issuer.test", token="refused-token"), ROLE


class TestTokenClaims(_Common, CredentialBrokerContract):
    @pytest.fixture
    def identity(self) -> Identity:
        claims = {
            "aws_access_key_id": "ASIACLAIMS",
            "aws_secret_access_key": "claims-secret",
            "aws_session_token": "claims-session-token",
        }
        return Identity(subject="carol", issuer="https://issuer.test", claims=claims, token=TOKEN)

    @pytest.fixture
    def broker(self) -> TokenClaimsBroker:
        return TokenClaimsBroker()

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return ALICE, None


class TestCachingTokenClaims(TestTokenClaims):
    @pytest.fixture
    def broker(self) -> CachingBroker:  # type: ignore[override]
        return CachingBroker(TokenClaimsBroker())


class TestAmbient(_Common, CredentialBrokerContract):
    @pytest.fixture
    def broker(self, moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AmbientBroker:
        # a secret unlike the key id, so the repr check can tell them apart
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-server-secret")
        return AmbientBroker(sessions())


class TestCachingAssumeRole(_Common, CredentialBrokerContract):
    @pytest.fixture
    def broker(self, moto_url: str) -> CachingBroker:
        return CachingBroker(AssumeRoleBroker(sessions(), 900))

    @pytest.fixture
    def refused(self) -> tuple[Identity, RoleChoice | None]:
        return ALICE, None

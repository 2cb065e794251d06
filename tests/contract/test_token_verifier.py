"""The TokenVerifier contract, twice: JwtVerifier + LocalIssuer over uvicorn, and the Cognito preset
against a moto user pool over HTTP (real access tokens from ``AdminInitiateAuth``)."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import botocore.session
import jwt
import pytest

from cwmcp.adapters.cognito import cognito_verifier
from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.contract.token_verifier import TokenVerifierContract
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.errors import ConfigurationError
from cwmcp.entrypoints.issuer import LocalIssuer

Mint = Callable[[], str]


def tamper_signature(token: str) -> str:
    """Flip one byte in the middle of the signature (the base64 stays canonical)."""
    head, sig = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[len(raw) // 2] ^= 0x55
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


# --- 1. JwtVerifier against a LocalIssuer served by uvicorn --------------------------------


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer(audience="cwmcp")
    with local.serve():
        yield local


class TestJwtVerifierWithLocalIssuer(TokenVerifierContract):
    @pytest.fixture
    def verifier(self, issuer: LocalIssuer) -> JwtVerifier:
        policy = ClaimsPolicy(issuer=issuer.issuer, audiences=("cwmcp",))
        return JwtVerifier(JwksKeySet(issuer.issuer), policy)

    @pytest.fixture
    def expected_subject(self) -> str:
        return "alice"

    @pytest.fixture
    def mint_valid(self, issuer: LocalIssuer) -> Mint:
        return lambda: issuer.mint("alice", email="alice@example.com")

    @pytest.fixture
    def mint_expired(self, issuer: LocalIssuer) -> Mint:
        return lambda: issuer.mint("alice", exp_in=-3600)

    @pytest.fixture
    def mint_wrong_audience(self, issuer: LocalIssuer) -> Mint:
        return lambda: issuer.mint("alice", aud="someone-else")

    @pytest.fixture
    def mint_bad_signature(self, issuer: LocalIssuer) -> Mint:
        return lambda: tamper_signature(issuer.mint("alice"))


# --- 2. The Cognito preset against a moto user pool ----------------------------------------

REGION = "us-east-1"
PASSWORD = "Correct-Horse-9!"


@dataclass
class Pool:
    moto_url: str
    pool_id: str
    client_id: str
    other_client_id: str
    subject: str
    client: Any

    def access_token(self, client_id: str | None = None) -> str:
        answer = self.client.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=client_id or self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
        return str(answer["AuthenticationResult"]["AccessToken"])


def moto_signing_key() -> Any:
    """moto signs every user pool's tokens with one fixed key, shipped in its package."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    return jwt.PyJWK(json.loads(gzip.decompress(raw))).key


@pytest.fixture(scope="module")
def pool(moto_url: str) -> Pool:
    client = botocore.session.get_session().create_client(
        "cognito-idp", region_name=REGION, endpoint_url=moto_url
    )
    pool_id = client.create_user_pool(PoolName="cwmcp-contract")["UserPool"]["Id"]

    def app_client(name: str) -> str:
        flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        made = client.create_user_pool_client(UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=flows)
        return str(made["UserPoolClient"]["ClientId"])

    client.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    attributes = client.admin_get_user(UserPoolId=pool_id, Username="alice")["UserAttributes"]
    subject = next(a["Value"] for a in attributes if a["Name"] == "sub")
    return Pool(moto_url, pool_id, app_client("cwmcp"), app_client("another-app"), subject, client)


class TestCognitoPresetWithMoto(TokenVerifierContract):
    @pytest.fixture
    def verifier(self, pool: Pool) -> JwtVerifier:
        jwks_url = f"{pool.moto_url}/{pool.pool_id}/.well-known/jwks.json"
        return cognito_verifier(pool.pool_id, REGION, [pool.client_id], jwks_url=jwks_url)

    @pytest.fixture
    def expected_subject(self, pool: Pool) -> str:
        return pool.subject

    @pytest.fixture
    def mint_valid(self, pool: Pool) -> Mint:
        return pool.access_token

    @pytest.fixture
    def mint_expired(self, pool: Pool) -> Mint:
        def expired() -> str:
            claims = jwt.decode(pool.access_token(), options={"verify_signature": False})
            now = int(time.time())
            claims.update(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
            return jwt.encode(claims, moto_signing_key(), algorithm="RS256", headers={"kid": "dummy"})

        return expired

    @pytest.fixture
    def mint_wrong_audience(self, pool: Pool) -> Mint:
        return lambda: pool.access_token(pool.other_client_id)

    @pytest.fixture
    def mint_bad_signature(self, pool: Pool) -> Mint:
        return lambda: tamper_signature(pool.access_token())


@pytest.mark.parametrize(
    ("pool_id", "region", "token_use"),
    [
        ("nounderscore", REGION, "access"),
        ("eu-west-1_abc", REGION, "access"),
        ("us-east-1_abc", "mars", "access"),
        ("us-east-1_abc", REGION, "refresh"),
    ],
)
def test_cognito_preset_refuses_bad_settings(pool_id: str, region: str, token_use: str) -> None:
    with pytest.raises(ConfigurationError):
        cognito_verifier(pool_id, region, ["client"], token_use=token_use)


def test_cognito_preset_policy() -> None:
    verifier = cognito_verifier("us-east-1_abc", REGION, "c1, ", token_use="id")
    assert verifier.policy.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
    assert verifier.policy.audiences == () and verifier.policy.client_ids == ("c1",)
    assert verifier.policy.token_use == "id"

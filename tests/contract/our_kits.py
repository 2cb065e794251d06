"""Our own adapters as kits: the same shape an integrator writes (see docs/contract.md).

``*_kit(...)`` build a kit from what a test already has (an issuer, moto through AWS_ENDPOINT_URL).
The zero-argument factories below them are for the command-line route
(``pytest --pyargs cwmcp.contract --verifier=tests.contract.our_kits:verifier``): they start what
they need once per process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import ExitStack

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.credential_cache import CachingBroker
from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.adapters.sts import AssumeRoleBroker
from cwmcp.adapters.token_claims import TokenClaimsBroker
from cwmcp.contract.kits import BrokerKit, SessionFactoryKit, VerifierKit, tamper_signature
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.entrypoints.issuer import LocalIssuer

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZS1zdWIifQ.c2lnbmF0dXJl"
ROLE = RoleChoice("arn:aws:iam::123456789012:role/cw-read", "saas")
ALICE = Identity(subject="alice-sub", issuer="https://issuer.test", email="alice@example.com", token=TOKEN)


def jwt_verifier_kit(issuer: LocalIssuer, audiences: tuple[str, ...] = ("cwmcp",)) -> VerifierKit:
    """``JwtVerifier`` over the issuer's real JWKS endpoint. ``audiences=()`` is the broken variant."""
    verifier = JwtVerifier(JwksKeySet(issuer.issuer), ClaimsPolicy(issuer=issuer.issuer, audiences=audiences))
    return VerifierKit(
        verifier=verifier,
        mint_valid=lambda: issuer.mint("alice", email="alice@example.com"),
        mint_expired=lambda: issuer.mint("alice", exp_in=-3600),
        mint_wrong_audience=lambda: issuer.mint("alice", aud="someone-else"),
        mint_bad_signature=lambda: tamper_signature(issuer.mint("alice")),
        expected_subject="alice",
    )


def assume_role_kit() -> BrokerKit:
    """STS AssumeRole (through the credential cache) against AWS_ENDPOINT_URL."""
    broker = CachingBroker(AssumeRoleBroker(BotocoreSessionFactory(max_attempts=1), 900))
    return BrokerKit(broker=broker, identity=ALICE, role=ROLE, refused=(ALICE, None))


def token_claims_kit() -> BrokerKit:
    claims = {
        "aws_access_key_id": "ASIACLAIMS",
        "aws_secret_access_key": "claims-secret",
        "aws_session_token": "claims-session-token",
    }
    carol = Identity(subject="carol", issuer="https://issuer.test", claims=claims, token=TOKEN)
    return BrokerKit(broker=TokenClaimsBroker(), identity=carol, role=None, refused=(ALICE, None))


def botocore_sessions_kit() -> SessionFactoryKit:
    creds = AwsCredentials("AKIDCONTRACTUSER", "contract-user-secret", "contract-session-token")
    return SessionFactoryKit(
        factory=BotocoreSessionFactory(max_attempts=1), credentials=creds, region="us-east-1"
    )


# --- zero-argument factories for --verifier / --broker / --session-factory ----------------------


_RUNNING = ExitStack()  # servers started for the command-line route; daemon threads, never closed


@functools.cache
def local_issuer() -> LocalIssuer:
    issuer = LocalIssuer(audience="cwmcp")
    _RUNNING.enter_context(issuer.serve())
    return issuer


@functools.cache
def _aws() -> str:
    """A private moto server with fake keys, for a process that has no AWS set up yet."""
    from tests.support.moto import moto_server

    url = _RUNNING.enter_context(moto_server())
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return url


def verifier() -> VerifierKit:
    return jwt_verifier_kit(local_issuer())


def broker() -> Iterator[BrokerKit]:
    """A generator factory: the contract closes it after each test."""
    _aws()
    yield assume_role_kit()


def session_factory() -> SessionFactoryKit:
    _aws()
    return botocore_sessions_kit()

"""token-claims mode: credentials carried in the token's claims."""

from __future__ import annotations

from typing import Any

import pytest

from cwmcp.adapters.token_claims import TokenClaimsBroker
from cwmcp.domain.claim_credentials import CLAIM_NAMES, credentials_from_claims, missing_claims
from cwmcp.domain.errors import InvalidToken
from cwmcp.domain.identity import Identity

FULL = {
    "aws_access_key_id": "ASIAFROMCLAIMS",
    "aws_secret_access_key": "claims-secret-value",
    "aws_session_token": "claims-session-token",
}


def who(**claims: Any) -> Identity:
    return Identity(subject="u", issuer="https://i.test", claims=claims, expires_at=2_000_000_000.0)


def test_all_present() -> None:
    assert missing_claims(who(**FULL)) == []
    creds = credentials_from_claims(who(**FULL))
    assert creds.access_key_id == "ASIAFROMCLAIMS"
    assert creds.secret_access_key == "claims-secret-value"
    assert creds.session_token == "claims-session-token"
    assert creds.expires_at == 2_000_000_000.0


@pytest.mark.parametrize("absent", CLAIM_NAMES)
def test_each_missing_claim_is_named(absent: str) -> None:
    claims = {k: v for k, v in FULL.items() if k != absent}
    assert missing_claims(who(**claims)) == [absent]
    with pytest.raises(InvalidToken) as caught:
        credentials_from_claims(who(**claims))
    assert caught.value.description == f"Token does not contain required AWS credentials: {absent}"


@pytest.mark.parametrize("bad", ["", 12, None, ["x"]])
def test_empty_or_non_string_counts_as_missing(bad: Any) -> None:
    assert missing_claims({**FULL, "aws_session_token": bad}) == ["aws_session_token"]


def test_every_missing_claim_named_in_order_and_no_value_echoed() -> None:
    with pytest.raises(InvalidToken) as caught:
        credentials_from_claims(who(aws_secret_access_key="leak-me"))
    text = caught.value.description
    assert text.endswith("aws_access_key_id, aws_session_token")
    assert "leak-me" not in text


@pytest.mark.anyio
async def test_broker_uses_the_claims_and_exposes_the_check() -> None:
    broker = TokenClaimsBroker()
    assert broker.missing_claims(who()) == list(CLAIM_NAMES)
    creds = await broker.credentials(who(**FULL), None)
    assert creds.access_key_id == "ASIAFROMCLAIMS"
    with pytest.raises(InvalidToken):
        await broker.credentials(who(), None)

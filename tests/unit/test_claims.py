"""Pure claim checks (domain/claims.py) and identities built from claims (domain/identity.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cwmcp.domain.claims import (
    DEFAULT_LEEWAY,
    ClaimsPolicy,
    check_audience,
    check_claims,
    check_cognito,
    check_issuer,
    check_scopes,
    check_times,
)
from cwmcp.domain.errors import InsufficientScope, InvalidToken
from cwmcp.domain.identity import Identity, identity_from_claims, scopes_of

NOW = 1_700_000_000.0
ISS = "https://issuer.example.com"
POLICY = ClaimsPolicy(issuer=ISS, audiences=("cwmcp",))


def good(**extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ISS, "aud": "cwmcp", "sub": "alice", "exp": NOW + 600, "iat": NOW}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def reason(fn: Any, *args: Any) -> str:
    with pytest.raises(InvalidToken) as err:
        fn(*args)
    return err.value.description


# --- times ---------------------------------------------------------------------------------


def test_policy_defaults() -> None:
    policy = ClaimsPolicy(issuer=ISS)
    assert policy.leeway == DEFAULT_LEEWAY == 60.0
    assert policy.audiences == () and policy.required_scopes == () and policy.token_use is None


def test_times_within_limits_pass() -> None:
    check_times({"exp": NOW + 1}, NOW, 0)
    check_times({"exp": NOW - 59, "nbf": NOW + 59, "iat": NOW + 59}, NOW, 60)
    check_times({"exp": int(NOW) + 5, "nbf": 0, "iat": 1.5}, NOW, 0)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({}, "Token has no expiry ('exp')"),
        ({"exp": None}, "Token has no expiry ('exp')"),
        ({"exp": NOW - 61}, "Token has expired"),
        ({"exp": NOW - 60}, "Token has expired"),
        ({"exp": "9999999999"}, "Token claim 'exp' must be a number"),
        ({"exp": True}, "Token claim 'exp' must be a number"),
        ({"exp": [NOW + 5]}, "Token claim 'exp' must be a number"),
        ({"exp": NOW + 600, "nbf": NOW + 61}, "Token is not yet valid"),
        ({"exp": NOW + 600, "nbf": "0"}, "Token claim 'nbf' must be a number"),
        ({"exp": NOW + 600, "iat": NOW + 61}, "Token was issued in the future"),
        ({"exp": NOW + 600, "iat": False}, "Token claim 'iat' must be a number"),
    ],
)
def test_times_refused(claims: dict[str, Any], expected: str) -> None:
    assert reason(check_times, claims, NOW, 60) == expected


# --- issuer, audience, cognito, scopes -----------------------------------------------------


def test_issuer_must_match_exactly() -> None:
    check_issuer({"iss": ISS}, ISS)
    for iss in (ISS + "/", ISS + ".evil", "https://ISSUER.example.com", None, [ISS]):
        assert reason(check_issuer, {"iss": iss}, ISS) == "Invalid token issuer"


def test_audience() -> None:
    check_audience({}, ())  # not checked when no audience is configured
    check_audience({"aud": "b"}, ("a", "b"))
    check_audience({"aud": ["x", "b"]}, ("a", "b"))
    for aud in (None, "c", ["c", "d"], [], [["a"]], {"a": 1}, 1):
        assert reason(check_audience, {"aud": aud}, ("a", "b")) == "Invalid token audience"


def test_cognito_access_token() -> None:
    check_cognito({"token_use": "access", "client_id": "c1"}, "access", ("c1", "c2"))
    check_cognito({"token_use": "access", "client_id": "any"}, "access", ())
    assert reason(check_cognito, {"token_use": "id", "client_id": "c1"}, "access", ("c1",)).startswith(
        "Invalid token use"
    )
    assert reason(check_cognito, {"token_use": "access", "client_id": "c9"}, "access", ("c1",)) == (
        "Invalid token client"
    )
    assert (
        reason(check_cognito, {"token_use": "access", "aud": "c1"}, "access", ("c1",))
        == "Invalid token client"
    )


def test_cognito_id_token_uses_aud() -> None:
    check_cognito({"token_use": "id", "aud": "c1"}, "id", ("c1",))
    assert (
        reason(check_cognito, {"token_use": "id", "client_id": "c1"}, "id", ("c1",))
        == "Invalid token audience"
    )


def test_scopes() -> None:
    check_scopes({}, ())
    check_scopes({"scope": "a b c"}, ("a", "c"))
    check_scopes({"scp": ["a", "c"]}, ("a", "c"))
    with pytest.raises(InsufficientScope) as err:
        check_scopes({"scope": "a"}, ("a", "b", "c"))
    assert err.value.required == ("a", "b", "c")
    assert err.value.description == "Token lacks required scope: b c"


# --- all together --------------------------------------------------------------------------


def test_check_claims_passes_a_good_token() -> None:
    check_claims(good(), NOW, POLICY)
    check_claims(good(aud=None), NOW, ClaimsPolicy(issuer=ISS))


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (good(exp=NOW - 100), "Token has expired"),
        (good(iss="https://other"), "Invalid token issuer"),
        (good(aud="other"), "Invalid token audience"),
        (good(sub=None), "Token has no subject ('sub')"),
        (good(sub=""), "Token has no subject ('sub')"),
        (good(sub=42), "Token has no subject ('sub')"),
    ],
)
def test_check_claims_refuses(claims: dict[str, Any], expected: str) -> None:
    assert reason(check_claims, claims, NOW, POLICY) == expected


def test_check_claims_cognito_and_scopes() -> None:
    policy = ClaimsPolicy(issuer=ISS, token_use="access", client_ids=("c1",), required_scopes=("read",))
    check_claims(good(aud=None, token_use="access", client_id="c1", scope="read"), NOW, policy)
    assert reason(check_claims, good(aud=None, token_use="id", client_id="c1"), NOW, policy).startswith(
        "Invalid token use"
    )
    with pytest.raises(InsufficientScope):
        check_claims(good(aud=None, token_use="access", client_id="c1", scope="write"), NOW, policy)


def test_time_is_checked_before_anything_else() -> None:
    bad_everything = {"iss": "x", "aud": "y", "exp": NOW - 1000}
    assert reason(check_claims, bad_everything, NOW, POLICY) == "Token has expired"


# --- identity ------------------------------------------------------------------------------


def test_scopes_of() -> None:
    assert scopes_of({}) == frozenset()
    assert scopes_of({"scope": "a  b"}) == {"a", "b"}
    assert scopes_of({"scp": ["x", 2]}) == {"x", "2"}
    assert scopes_of({"scope": "a", "scp": ("b",)}) == {"a", "b"}
    assert scopes_of({"scope": 5, "scp": None}) == frozenset()


def test_identity_from_claims() -> None:
    claims = good(email="alice@example.com", name="Alice", groups=["sre", 7], scope="logs:read")
    identity = identity_from_claims(claims, "tok.en.sig")
    assert identity.subject == "alice" and identity.issuer == ISS
    assert identity.email == "alice@example.com" and identity.name == "Alice"
    assert identity.groups == ("sre", "7") and identity.scopes == {"logs:read"}
    assert identity.expires_at == NOW + 600 and identity.token == "tok.en.sig"
    assert identity.claims["aud"] == "cwmcp"
    with pytest.raises(TypeError):
        identity.claims["sub"] = "mallory"  # type: ignore[index]
    claims["sub"] = "changed"
    assert identity.claims["sub"] == "alice", "claims are copied"


@pytest.mark.parametrize(
    ("claims", "groups", "name"),
    [
        ({"cognito:groups": ["a"], "preferred_username": "al"}, ("a",), "al"),
        ({"groups": "solo", "username": "u"}, ("solo",), "u"),
        ({"groups": {"not": "a list"}, "name": ""}, (), None),
        ({"groups": ("t",), "name": 5}, ("t",), None),
    ],
)
def test_identity_groups_and_name_variants(
    claims: dict[str, Any], groups: tuple[str, ...], name: str | None
) -> None:
    identity = identity_from_claims({"sub": "s", "iss": ISS, **claims}, "t")
    assert identity.groups == groups and identity.name == name


def test_identity_drops_odd_email_and_exp() -> None:
    identity = identity_from_claims({"sub": "s", "email": "", "exp": True}, "t")
    assert identity.email is None and identity.expires_at is None and identity.issuer == ""
    assert identity_from_claims({"sub": "s", "email": 5, "exp": "1"}, "t").email is None


def test_identity_repr_and_equality_hide_token_and_claims() -> None:
    secret = "eyJhbGciOi.secret-token.signature"
    a = identity_from_claims(good(secret_claim="hunter2"), secret)
    b = identity_from_claims(good(), "another-token")
    for text in (repr(a), str(a)):
        assert secret not in text and "hunter2" not in text
    assert a == b, "token and raw claims do not take part in equality"
    assert a.key == f"{ISS}\x00alice"
    assert Identity(subject="s", issuer="i").claims == {}


@pytest.mark.parametrize("value", [float("inf"), float("nan"), float("-inf")])
def test_non_finite_times_are_refused(value: float) -> None:
    from cwmcp.domain.claims import check_times
    from cwmcp.domain.errors import InvalidToken

    with pytest.raises(InvalidToken, match="must be a number"):
        check_times({"exp": value}, 1000.0, 60)

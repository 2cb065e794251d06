"""The attack catalogue: JwtVerifier against forged and malformed tokens.

Keys come from an in-process JWKS (httpx2 MockTransport) holding an RSA key (``rsa-1``) and a P-256
key (``ec-1``). Each attack is paired with the nearest valid token, so a test fails if the verifier
refuses everything.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.errors import AuthError, ConfigurationError, InsufficientScope, InvalidToken
from tests.support.jwks_fakes import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    FakeJwks,
    b64,
    claims,
    default_keys,
    ec_key,
    rsa_key,
    sign,
    with_header,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> FakeJwks:
    return FakeJwks(keys=default_keys())


def make(fake: FakeJwks, **policy: Any) -> JwtVerifier:
    keys = JwksKeySet(jwks_url=JWKS_URL, http=fake.client(), min_refetch_interval=0)
    pol = ClaimsPolicy(issuer=ISSUER, audiences=(AUDIENCE,), **policy)
    return JwtVerifier(keys, pol, algorithms=("RS256", "ES256"))


@pytest.fixture
def verifier(fake: FakeJwks) -> JwtVerifier:
    return make(fake)


async def refused(verifier: JwtVerifier, token: str, reason: str) -> None:
    with pytest.raises(InvalidToken) as err:
        await verifier.verify(token)
    assert err.value.description == reason
    if token:
        assert token not in err.value.description and token not in str(err.value)


def signed_raw(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Exactly ``header`` (which PyJWT's encoder may refuse to write), RS256-signed by ``rsa-1``."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    return (
        f"{signing_input}.{b64(RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode(), rsa_key(0)))}"
    )


async def test_the_valid_baselines_pass(verifier: JwtVerifier) -> None:
    assert (await verifier.verify(sign(claims()))).subject == "alice"
    assert (
        await verifier.verify(sign(claims(sub="bob"), ec_key(0), kid="ec-1", alg="ES256"))
    ).subject == "bob"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_spelling(verifier: JwtVerifier, alg: str) -> None:
    header = {"alg": alg, "kid": "rsa-1", "typ": "JWT"}
    await refused(verifier, with_header(header, claims()), "Token algorithm not allowed")
    await refused(verifier, with_header(header, claims(), b"\x00" * 32), "Token algorithm not allowed")


async def test_hs256_signed_with_the_rsa_public_key_as_secret(verifier: JwtVerifier) -> None:
    pem = (
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'rsa-1', 'typ': 'JWT'})}.{b64(claims())}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    await refused(verifier, f"{signing_input}.{b64(mac)}", "Token algorithm not allowed")


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "HS512"), ("none",), ("RS256", "NONE"), ()])
def test_a_symmetric_or_none_algorithm_is_refused_at_construction(
    fake: FakeJwks, algorithms: tuple[str, ...]
) -> None:
    keys = JwksKeySet(jwks_url=JWKS_URL, http=fake.client())
    with pytest.raises(ConfigurationError):
        JwtVerifier(keys, ClaimsPolicy(issuer=ISSUER), algorithms=algorithms)


async def test_an_algorithm_outside_the_allow_list(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims(), alg="PS256"), "Token algorithm not allowed")
    await refused(verifier, sign(claims(), alg="RS512"), "Token algorithm not allowed")


async def test_kid_path_traversal_is_just_an_unknown_key(verifier: JwtVerifier, fake: FakeJwks) -> None:
    await refused(verifier, sign(claims(), kid="../../etc/passwd"), "Unknown signing key")
    await refused(verifier, sign(claims(), kid="/dev/random"), "Unknown signing key")


@pytest.mark.parametrize("kid", [5, ["rsa-1"], {"k": 1}, True, "k" * 257])
async def test_kid_must_be_a_short_string(verifier: JwtVerifier, kid: Any) -> None:
    await refused(verifier, signed_raw({"alg": "RS256", "kid": kid}, claims()), "Invalid token key id")


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
async def test_key_carrying_headers_are_refused(verifier: JwtVerifier, name: str) -> None:
    value: Any = {"jku": "https://evil.example/jwks", "x5u": "https://evil.example/c.pem"}.get(name)
    if name == "jwk":
        value = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    if name == "x5c":
        value = ["MIIB"]
    await refused(verifier, sign(claims(), **{name: value}), "Token header parameter not allowed")


async def test_crit_is_refused_unless_empty(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims(), crit=["exp"], exp=1), "Unsupported critical token header")
    await refused(verifier, sign(claims(), crit=["b64"], b64=True), "Unsupported critical token header")
    await refused(verifier, sign(claims(), crit="b64"), "Unsupported critical token header")
    assert (await verifier.verify(sign(claims(), crit=[]))).subject == "alice"


async def test_detached_payload_header_is_refused(verifier: JwtVerifier) -> None:
    await refused(
        verifier,
        signed_raw({"alg": "RS256", "kid": "rsa-1", "b64": False}, claims()),
        "Unsupported token header",
    )
    await refused(verifier, sign(claims(), b64=False), "Malformed token")  # PyJWT's detached form


async def test_exp_as_a_string(verifier: JwtVerifier) -> None:
    await refused(
        verifier, sign(claims(exp=str(int(time.time()) + 3600))), "Token claim 'exp' must be a number"
    )


async def test_missing_exp(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims(exp=None)), "Token has no expiry ('exp')")


async def test_non_finite_numbers_in_claims_are_malformed(verifier: JwtVerifier) -> None:
    base = claims()
    for raw in ("1e400", "Infinity", "NaN"):
        payload = b64(f'{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"alice","exp":{raw}}}')
        signing_input = f"{b64({'alg': 'RS256', 'kid': 'rsa-1'})}.{payload}"
        good = sign(base).split(".")
        forged = f"{signing_input}.{good[2]}"
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)
    # the same shape signed for real is still refused, by the strict JSON parser
    payload = b64(f'{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"alice","exp":1e400}}')
    signing_input = f"{b64({'alg': 'RS256', 'kid': 'rsa-1'})}.{payload}"
    sig = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode(), rsa_key(0))
    await refused(verifier, f"{signing_input}.{b64(sig)}", "Malformed token")


@pytest.mark.parametrize(
    "iss", ["https://issuer.example.com.evil", "https://issuer.example.com/", "https://issuer.example"]
)
async def test_an_issuer_that_only_looks_like_ours(verifier: JwtVerifier, iss: str) -> None:
    await refused(verifier, sign(claims(iss=iss)), "Invalid token issuer")


async def test_audience_lists(verifier: JwtVerifier) -> None:
    assert (await verifier.verify(sign(claims(aud=["other", AUDIENCE])))).subject == "alice"
    await refused(verifier, sign(claims(aud=["other", "cwmcp2"])), "Invalid token audience")
    await refused(verifier, sign(claims(aud=None)), "Invalid token audience")
    await refused(verifier, sign(claims(aud=[["cwmcp"]])), "Invalid token audience")


@pytest.mark.parametrize(
    ("name", "reason"), [("nbf", "Token is not yet valid"), ("iat", "Token was issued in the future")]
)
async def test_nbf_and_iat_in_the_future(verifier: JwtVerifier, name: str, reason: str) -> None:
    now = int(time.time())
    await refused(verifier, sign({**claims(), name: now + 300}), reason)
    assert (await verifier.verify(sign({**claims(), name: now + 30}))).subject == "alice"


async def test_expiry_and_leeway(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims(exp_in=-120)), "Token has expired")
    assert (await verifier.verify(sign(claims(exp_in=-30)))).subject == "alice"


async def test_oversized_tokens_are_refused_before_any_work(verifier: JwtVerifier, fake: FakeJwks) -> None:
    token = sign(claims(pad="x" * 9000))
    await refused(verifier, token, "Token is too large")
    await refused(verifier, "a" * 8193, "Token is too large")
    assert fake.hits == 0


@pytest.mark.parametrize(
    "shape",
    [
        "two.segments",
        "{h}.{p}.{s}.extra",
        "{h}.{p}.{s}.x.y",
        "{h}.{p}.{s}.",
        ".{p}.{s}",
        "{h}..{s}",
        "{h}!.{p}.{s}",
        "{h}.{p}.{s}==",
        "{h}.{p}.{s}%3D",
        "a.{p}.{s}",
        "e30.{p}.{s}",
        "WzFd.{p}.{s}",
        "bm90IGpzb24.{p}.{s}",
        "{h}.{p} .{s}",
        "",
        "é.é.é",
    ],
)
async def test_malformed_shapes(verifier: JwtVerifier, shape: str) -> None:
    h, p, s = sign(claims()).split(".")
    expected = "Token algorithm not allowed" if shape.startswith("e30.") else "Malformed token"
    await refused(verifier, shape.format(h=h, p=p, s=s), expected)


async def test_es256_with_r_and_s_zero(verifier: JwtVerifier) -> None:
    token = with_header({"alg": "ES256", "kid": "ec-1", "typ": "JWT"}, claims(), b"\x00" * 64)
    await refused(verifier, token, "Invalid token signature")
    for sig in (b"\x00" * 63 + b"\x01", b"\xff" * 64, b"\x00" * 32, b"0\x06\x02\x01\x00\x02\x01\x00"):
        await refused(
            verifier, with_header({"alg": "ES256", "kid": "ec-1"}, claims(), sig), "Invalid token signature"
        )


async def test_algorithm_and_key_must_fit(verifier: JwtVerifier) -> None:
    await refused(
        verifier, sign(claims(), ec_key(0), kid="rsa-1", alg="ES256"), "Token algorithm not allowed"
    )
    await refused(verifier, sign(claims(), kid="ec-1"), "Token algorithm not allowed")


async def test_a_signature_by_another_key_or_over_other_claims(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims(), rsa_key(1)), "Invalid token signature")
    h, _, s = sign(claims()).split(".")
    await refused(verifier, f"{h}.{b64(claims(sub='admin'))}.{s}", "Invalid token signature")


async def test_non_ascii_and_non_string_tokens(verifier: JwtVerifier) -> None:
    await refused(verifier, sign(claims()) + "\u200b", "Malformed token")
    with pytest.raises(InvalidToken):
        await verifier.verify(b"abc.def.ghi")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        await verifier.verify(None)  # type: ignore[arg-type]


async def test_every_single_character_mutation_is_refused_cleanly(verifier: JwtVerifier) -> None:
    token = sign(claims())
    await verifier.verify(token)
    passed = 0
    for i in range(len(token)):
        for c in ("A", ".", "-", "~"):
            if token[i] == c:
                continue
            mutated = token[:i] + c + token[i + 1 :]
            try:
                await verifier.verify(mutated)
                passed += 1
            except AuthError as exc:
                assert mutated not in exc.description
    assert passed <= 2, "mutations that pass can only be in the last base64 character's spare bits"


async def test_missing_scope_is_insufficient_scope(fake: FakeJwks) -> None:
    v = make(fake, required_scopes=("logs:read",))
    assert (await v.verify(sign(claims(scope="logs:read metrics:read")))).subject == "alice"
    with pytest.raises(InsufficientScope):
        await v.verify(sign(claims(scope="metrics:read")))


async def test_a_cached_token_is_never_used_past_its_expiry(fake: FakeJwks) -> None:
    now = [time.time()]
    keys = JwksKeySet(jwks_url=JWKS_URL, http=fake.client())
    v = JwtVerifier(keys, ClaimsPolicy(issuer=ISSUER, audiences=(AUDIENCE,), leeway=0), clock=lambda: now[0])
    token = sign(claims(exp_in=100))
    first = await v.verify(token)
    fake.status = 503  # a cache hit needs no key
    now[0] += 50
    assert await v.verify(token) is first
    now[0] += 60
    with pytest.raises(AuthError):
        await v.verify(token)


async def test_the_cache_is_bounded(fake: FakeJwks) -> None:
    keys = JwksKeySet(jwks_url=JWKS_URL, http=fake.client())
    v = JwtVerifier(keys, ClaimsPolicy(issuer=ISSUER, audiences=(AUDIENCE,)), cache_size=3)
    tokens = [sign(claims(sub=f"user-{i}")) for i in range(5)]
    for t in tokens:
        await v.verify(t)
    assert len(v._cache) == 3

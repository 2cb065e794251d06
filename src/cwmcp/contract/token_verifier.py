"""What the rest of cwmcp relies on from any ``TokenVerifier``. Subclass and provide fixtures.

Fixtures a subclass provides: ``verifier`` (the adapter under test), ``expected_subject`` and the
callables ``mint_valid``, ``mint_expired``, ``mint_wrong_audience`` and ``mint_bad_signature``,
each returning a fresh token string.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import anyio
import jwt
import pytest

from cwmcp.domain.errors import AuthError, InvalidToken
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import TokenVerifier

Mint = Callable[[], str]
CONCURRENT_CALLS = 50
TIMEOUT = 30.0
GARBAGE = (
    "",
    " ",
    "null",
    "Bearer",
    "abc",
    "a.b",
    "a.b.c",
    "...",
    "a.b.c.d.e",
    "eyJhbGciOiJub25lIn0.e30.",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA",
    "\x00\x01\x02",
    "é.é.é",
    "x" * 20_000,
    "e30." * 1000,
)


def _assert_clean(error: AuthError, token: str) -> None:
    """A refusal must say why in words, and never echo the token or a meaningful piece of it.

    (Strings shorter than 8 characters are skipped: "a" may well be in any sentence.)
    """
    assert error.description.strip(), "refusal without a description"
    for text in (error.description, str(error), repr(error)):
        if len(token) >= 8:
            assert token not in text, "the token leaked into the refusal"
        for part in token.split("."):
            if len(part) >= 16:
                assert part not in text, "a token segment leaked into the refusal"


class TokenVerifierContract:
    pytestmark = [pytest.mark.anyio]

    async def _refused(
        self, verifier: TokenVerifier, token: str, what: str = "a token", hint: str = ""
    ) -> InvalidToken:
        """``verify`` must raise ``InvalidToken``; ``what`` names the token in the failure message."""
        with anyio.fail_after(TIMEOUT):
            try:
                await verifier.verify(token)
            except InvalidToken as exc:
                _assert_clean(exc, token)
                return exc
            except AuthError as exc:
                pytest.fail(f"{what} was refused with {type(exc).__name__}, expected InvalidToken")
            except Exception as exc:
                pytest.fail(f"{what} made verify() raise {type(exc).__name__}, expected InvalidToken")
        pytest.fail(f"the verifier accepted {what}; it must refuse it{hint}")

    def test_implements_the_port(self, verifier: Any) -> None:
        assert isinstance(verifier, TokenVerifier)

    async def test_valid_token_gives_the_identity(
        self, verifier: TokenVerifier, mint_valid: Mint, expected_subject: str
    ) -> None:
        token = mint_valid()
        with anyio.fail_after(TIMEOUT):
            identity = await verifier.verify(token)
            again = await verifier.verify(token)
        assert isinstance(identity, Identity)
        assert identity.subject == expected_subject and identity.issuer
        assert identity.token == token
        assert again == identity

    async def test_expired_token_is_refused(self, verifier: TokenVerifier, mint_expired: Mint) -> None:
        await self._refused(verifier, mint_expired(), "an expired token")

    async def test_wrong_audience_is_refused(
        self, verifier: TokenVerifier, mint_wrong_audience: Mint
    ) -> None:
        hint = " (is 'aud', or the client id, checked?)"
        await self._refused(verifier, mint_wrong_audience(), "a token minted for another audience", hint)

    async def test_bad_signature_is_refused(self, verifier: TokenVerifier, mint_bad_signature: Mint) -> None:
        await self._refused(verifier, mint_bad_signature(), "a token with a bad signature")

    async def test_unsigned_and_symmetric_copies_are_refused(
        self, verifier: TokenVerifier, mint_valid: Mint
    ) -> None:
        token = mint_valid()
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        kid = {"kid": header["kid"]} if "kid" in header else {}
        await self._refused(
            verifier, jwt.encode(claims, "", algorithm="none", headers=kid), "an unsigned copy"
        )
        hs256 = jwt.encode(claims, "s" * 64, algorithm="HS256", headers=kid)
        await self._refused(verifier, hs256, "an HS256-signed copy")

    @pytest.mark.parametrize("garbage", GARBAGE)
    async def test_garbage_is_refused(self, verifier: TokenVerifier, garbage: str) -> None:
        await self._refused(verifier, garbage, "a garbage token")

    async def test_only_auth_errors_escape(self, verifier: TokenVerifier, mint_valid: Mint) -> None:
        token = mint_valid()
        rng = random.Random(20240917)  # noqa: S311 - fuzzing, not cryptography
        alphabet = "AZaz09-_.=+/ \x00é"
        for _ in range(200):
            chars = list(token)
            for _ in range(rng.randint(1, 3)):
                chars[rng.randrange(len(chars))] = rng.choice(alphabet)
            mutated = "".join(chars)
            with anyio.fail_after(TIMEOUT):
                try:
                    await verifier.verify(mutated)
                except AuthError as exc:
                    _assert_clean(exc, mutated)
                except Exception as exc:  # what this test is for
                    pytest.fail(f"{type(exc).__name__} escaped verify()")

    async def test_identity_repr_hides_the_token(self, verifier: TokenVerifier, mint_valid: Mint) -> None:
        token = mint_valid()
        with anyio.fail_after(TIMEOUT):
            identity = await verifier.verify(token)
        signature = token.rsplit(".", 1)[-1]
        for text in (repr(identity), str(identity)):
            assert token not in text and signature not in text

    async def test_concurrent_verifies_all_succeed(
        self, verifier: TokenVerifier, mint_valid: Mint, expected_subject: str
    ) -> None:
        token = mint_valid()
        subjects: list[str] = []

        async def one() -> None:
            subjects.append((await verifier.verify(token)).subject)

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for _ in range(CONCURRENT_CALLS):
                    tg.start_soon(one)
        assert subjects == [expected_subject] * CONCURRENT_CALLS

    async def test_a_cancelled_verify_leaves_the_verifier_usable(
        self, verifier: TokenVerifier, mint_valid: Mint, expected_subject: str
    ) -> None:
        for delay in (0.0, 0.001, 0.005, 0.02):
            async with anyio.create_task_group() as tg:
                tg.start_soon(verifier.verify, mint_valid())
                await anyio.sleep(delay)
                tg.cancel_scope.cancel()
        with anyio.fail_after(TIMEOUT):
            assert (await verifier.verify(mint_valid())).subject == expected_subject

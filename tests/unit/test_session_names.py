"""session_name: what CloudTrail will show for each user."""

from __future__ import annotations

import re

import pytest

from cwmcp.domain.identity import Identity
from cwmcp.domain.session_names import MAX_LEN, sanitise, session_name

ALLOWED = re.compile(r"^[\w+=,.@-]{2,64}$")


def who(sub: str = "sub-1", email: str | None = None) -> Identity:
    return Identity(subject=sub, issuer="https://issuer.test", email=email)


def test_email_is_preferred() -> None:
    assert session_name(who("abc", "alice@example.com")) == "alice@example.com"


def test_subject_when_no_email() -> None:
    assert session_name(who("00u1abcd")) == "00u1abcd"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice smith@example.com", "alice-smith@example.com"),
        ("auth0|12345", "auth0-12345"),
        ("a/b:c", "a-b-c"),
        ("name+tag=x,y.z@d-e_f", "name+tag=x,y.z@d-e_f"),
        ("josé@example.com", "jos-@example.com"),
    ],
)
def test_characters_outside_sts_set_become_dashes(raw: str, expected: str) -> None:
    assert sanitise(raw) == expected


def test_long_values_are_cut_to_64() -> None:
    name = session_name(who(email="x" * 100 + "@example.com"))
    assert len(name) == MAX_LEN == 64
    assert ALLOWED.match(name)


@pytest.mark.parametrize("raw", ["", "a", "|"])
def test_too_short_values_get_a_prefix(raw: str) -> None:
    name = sanitise(raw)
    assert len(name) >= 2
    assert name.startswith("cwmcp-")
    assert ALLOWED.match(name)


@pytest.mark.parametrize("raw", ["ok", "a b c", "é" * 80, "\x00\n\t", "user@例え.jp", "x" * 64, "x" * 65])
def test_always_valid_for_sts(raw: str) -> None:
    assert ALLOWED.match(sanitise(raw))

"""The pure parts of the contract suite: challenge parsing, signature tampering, targets, token
commands, kit loading and opening."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cwmcp.contract.deployment_http import (
    CheckFailed,
    CheckSkipped,
    Target,
    parse_challenge,
    tamper,
    token_from_command,
)
from cwmcp.contract.kits import BrokerKit, KitError, VerifierKit, load_factory, open_kit
from cwmcp.domain.identity import Identity
from tests.support.fakes import FakeBroker


def test_parse_challenge_reads_quoted_and_bare_parameters() -> None:
    scheme, params = parse_challenge(
        'Bearer error="invalid_token", error_description="a \\"quoted\\" word, and a comma", '
        'resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", realm=x'
    )
    assert scheme == "bearer"
    assert params["error"] == "invalid_token"
    assert params["error_description"] == 'a \\"quoted\\" word, and a comma'
    assert params["resource_metadata"] == "https://h/.well-known/oauth-protected-resource/mcp"
    assert params["realm"] == "x"
    assert parse_challenge("Basic") == ("basic", {})


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_tamper_changes_only_the_signature() -> None:
    token = "aGVhZA.cGF5bG9hZA." + base64.urlsafe_b64encode(bytes(range(64))).rstrip(b"=").decode()
    bad = tamper(token)
    head, payload, sig = bad.split(".")
    assert (head, payload) == ("aGVhZA", "cGF5bG9hZA")
    diff = [i for i, (a, b) in enumerate(zip(unb64(sig), bytes(range(64)), strict=True)) if a != b]
    assert diff == [32]
    for opaque in ("opaque-token", "a.b.", "a.b.!!!"):
        with pytest.raises(CheckSkipped):
            tamper(opaque)


def test_target_normalises_and_finds_health_and_origin() -> None:
    t = Target("https://host.example/cw/mcp/ ", token="tok-1", expired_token="tok-2")
    assert t.url == "https://host.example/cw/mcp"
    assert (t.origin, t.path, t.base) == ("https://host.example", "/cw/mcp", "https://host.example/cw")
    assert Target("http://127.0.0.1:3334/other").base == "http://127.0.0.1:3334"
    assert t.redact("got tok-1 and tok-2") == "got <token> and <token>"
    assert "tok-1" not in repr(t)
    assert t.problems() == []
    assert Target("host/mcp").problems() and Target("file:///mcp").problems()


def python(code: str) -> str:
    return f"{sys.executable} -c {code!r}"


def test_token_command() -> None:
    assert token_from_command(python("print('Bearer abc.def.ghi')")) == "abc.def.ghi"
    with pytest.raises(CheckFailed, match="exited with status 4"):
        token_from_command(python("import sys; print('secret-out'); sys.exit(4)"))
    with pytest.raises(CheckFailed, match="exactly one token") as caught:
        token_from_command(python("print('two words')"))
    assert "two words" not in str(caught.value)
    with pytest.raises(CheckFailed, match="could not run"):
        token_from_command("/no/such/command-at-all")


def make_broker_kit() -> BrokerKit:
    return BrokerKit(FakeBroker(), Identity(subject="alice", issuer="https://issuer.test"))


CLOSED: list[str] = []


def generator_factory() -> Iterator[BrokerKit]:
    yield make_broker_kit()
    CLOSED.append("generator")


@contextmanager
def managed() -> Iterator[BrokerKit]:
    yield make_broker_kit()
    CLOSED.append("context manager")


class Factories:
    @staticmethod
    def kit() -> BrokerKit:
        return make_broker_kit()


def test_load_factory() -> None:
    assert load_factory(f"{__name__}:make_broker_kit") is make_broker_kit
    assert isinstance(load_factory(f"{__name__}:Factories.kit")(), BrokerKit)  # a dotted attribute
    for spec, message in [
        ("nocolon", "not of the form"),
        (":f", "not of the form"),
        ("no_such_module_xyz:f", "cannot import"),
        (f"{__name__}:missing", "has no attribute"),
        (f"{__name__}:CLOSED", "not callable"),
    ]:
        with pytest.raises(KitError, match=message):
            load_factory(spec)


def test_open_kit_closes_what_the_factory_opened() -> None:
    CLOSED.clear()
    for factory in (make_broker_kit, generator_factory, managed):
        with open_kit(factory, BrokerKit) as kit:
            assert kit.identity.subject == "alice"
    assert CLOSED == ["generator", "context manager"]


def test_open_kit_refuses_what_is_not_a_kit() -> None:
    with (
        pytest.raises(KitError, match="lacks verifier, mint_valid"),
        open_kit(make_broker_kit, VerifierKit, "x:y"),
    ):
        pass

"""Kits: what an integrator hands the port contracts. One kit bundles an adapter and the inputs its
contract needs, so one option (``--verifier=mypkg.auth:make_kit``) is enough to check it.

A factory is a zero-argument callable named ``module:function``. It returns a kit, or a context
manager (or generator) that yields one and cleans up afterwards. It is called once per test:
adapters often hold connections bound to the running event loop, so build them fresh; cache
expensive things (a local issuer, a test AWS) at module level yourself.

This module needs no pytest: a factory module may import it in any environment.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker, SessionFactory, TokenVerifier

Mint = Callable[[], str]
K = TypeVar("K")


@dataclass(frozen=True)
class VerifierKit:
    """A ``TokenVerifier`` and four token makers; each call returns a fresh token.

    ``mint_valid`` gives a token the verifier must accept with ``expected_subject``;
    ``mint_expired`` one past its ``exp`` (beyond any leeway); ``mint_wrong_audience`` one that is
    valid except for ``aud`` (or the client id your provider uses instead); ``mint_bad_signature``
    the valid token with its signature altered.
    """

    verifier: TokenVerifier
    mint_valid: Mint = field(repr=False)
    mint_expired: Mint = field(repr=False)
    mint_wrong_audience: Mint = field(repr=False)
    mint_bad_signature: Mint = field(repr=False)
    expected_subject: str = "alice"


@dataclass(frozen=True)
class BrokerKit:
    """A ``CredentialBroker``, an ``identity`` and ``role`` it must serve, and optionally
    ``refused``: an ``(identity, role)`` pair it must refuse with a domain error."""

    broker: CredentialBroker
    identity: Identity
    role: RoleChoice | None = None
    refused: tuple[Identity, RoleChoice | None] | None = None


@dataclass(frozen=True)
class SessionFactoryKit:
    """A ``SessionFactory``, the ``credentials`` its clients use (``None``: the server's own) and a
    ``region``. The contract calls ``sts:GetCallerIdentity`` with them, so they must reach an AWS
    (a real one, or moto through ``AWS_ENDPOINT_URL``)."""

    factory: SessionFactory
    credentials: AwsCredentials | None = field(default=None, repr=False)
    region: str = "us-east-1"


REQUIRED: dict[type[Any], tuple[str, ...]] = {
    VerifierKit: (
        "verifier",
        "mint_valid",
        "mint_expired",
        "mint_wrong_audience",
        "mint_bad_signature",
        "expected_subject",
    ),
    BrokerKit: ("broker", "identity", "role"),
    SessionFactoryKit: ("factory", "credentials", "region"),
}


def tamper_signature(token: str) -> str:
    """A JWT with one byte in the middle of its signature flipped (the base64url stays canonical):
    what ``mint_bad_signature`` usually returns. ``ValueError`` when ``token`` is not a signed JWT."""
    head, dot, sig = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))) if dot and head else bytearray()
    if not raw:
        raise ValueError("not a signed JWT (header.payload.signature)")
    raw[len(raw) // 2] ^= 0x55
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


class KitError(Exception):
    """A factory spec that cannot be loaded or a factory that returns no usable kit."""


def load_factory(spec: str) -> Callable[[], Any]:
    """``"pkg.module:function"`` (the function may be dotted: ``module:Class.method``) -> callable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise KitError(f"{spec!r} is not of the form 'module:function'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise KitError(
            f"cannot import {module_name!r} ({exc}); install it, or run 'python -m pytest' from the "
            "directory that holds it"
        ) from exc
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise KitError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(target):
        raise KitError(f"{spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def _check(kit: Any, kind: type[K], spec: str) -> K:
    missing = [name for name in REQUIRED[kind] if not hasattr(kit, name)]
    if missing:
        raise KitError(
            f"{spec} returned {type(kit).__name__}, which lacks {', '.join(missing)}: "
            f"return a cwmcp.contract.kits.{kind.__name__}"
        )
    return kit  # type: ignore[no-any-return]


@contextmanager
def open_kit(factory: Callable[[], Any], kind: type[K], spec: str = "the factory") -> Iterator[K]:
    """Call ``factory`` and yield its kit; a context manager or generator it returns is closed after."""
    made = factory()
    with ExitStack() as stack:
        if isinstance(made, Generator):
            made = stack.enter_context(contextmanager(lambda: made)())
        elif isinstance(made, AbstractContextManager) and not isinstance(made, kind):
            made = stack.enter_context(made)
        yield _check(made, kind, spec)

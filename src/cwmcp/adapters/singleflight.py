"""One in-flight fetch per key: concurrent misses for the same key share a single call.

If the leading caller is cancelled, waiters are not left hanging: the next one takes the lead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

import anyio

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(slots=True)
class _Call(Generic[V]):
    done: anyio.Event = field(default_factory=anyio.Event)
    value: V | None = None
    error: BaseException | None = None
    ok: bool = False


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._calls: dict[K, _Call[V]] = {}

    def in_flight(self, key: K) -> bool:
        return key in self._calls

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        while True:
            call = self._calls.get(key)
            if call is None:
                return await self._lead(key, fetch)
            await call.done.wait()
            if call.ok:
                return cast(V, call.value)
            if call.error is not None:
                raise call.error
            # the leader was cancelled: loop, and this caller may lead

    async def _lead(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        call: _Call[V] = _Call()
        self._calls[key] = call
        try:
            value = await fetch()
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            call.error = exc
            raise
        else:
            call.value, call.ok = value, True
            return value
        finally:
            if self._calls.get(key) is call:
                del self._calls[key]
            call.done.set()

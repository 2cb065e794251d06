"""A ``CredentialBroker`` that remembers: one STS call per user and role per credentials lifetime.

Entries live until ``expires_at - refresh_margin`` (so no tool call starts with credentials about
to expire), in an LRU of ``max_entries``. Concurrent misses for one key share a single fetch, and
failures are never cached: the next call tries again. An inner broker with ``cacheable = False``
(credentials read from the token itself) is passed straight through.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from cwmcp.adapters.singleflight import SingleFlight
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import CredentialBroker

CacheKey = tuple[str, RoleChoice | None]


class CachingBroker:
    """Implements ``CredentialBroker`` around ``inner``. ``fetches`` counts calls to ``inner``."""

    def __init__(
        self,
        inner: CredentialBroker,
        refresh_margin: float = 300.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.refresh_margin = refresh_margin
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[CacheKey, AwsCredentials] = OrderedDict()
        self._flight: SingleFlight[CacheKey, AwsCredentials] = SingleFlight()
        self.fetches = 0
        self._passthrough = not getattr(inner, "cacheable", True)

    def __len__(self) -> int:
        return len(self._entries)

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        if self._passthrough:
            self.fetches += 1
            return await self.inner.credentials(identity, role)
        key: CacheKey = (identity.key, role)
        found = self._fresh(key)
        if found is not None:
            return found

        async def fetch() -> AwsCredentials:
            again = self._fresh(key)  # another leader may have filled it while we queued
            if again is not None:
                return again
            self.fetches += 1
            creds = await self.inner.credentials(identity, role)
            self._store(key, creds)
            return creds

        return await self._flight.run(key, fetch)

    def forget(self, identity: Identity, role: RoleChoice | None = None) -> None:
        """Drop cached credentials (e.g. after AWS says they were revoked)."""
        self._entries.pop((identity.key, role), None)

    def _fresh(self, key: CacheKey) -> AwsCredentials | None:
        creds = self._entries.get(key)
        if creds is None:
            return None
        if not creds.fresh_at(self._clock(), self.refresh_margin):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return creds

    def _store(self, key: CacheKey, creds: AwsCredentials) -> None:
        if not creds.fresh_at(self._clock(), self.refresh_margin):
            return  # too short-lived to be worth keeping: the next call fetches again
        self._entries[key] = creds
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

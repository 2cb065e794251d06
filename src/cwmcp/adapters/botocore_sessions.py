"""The ``SessionFactory`` adapter: one shared botocore session, a bounded cache of clients.

A fresh botocore session costs ~120 ms (it loads service models); a client from a shared session
~5-8 ms; a cached one nothing. So there is exactly one session, made lazily in a worker thread,
and clients are cached per (credentials, service, region) in an LRU. The cache key holds the
access key id and a SHA-256 of the secret parts, never the secret itself.

``endpoint_url`` is never passed: botocore's own ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>`` settings keep working.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any

import anyio
import anyio.to_thread
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config

from cwmcp._version import __version__
from cwmcp.adapters.botocore_client import AwsServiceError, BotocoreClient, map_error
from cwmcp.adapters.singleflight import SingleFlight
from cwmcp.domain.credentials import AwsCredentials

__all__ = ["AwsServiceError", "BotocoreClient", "BotocoreSessionFactory", "credentials_fingerprint"]

_AMBIENT = ("", "ambient")
_UNSIGNED = ("", "unsigned")
ClientKey = tuple[str, str, str, str]


def quiet_botocore_debug() -> None:
    """botocore's DEBUG log prints request and response bodies: web-identity tokens, the credentials
    STS returns. Unless someone set botocore's level on purpose, keep it at INFO even when the
    root logger is at DEBUG."""
    logger = logging.getLogger("botocore")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def credentials_fingerprint(credentials: AwsCredentials) -> tuple[str, str]:
    """(access key id, SHA-256 of secret and session token): safe to keep in a dict key or a log."""
    digest = hashlib.sha256(
        f"{credentials.secret_access_key}\x00{credentials.session_token or ''}".encode()
    ).hexdigest()
    return credentials.access_key_id, digest


class BotocoreSessionFactory:
    """Implements ``SessionFactory``.

    ``max_concurrency`` bounds the worker threads doing AWS calls (one ``CapacityLimiter`` shared
    by every client); ``max_clients`` bounds the client cache. ``credentials=None`` means the
    server's own credentials (botocore's default chain).
    """

    def __init__(
        self,
        max_concurrency: int = 32,
        max_clients: int = 512,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int | None = None,
    ) -> None:
        quiet_botocore_debug()
        self.limiter = anyio.CapacityLimiter(max_concurrency)
        self.max_clients = max_clients
        retries: dict[str, Any] = {"mode": "standard"}
        if max_attempts is not None:
            retries["max_attempts"] = max_attempts
        self._config = Config(
            user_agent_extra=f"cwmcp/{__version__}",
            retries=retries,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max(10, max_concurrency),
        )
        self._session: Any = None
        self._session_lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._clients: OrderedDict[ClientKey, BotocoreClient] = OrderedDict()
        self._creating: SingleFlight[ClientKey, BotocoreClient] = SingleFlight()
        self.created = 0
        """How many botocore clients were built (for tests and benchmarks)."""

    def _get_session(self) -> Any:
        with self._session_lock:
            if self._session is None:
                session = botocore.session.get_session()
                session.get_component("data_loader")  # models are loaded once, shared by every client
                self._session = session
            return self._session

    async def session(self) -> Any:
        """The shared botocore session (created in a worker thread on first use)."""
        if self._session is not None:
            return self._session
        return await anyio.to_thread.run_sync(self._get_session, limiter=self.limiter)

    @property
    def config(self) -> Config:
        return self._config

    async def client(self, service: str, region: str, credentials: AwsCredentials | None) -> BotocoreClient:
        ident = _AMBIENT if credentials is None else credentials_fingerprint(credentials)
        return await self._cached((*ident, service, region), service, region, credentials, unsigned=False)

    async def unsigned_client(self, service: str, region: str) -> BotocoreClient:
        """A client that signs nothing (``AssumeRoleWithWebIdentity``, Cognito ``GetId``...)."""
        return await self._cached((*_UNSIGNED, service, region), service, region, None, unsigned=True)

    def cached(self, service: str, region: str, credentials: AwsCredentials | None) -> BotocoreClient | None:
        """The cached client, if there is one (no I/O, no LRU update)."""
        ident = _AMBIENT if credentials is None else credentials_fingerprint(credentials)
        return self._clients.get((*ident, service, region))

    async def _cached(
        self,
        key: ClientKey,
        service: str,
        region: str,
        credentials: AwsCredentials | None,
        *,
        unsigned: bool,
    ) -> BotocoreClient:
        found = self._clients.get(key)
        if found is not None:
            self._clients.move_to_end(key)
            return found

        async def build() -> BotocoreClient:
            made = await self._build(service, region, credentials, unsigned=unsigned)
            self._clients[key] = made
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            return made

        return await self._creating.run(key, build)

    async def _build(
        self, service: str, region: str, credentials: AwsCredentials | None, *, unsigned: bool
    ) -> BotocoreClient:
        config = self._config.merge(Config(signature_version=UNSIGNED)) if unsigned else self._config
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        secrets: tuple[str, ...] = ()
        if credentials is not None:
            kwargs.update(
                aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
            )
            secrets = tuple(s for s in (credentials.secret_access_key, credentials.session_token) if s)

        def create() -> Any:
            session = self._get_session()
            with self._create_lock:  # a botocore session is not thread-safe; its clients are
                return session.create_client(service, **kwargs)

        try:
            raw = await anyio.to_thread.run_sync(create, limiter=self.limiter)
        except Exception as exc:
            mapped = map_error(exc, service, "CreateClient", secrets)
            if mapped is exc:
                raise
            raise mapped from None
        self.created += 1
        return BotocoreClient(raw, service, region, self.limiter, secrets)

    def __len__(self) -> int:
        return len(self._clients)

"""The ``ambient`` mode: everyone gets the server's own credentials (botocore's default chain).

This is the mode of stdio and of ``ENABLE_AUTH=false``. The role is ignored.

No credentials in the chain raises ``ProviderUnavailable`` (HTTP 503), not ``AccessDenied``: it is
the server that is misconfigured, not the caller who lacks a permission, and a 403 would send
users looking for a grant they cannot fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from botocore.exceptions import BotoCoreError

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import ProviderUnavailable
from cwmcp.domain.identity import Identity

NO_CREDENTIALS = "The server has no AWS credentials (botocore's default chain found none)"
_REUSE_MARGIN = 900.0  # botocore refreshes 15 minutes before expiry; re-read the chain from then on


class AmbientBroker:
    """Implements ``CredentialBroker`` with the server's own credentials, frozen per call."""

    def __init__(self, sessions: BotocoreSessionFactory, clock: Callable[[], float] = time.time) -> None:
        self._sessions = sessions
        self._clock = clock
        self._last: AwsCredentials | None = None

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        last = self._last
        if last is not None and last.fresh_at(self._clock(), _REUSE_MARGIN):
            return last
        session = await self._sessions.session()
        try:
            found = await anyio.to_thread.run_sync(_resolve, session, limiter=self._sessions.limiter)
        except BotoCoreError:
            raise ProviderUnavailable("The server's AWS credentials could not be loaded") from None
        if found is None:
            raise ProviderUnavailable(NO_CREDENTIALS)
        self._last = found
        return found


def _resolve(session: Any) -> AwsCredentials | None:
    """Blocking: walk botocore's chain (env, files, SSO, IMDS...) and freeze what it finds."""
    creds = session.get_credentials()
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    expiry = getattr(creds, "_expiry_time", None)  # set on RefreshableCredentials only
    return AwsCredentials(
        access_key_id=frozen.access_key,
        secret_access_key=frozen.secret_key,
        session_token=frozen.token,
        expires_at=expiry.timestamp() if expiry is not None else None,
    )

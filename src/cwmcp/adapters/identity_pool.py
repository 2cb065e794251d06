"""The ``cognito-identity-pool`` broker: ``GetId`` + ``GetCredentialsForIdentity`` with the user's token.

Both calls are unsigned (Cognito authenticates them by the token in ``Logins``). The pool's role
mapping picks the role, so the role rules are not used here. The IdentityId of each user is
cached: it never changes for a user, and it saves one round trip per credentials refresh.
"""

from __future__ import annotations

from collections import OrderedDict

from cwmcp.adapters.botocore_client import AwsServiceError
from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.broker_errors import broker_error
from cwmcp.adapters.sts import aws_credentials
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import InvalidToken
from cwmcp.domain.identity import Identity

_CREDS = "GetCredentialsForIdentity"


def provider_name(user_pool: str, region: str) -> str:
    """``cognito-idp.<region>.amazonaws.com/<pool>``; a bare pool id takes its region from its prefix."""
    if user_pool.startswith("cognito-idp."):
        return user_pool
    pool_region = user_pool.split("_", 1)[0] if "_" in user_pool else region
    return f"cognito-idp.{pool_region}.amazonaws.com/{user_pool}"


class IdentityPoolBroker:
    """Implements ``CredentialBroker`` through a Cognito identity pool.

    ``user_pool_provider`` is the user pool id (``us-east-1_AbC``) or the full provider name.
    """

    def __init__(
        self,
        sessions: BotocoreSessionFactory,
        identity_pool_id: str,
        region: str,
        user_pool_provider: str,
        *,
        max_ids: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self.identity_pool_id = identity_pool_id
        self.region = region
        self.provider = provider_name(user_pool_provider, region)
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._max_ids = max_ids

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        if not identity.token:
            raise InvalidToken("No token to exchange for AWS credentials")
        logins = {self.provider: identity.token}
        denied = f"The identity pool {self.identity_pool_id} refused your token"
        try:
            cognito = await self._sessions.unsigned_client("cognito-identity", self.region)
            identity_id = self._ids.get(identity.key)
            if identity_id is None:
                found = await cognito.call("GetId", IdentityPoolId=self.identity_pool_id, Logins=logins)
                identity_id = str(found["IdentityId"])
                self._remember(identity.key, identity_id)
            try:
                result = await cognito.call(
                    "GetCredentialsForIdentity", IdentityId=identity_id, Logins=logins
                )
            except AwsServiceError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                self._ids.pop(identity.key, None)  # the identity was deleted: get a new id, once
                found = await cognito.call("GetId", IdentityPoolId=self.identity_pool_id, Logins=logins)
                identity_id = str(found["IdentityId"])
                self._remember(identity.key, identity_id)
                result = await cognito.call(
                    "GetCredentialsForIdentity", IdentityId=identity_id, Logins=logins
                )
        except Exception as exc:
            raise broker_error(exc, "Cognito Identity", denied) from None
        return aws_credentials(result.get("Credentials") or {}, "Cognito Identity")

    def _remember(self, key: str, identity_id: str) -> None:
        self._ids[key] = identity_id
        self._ids.move_to_end(key)
        while len(self._ids) > self._max_ids:
            self._ids.popitem(last=False)

"""The ``identity-center`` broker: trusted identity propagation.

1. ``sso-oidc CreateTokenWithIAM`` (JWT bearer grant) exchanges the caller's token, from a trusted
   token issuer, for an Identity Center token (signed with the server's credentials).
2. The returned ``idToken`` carries ``sts:identity_context``.
3. ``sts:AssumeRole`` with that context in ``ProvidedContexts``: the session is the user's own in
   CloudTrail and in services that understand Identity Center users.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.broker_errors import broker_error
from cwmcp.adapters.sts import aws_credentials, require_role
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AccessDenied, InvalidToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.session_names import session_name

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CONTEXT_PROVIDER = "arn:aws:iam::aws:contextProvider/IdentityCenter"
CONTEXT_CLAIM = "sts:identity_context"


def unverified_payload(jwt: str) -> dict[str, Any]:
    """The payload of a JWT, NOT verified.

    Only for the ``idToken`` that ``CreateTokenWithIAM`` returns: it comes straight from AWS over
    TLS in the response to our own signed request, so there is nobody to verify it against. Never
    use this on a token a client sent.
    """
    try:
        body = jwt.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise ProviderUnavailable("Identity Center returned an unreadable idToken") from None
    if not isinstance(data, dict):
        raise ProviderUnavailable("Identity Center returned an unreadable idToken")
    return data


class IdentityCenterBroker:
    """Implements ``CredentialBroker`` with Identity Center trusted identity propagation.

    ``client_id`` is the Identity Center application ARN (or id) whose JWT bearer grant trusts the
    token issuer.
    """

    def __init__(
        self,
        sessions: BotocoreSessionFactory,
        client_id: str,
        region: str,
        duration_seconds: int = 3600,
    ) -> None:
        self._sessions = sessions
        self.client_id = client_id
        self.region = region
        self.duration_seconds = duration_seconds

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        chosen = require_role(role)
        context = await self._identity_context(identity)
        try:
            sts = await self._sessions.client("sts", self.region, None)
            result = await sts.call(
                "AssumeRole",
                RoleArn=chosen.role_arn,
                RoleSessionName=session_name(identity),
                DurationSeconds=self.duration_seconds,
                ProvidedContexts=[{"ProviderArn": CONTEXT_PROVIDER, "ContextAssertion": context}],
            )
        except Exception as exc:
            raise broker_error(exc, "STS", f"Not allowed to assume role {chosen.role_arn}") from None
        return aws_credentials(result.get("Credentials") or {}, "STS")

    async def _identity_context(self, identity: Identity) -> str:
        if not identity.token:
            raise InvalidToken("No token to exchange for AWS credentials")
        try:
            oidc = await self._sessions.client("sso-oidc", self.region, None)
            result = await oidc.call(
                "CreateTokenWithIAM", clientId=self.client_id, grantType=JWT_BEARER, assertion=identity.token
            )
        except Exception as exc:
            denied = f"Identity Center application {self.client_id} refused the token exchange"
            raise broker_error(exc, "Identity Center", denied) from None
        id_token = result.get("idToken")
        if not isinstance(id_token, str):
            raise ProviderUnavailable("Identity Center returned no idToken")
        context = unverified_payload(id_token).get(CONTEXT_CLAIM)
        if not isinstance(context, str) or not context:
            raise AccessDenied(
                f"Identity Center gave no '{CONTEXT_CLAIM}'; "
                f"allow that scope for application {self.client_id}"
            )
        return context

"""STS brokers: ``assume-role`` (the server assumes the user's role) and ``web-identity``.

Session names come from the user's email (else ``sub``), so CloudTrail shows who did what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.broker_errors import broker_error
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.errors import AccessDenied, InvalidToken, ProviderUnavailable
from cwmcp.domain.identity import Identity
from cwmcp.domain.session_names import session_name

NO_ROLE = "No role is configured for you; ask an administrator to add one to the role rules"


def aws_credentials(raw: dict[str, Any], service: str) -> AwsCredentials:
    """STS's or Cognito's ``Credentials`` structure as ``AwsCredentials``."""
    try:
        expiration = raw.get("Expiration")
        expires_at = expiration.timestamp() if isinstance(expiration, datetime) else None
        return AwsCredentials(
            access_key_id=raw["AccessKeyId"],
            secret_access_key=raw.get("SecretAccessKey") or raw["SecretKey"],
            session_token=raw.get("SessionToken"),
            expires_at=expires_at,
        )
    except (KeyError, TypeError, AttributeError):
        raise ProviderUnavailable(f"{service} returned no usable credentials") from None


def require_role(role: RoleChoice | None) -> RoleChoice:
    if role is None:
        raise AccessDenied(NO_ROLE)
    return role


class AssumeRoleBroker:
    """Implements ``CredentialBroker``: ``sts:AssumeRole`` with the server's own credentials.

    ``SourceIdentity`` is set too (the role's trust policy must allow ``sts:SetSourceIdentity``);
    ``source_identity=False`` leaves it out.
    """

    def __init__(
        self,
        sessions: BotocoreSessionFactory,
        duration_seconds: int = 3600,
        *,
        region: str = "us-east-1",
        source_identity: bool = True,
    ) -> None:
        self._sessions = sessions
        self.duration_seconds = duration_seconds
        self.region = region
        self.source_identity = source_identity

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        chosen = require_role(role)
        name = session_name(identity)
        params: dict[str, Any] = {
            "RoleArn": chosen.role_arn,
            "RoleSessionName": name,
            "DurationSeconds": self.duration_seconds,
        }
        if self.source_identity:
            params["SourceIdentity"] = name
        try:
            sts = await self._sessions.client("sts", self.region, None)
            result = await sts.call("AssumeRole", **params)
        except Exception as exc:
            raise broker_error(exc, "STS", f"Not allowed to assume role {chosen.role_arn}") from None
        return aws_credentials(result.get("Credentials") or {}, "STS")


class WebIdentityBroker:
    """Implements ``CredentialBroker``: ``sts:AssumeRoleWithWebIdentity`` with the caller's token.

    The call is unsigned: it needs no server credentials, only the role's OIDC trust.
    """

    def __init__(
        self, sessions: BotocoreSessionFactory, duration_seconds: int = 3600, *, region: str = "us-east-1"
    ) -> None:
        self._sessions = sessions
        self.duration_seconds = duration_seconds
        self.region = region

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        chosen = require_role(role)
        if not identity.token:
            raise InvalidToken("No token to exchange for AWS credentials")
        try:
            sts = await self._sessions.unsigned_client("sts", self.region)
            result = await sts.call(
                "AssumeRoleWithWebIdentity",
                RoleArn=chosen.role_arn,
                RoleSessionName=session_name(identity),
                WebIdentityToken=identity.token,
                DurationSeconds=self.duration_seconds,
            )
        except Exception as exc:
            raise broker_error(exc, "STS", f"Not allowed to assume role {chosen.role_arn}") from None
        return aws_credentials(result.get("Credentials") or {}, "STS")

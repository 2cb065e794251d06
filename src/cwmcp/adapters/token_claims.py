"""The ``token-claims`` broker: the token itself carries the AWS credentials. No I/O at all.

``cacheable = False`` tells ``CachingBroker`` to pass calls straight through: there is nothing to
save, and a cache keyed by user would keep serving the credentials of an older token.
"""

from __future__ import annotations

from cwmcp.domain.claim_credentials import CLAIM_NAMES, credentials_from_claims, missing_claims
from cwmcp.domain.credentials import AwsCredentials, RoleChoice
from cwmcp.domain.identity import Identity

__all__ = ["CLAIM_NAMES", "TokenClaimsBroker", "missing_claims"]


class TokenClaimsBroker:
    """Implements ``CredentialBroker`` from the claims ``aws_access_key_id``,
    ``aws_secret_access_key`` and ``aws_session_token``; the role is not used."""

    cacheable = False
    missing_claims = staticmethod(missing_claims)

    async def credentials(self, identity: Identity, role: RoleChoice | None) -> AwsCredentials:
        return credentials_from_claims(identity)

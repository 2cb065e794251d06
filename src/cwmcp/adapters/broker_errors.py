"""AWS failures met while getting credentials, as the refusals the ``CredentialBroker`` port allows.

Brokers raise only ``AccessDenied``, ``InvalidToken`` or ``ProviderUnavailable``. Descriptions name
the role and the AWS error code but never repeat AWS's message: a validation message can echo the
caller's token back.
"""

from __future__ import annotations

from cwmcp.adapters.botocore_client import AwsServiceError
from cwmcp.domain.errors import AccessDenied, AuthError, AwsCallError, InvalidToken, ProviderUnavailable

TOKEN_REJECTED = frozenset(
    {
        "InvalidIdentityToken",
        "ExpiredTokenException",
        "ExpiredToken",
        "IDPRejectedClaim",
        "InvalidGrantException",
        "InvalidRequestException",
        "NotAuthorizedException",
    }
)
SERVER_CREDENTIALS_REJECTED = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "IncompleteSignature"}
)
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDownException",
        "IDPCommunicationError",
        "InternalServerException",
        "InternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "ExternalServiceException",
    }
)


def broker_error(exc: Exception, service: str, denied: str) -> AuthError:
    """``exc`` from an AWS call as a refusal; ``denied`` says what was refused (e.g. the role)."""
    if isinstance(exc, AuthError):
        return exc
    if not isinstance(exc, AwsCallError):
        return ProviderUnavailable(f"{service} failed unexpectedly ({type(exc).__name__})")
    code = exc.code
    status = exc.status if isinstance(exc, AwsServiceError) else None
    if code == "NoCredentials":
        return ProviderUnavailable(f"The server has no AWS credentials to call {service}")
    if code in SERVER_CREDENTIALS_REJECTED:
        return ProviderUnavailable(f"{service} rejected the server's own AWS credentials ({code})")
    if code in TOKEN_REJECTED:
        return InvalidToken(f"{service} rejected the token ({code})")
    if code in THROTTLED or (status is not None and status >= 500):
        return ProviderUnavailable(f"{service} is busy or failing ({code}); retry shortly")
    return AccessDenied(f"{denied} ({code})")

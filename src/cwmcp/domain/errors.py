"""Typed refusals. Each one carries a short, token-free description and maps to one HTTP shape."""

from __future__ import annotations

from enum import Enum


class Refusal(Enum):
    MISSING_TOKEN = "missing_token"
    INVALID_REQUEST = "invalid_request"
    INVALID_TOKEN = "invalid_token"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    ACCESS_DENIED = "access_denied"
    UNAVAILABLE = "temporarily_unavailable"


class AuthError(Exception):
    """Base of every refusal. ``description`` is safe to show: it never contains the token."""

    refusal: Refusal = Refusal.INVALID_TOKEN

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class MissingToken(AuthError):
    refusal = Refusal.MISSING_TOKEN


class InvalidRequest(AuthError):
    refusal = Refusal.INVALID_REQUEST


class InvalidToken(AuthError):
    refusal = Refusal.INVALID_TOKEN


class InsufficientScope(AuthError):
    refusal = Refusal.INSUFFICIENT_SCOPE

    def __init__(self, description: str, required: tuple[str, ...]) -> None:
        super().__init__(description)
        self.required = required


class AccessDenied(AuthError):
    refusal = Refusal.ACCESS_DENIED


class ProviderUnavailable(AuthError):
    """The identity provider or STS could not be reached; the caller should retry later."""

    refusal = Refusal.UNAVAILABLE

    def __init__(self, description: str, retry_after: int = 5) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class ConfigurationError(Exception):
    """Bad settings, found at start. ``problems`` lists every one, so users fix them in one go."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"cwmcp configuration is invalid:\n{lines}")


class AwsCallError(Exception):
    """An AWS call failed. ``code`` is the AWS error code; ``message`` is plain text for users."""

    def __init__(self, code: str, message: str, operation: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation

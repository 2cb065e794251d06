"""Temporary AWS credentials for one user; the secret parts never reach ``repr`` or logs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    """Epoch seconds; ``None`` for credentials that do not expire (ambient, static keys)."""

    def fresh_at(self, now: float, margin: float) -> bool:
        """True while the credentials stay valid for at least ``margin`` seconds after ``now``."""
        return self.expires_at is None or self.expires_at - margin > now


@dataclass(frozen=True, slots=True)
class RoleChoice:
    """A role a user may assume, with the account alias tools name it by."""

    role_arn: str
    account: str = "default"

    @property
    def account_id(self) -> str:
        parts = self.role_arn.split(":")
        return parts[4] if len(parts) > 4 else ""

"""STS session names that tell CloudTrail who did what."""

from __future__ import annotations

import re

from cwmcp.domain.identity import Identity

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_+=,.@-]")
MAX_LEN = 64


def sanitise(value: str) -> str:
    """Map to STS's ``[\\w+=,.@-]{2,64}``: other characters become ``-``; too short gets a prefix."""
    cleaned = _NOT_ALLOWED.sub("-", value)[:MAX_LEN]
    if len(cleaned) < 2:
        cleaned = ("cwmcp-" + cleaned)[:MAX_LEN]
    return cleaned


def session_name(identity: Identity) -> str:
    """The user's email, else ``sub``, made safe for ``RoleSessionName`` and ``SourceIdentity``."""
    return sanitise(identity.email or identity.subject)

"""Reads ``AWS_ROLE_RULES_FILE`` (YAML or JSON, by extension) into ``RoleRules``.

The file is read once, at start; every problem becomes a ``ConfigurationError`` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cwmcp.domain.errors import ConfigurationError
from cwmcp.domain.roles import RoleRules, parse_role_rules

_YAML = (".yaml", ".yml")
_JSON = (".json",)


def load_role_rules(path: str | Path, default_role: str | None = None) -> RoleRules:
    """Parse the rules file at ``path``; ``default_role`` (``AWS_CLOUDWATCH_ROLE_ARN``) wins over
    the file's own ``default_role``."""
    where = f"AWS_ROLE_RULES_FILE {str(path)!r}"
    suffix = Path(path).suffix.lower()
    if suffix not in _YAML + _JSON:
        raise ConfigurationError([f"{where}: unknown file type; use .yaml, .yml or .json"])
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            [f"{where}: cannot be read ({exc.strerror or type(exc).__name__})"]
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError([f"{where}: is not UTF-8 text"]) from None
    data: Any
    try:
        data = yaml.safe_load(text) if suffix in _YAML else json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        kind = "YAML" if suffix in _YAML else "JSON"
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigurationError([f"{where}: invalid {kind}: {detail}"]) from None
    try:
        return parse_role_rules(data, default_role)
    except ConfigurationError as exc:
        raise ConfigurationError([f"{where}: {p}" for p in exc.problems]) from None

"""Role rules: which roles (and account aliases) a verified user may use. Pure.

A rules document (YAML or JSON, loaded elsewhere) looks like::

    rules:
      - when: {groups: [sre]}                     # any of these groups
        roles:
          - {account: saas, role_arn: "arn:aws:iam::111111111111:role/cw-read"}
          - {account: ascops, role_arn: "arn:aws:iam::222222222222:role/cw-read"}
      - when: {email_domain: example.com, claims: {"custom:team": [ops, dev]}}
        roles: [{account: saas, role_arn: "arn:aws:iam::111111111111:role/cw-logs"}]
    claim_role:                                   # optional: a role ARN carried in a claim
      claim: "custom:role_arn"
      account: default
      allow: ["arn:aws:iam::111111111111:role/cw-*"]

Every condition in ``when`` must hold (an empty ``when`` matches everyone). The default role
(``AWS_CLOUDWATCH_ROLE_ARN``) applies to users no rule gives a role.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AccessDenied, ConfigurationError
from cwmcp.domain.identity import Identity


@dataclass(frozen=True, slots=True)
class Condition:
    groups: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    claims: tuple[tuple[str, frozenset[str]], ...] = ()

    def holds(self, identity: Identity) -> bool:
        if self.groups and not self.groups.intersection(identity.groups):
            return False
        if self.email_domains:
            domain = (identity.email or "").rpartition("@")[2].lower()
            if domain not in self.email_domains:
                return False
        for name, allowed in self.claims:
            value = identity.claims.get(name)
            values = value if isinstance(value, list | tuple) else [value]
            if not any(str(v) in allowed for v in values if v is not None):
                return False
        return True


@dataclass(frozen=True, slots=True)
class RoleRule:
    when: Condition
    roles: tuple[RoleChoice, ...]


@dataclass(frozen=True, slots=True)
class ClaimRole:
    claim: str
    allow: tuple[str, ...]
    account: str = "default"


@dataclass(frozen=True, slots=True)
class RoleRules:
    rules: tuple[RoleRule, ...] = ()
    default_role: str | None = None
    claim_role: ClaimRole | None = None

    @property
    def empty(self) -> bool:
        return not self.rules and self.default_role is None and self.claim_role is None


def roles_for(identity: Identity, rules: RoleRules) -> tuple[RoleChoice, ...]:
    """The roles ``identity`` may use, in rule order, without duplicates."""
    found: dict[tuple[str, str], RoleChoice] = {}
    for rule in rules.rules:
        if rule.when.holds(identity):
            for role in rule.roles:
                found.setdefault((role.account, role.role_arn), role)
    cr = rules.claim_role
    if cr is not None:
        arn = identity.claims.get(cr.claim)
        if isinstance(arn, str) and any(fnmatch.fnmatchcase(arn, p) for p in cr.allow):
            found.setdefault((cr.account, arn), RoleChoice(arn, cr.account))
    if not found and rules.default_role:
        return (RoleChoice(rules.default_role),)
    return tuple(found.values())


def choose_role(roles: tuple[RoleChoice, ...], account: str | None) -> RoleChoice | None:
    """The role for ``account`` (an alias), else the first one; ``None`` when there are no roles."""
    if account is None:
        return roles[0] if roles else None
    for role in roles:
        if role.account == account:
            return role
    allowed = ", ".join(sorted({r.account for r in roles})) or "none"
    raise AccessDenied(f"No role for account '{account}'; accounts you may use: {allowed}")


def _strings(value: Any, where: str, problems: list[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return frozenset(str(v) for v in value)
    problems.append(f"{where}: expected a string or a list of strings")
    return frozenset()


def _condition(raw: Any, where: str, problems: list[str]) -> Condition:
    if raw is None:
        return Condition()
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: 'when' must be a mapping")
        return Condition()
    unknown = set(raw) - {"groups", "email_domain", "claims"}
    if unknown:
        problems.append(f"{where}: unknown condition(s) {sorted(unknown)}")
    claims = raw.get("claims") or {}
    if not isinstance(claims, Mapping):
        problems.append(f"{where}.claims: expected a mapping of claim -> value(s)")
        claims = {}
    return Condition(
        groups=_strings(raw["groups"], f"{where}.groups", problems) if "groups" in raw else frozenset(),
        email_domains=frozenset(
            d.lower() for d in _strings(raw["email_domain"], f"{where}.email_domain", problems)
        )
        if "email_domain" in raw
        else frozenset(),
        claims=tuple(
            (str(k), _strings(v, f"{where}.claims.{k}", problems)) for k, v in sorted(claims.items())
        ),
    )


def _role(raw: Any, where: str, problems: list[str]) -> RoleChoice | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("role_arn"), str):
        problems.append(f"{where}: expected {{account: ALIAS, role_arn: ARN}}")
        return None
    arn = raw["role_arn"]
    if not arn.startswith("arn:aws") or ":role/" not in arn:
        problems.append(f"{where}: '{arn}' is not an IAM role ARN")
    return RoleChoice(arn, str(raw.get("account", "default")))


def parse_role_rules(data: Any, default_role: str | None = None) -> RoleRules:
    """Validate a rules document; raise ``ConfigurationError`` listing every problem."""
    problems: list[str] = []
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigurationError(["role rules: the document must be a mapping with 'rules'"])
    rules: list[RoleRule] = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append("role rules: 'rules' must be a list")
        raw_rules = []
    for i, raw in enumerate(raw_rules):
        where = f"role rules: rules[{i}]"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: expected a mapping with 'when' and 'roles'")
            continue
        roles_raw = raw.get("roles")
        if not isinstance(roles_raw, list) or not roles_raw:
            problems.append(f"{where}.roles: expected a non-empty list")
            roles_raw = []
        roles = [_role(r, f"{where}.roles[{j}]", problems) for j, r in enumerate(roles_raw)]
        cond = _condition(raw.get("when"), f"{where}.when", problems)
        rules.append(RoleRule(cond, tuple(r for r in roles if r is not None)))
    claim_role = None
    cr = data.get("claim_role")
    if cr is not None:
        if not isinstance(cr, Mapping) or not isinstance(cr.get("claim"), str):
            problems.append("role rules: claim_role needs 'claim' and 'allow'")
        else:
            allow = _strings(cr.get("allow"), "role rules: claim_role.allow", problems)
            if not allow:
                problems.append("role rules: claim_role.allow must list at least one ARN pattern")
            claim_role = ClaimRole(cr["claim"], tuple(sorted(allow)), str(cr.get("account", "default")))
    if problems:
        raise ConfigurationError(problems)
    return RoleRules(tuple(rules), default_role or data.get("default_role"), claim_role)

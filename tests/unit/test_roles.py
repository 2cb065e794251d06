"""Role rules: which roles a user may use, and how the rules document is validated."""

from __future__ import annotations

from typing import Any

import pytest

from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AccessDenied, ConfigurationError
from cwmcp.domain.identity import Identity
from cwmcp.domain.roles import RoleRules, choose_role, parse_role_rules, roles_for

SAAS = "arn:aws:iam::111111111111:role/cw-read"
OPS = "arn:aws:iam::222222222222:role/cw-read"
LOGS = "arn:aws:iam::111111111111:role/cw-logs"
DEFAULT = "arn:aws:iam::333333333333:role/cw-default"

DOC: dict[str, Any] = {
    "rules": [
        {
            "when": {"groups": ["sre"]},
            "roles": [{"account": "saas", "role_arn": SAAS}, {"account": "ops", "role_arn": OPS}],
        },
        {
            "when": {"email_domain": "Example.com", "claims": {"custom:team": ["ops", "dev"]}},
            "roles": [{"account": "saas", "role_arn": LOGS}],
        },
    ],
    "claim_role": {
        "claim": "custom:role_arn",
        "account": "own",
        "allow": ["arn:aws:iam::111111111111:role/cw-*"],
    },
}


def who(email: str | None = None, groups: tuple[str, ...] = (), **claims: Any) -> Identity:
    return Identity(subject="u1", issuer="https://i.test", email=email, groups=groups, claims=claims)


def test_group_rule_gives_its_roles_in_order() -> None:
    roles = roles_for(who(groups=("sre",)), parse_role_rules(DOC))
    assert roles == (RoleChoice(SAAS, "saas"), RoleChoice(OPS, "ops"))


def test_every_condition_of_a_rule_must_hold() -> None:
    rules = parse_role_rules(DOC)
    assert roles_for(who("a@example.com", **{"custom:team": "dev"}), rules) == (RoleChoice(LOGS, "saas"),)
    assert roles_for(who("a@example.com", **{"custom:team": "hr"}), rules) == ()
    assert roles_for(who("a@other.com", **{"custom:team": "dev"}), rules) == ()


def test_email_domain_is_case_insensitive_and_claims_may_be_lists() -> None:
    rules = parse_role_rules(DOC)
    assert roles_for(who("a@EXAMPLE.COM", **{"custom:team": ["x", "ops"]}), rules) == (
        RoleChoice(LOGS, "saas"),
    )


def test_rules_add_up_without_duplicates() -> None:
    rules = parse_role_rules({"rules": [*DOC["rules"], DOC["rules"][0]]})
    roles = roles_for(who("a@example.com", ("sre",), **{"custom:team": "ops"}), rules)
    assert roles == (RoleChoice(SAAS, "saas"), RoleChoice(OPS, "ops"), RoleChoice(LOGS, "saas"))


def test_claim_role_only_when_allowed() -> None:
    rules = parse_role_rules(DOC)
    allowed = "arn:aws:iam::111111111111:role/cw-special"
    assert roles_for(who(**{"custom:role_arn": allowed}), rules) == (RoleChoice(allowed, "own"),)
    assert roles_for(who(**{"custom:role_arn": "arn:aws:iam::999999999999:role/admin"}), rules) == ()


def test_default_role_only_for_users_no_rule_matches() -> None:
    rules = parse_role_rules(DOC, DEFAULT)
    assert roles_for(who(), rules) == (RoleChoice(DEFAULT),)
    assert RoleChoice(DEFAULT) not in roles_for(who(groups=("sre",)), rules)


def test_empty_when_matches_everyone() -> None:
    rules = parse_role_rules({"rules": [{"roles": [{"role_arn": SAAS}]}]})
    assert roles_for(who(), rules) == (RoleChoice(SAAS, "default"),)


def test_no_rules_no_default_means_no_role() -> None:
    assert RoleRules().empty
    assert roles_for(who(), RoleRules()) == ()


def test_choose_role_by_alias_or_first() -> None:
    roles = (RoleChoice(SAAS, "saas"), RoleChoice(OPS, "ops"))
    assert choose_role(roles, None) == roles[0]
    assert choose_role(roles, "ops") == roles[1]
    assert choose_role((), None) is None


def test_choose_unknown_alias_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(AccessDenied) as caught:
        choose_role((RoleChoice(SAAS, "saas"), RoleChoice(OPS, "ops")), "prod")
    assert "'prod'" in caught.value.description
    assert "ops, saas" in caught.value.description


def test_account_id_from_arn() -> None:
    assert RoleChoice(OPS, "ops").account_id == "222222222222"


def test_every_problem_is_listed_at_once() -> None:
    bad = {
        "rules": [
            {"when": {"group": ["x"]}, "roles": [{"role_arn": "not-an-arn"}]},
            {"when": {}, "roles": []},
            "nope",
        ],
        "claim_role": {"claim": "c", "allow": []},
    }
    with pytest.raises(ConfigurationError) as caught:
        parse_role_rules(bad)
    text = "\n".join(caught.value.problems)
    assert "unknown condition" in text
    assert "'not-an-arn' is not an IAM role ARN" in text
    assert "rules[1].roles: expected a non-empty list" in text
    assert "rules[2]" in text
    assert "claim_role.allow" in text
    assert len(caught.value.problems) >= 5


@pytest.mark.parametrize("doc", [[], "rules", 3])
def test_document_must_be_a_mapping(doc: Any) -> None:
    with pytest.raises(ConfigurationError):
        parse_role_rules(doc)


def test_none_document_is_empty_rules_with_default() -> None:
    rules = parse_role_rules(None, DEFAULT)
    assert rules.rules == ()
    assert rules.default_role == DEFAULT

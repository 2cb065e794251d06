"""load_role_rules: the rules file on disk (real files in a temporary directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cwmcp.adapters.role_rules_file import load_role_rules
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import ConfigurationError
from cwmcp.domain.identity import Identity
from cwmcp.domain.roles import roles_for

ARN = "arn:aws:iam::111111111111:role/cw-read"
YAML = f"""
rules:
  - when: {{groups: [sre]}}
    roles:
      - {{account: saas, role_arn: "{ARN}"}}
"""
SRE = Identity(subject="u", issuer="https://i.test", groups=("sre",))


@pytest.mark.parametrize("name", ["rules.yaml", "rules.yml", "RULES.YAML"])
def test_yaml(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(YAML)
    assert roles_for(SRE, load_role_rules(path)) == (RoleChoice(ARN, "saas"),)


def test_json_and_default_role(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [], "default_role": "arn:aws:iam::1:role/from-file"}))
    assert load_role_rules(path).default_role == "arn:aws:iam::1:role/from-file"
    assert load_role_rules(str(path), "arn:aws:iam::2:role/env").default_role == "arn:aws:iam::2:role/env"


def one_problem(path: Path | str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_role_rules(path)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def test_missing_file(tmp_path: Path) -> None:
    problem = one_problem(tmp_path / "nope.yaml")
    assert "AWS_ROLE_RULES_FILE" in problem
    assert "nope.yaml" in problem
    assert "cannot be read" in problem


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("x = 1")
    assert "use .yaml, .yml or .json" in one_problem(path)


@pytest.mark.parametrize(
    ("name", "text", "kind"), [("r.yaml", "rules: [\n", "YAML"), ("r.json", "{", "JSON")]
)
def test_syntax_errors(tmp_path: Path, name: str, text: str, kind: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert f"invalid {kind}" in one_problem(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules: !!python/object/apply:os.system ['true']\n")
    assert "invalid YAML" in one_problem(path)


def test_rule_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n  - when: {groups: [a]}\n    roles: [{role_arn: nope}]\n  - roles: []\n")
    with pytest.raises(ConfigurationError) as caught:
        load_role_rules(path)
    assert len(caught.value.problems) == 2
    assert all(str(path) in p for p in caught.value.problems)

"""Settings from the environment: aliases, defaults, inference, and one error listing every problem."""

from __future__ import annotations

import pytest

from cwmcp.domain.errors import ConfigurationError
from cwmcp.entrypoints.settings import load_settings

BASE = {
    "OAUTH_ISSUER": "https://idp.example.com",
    "OAUTH_AUDIENCE": "cwmcp",
    "AWS_CREDENTIALS_MODE": "ambient",
}


def test_defaults() -> None:
    s = load_settings(BASE)
    assert s.enable_auth and s.algorithms == ("RS256",) and s.leeway == 60
    assert s.auth_header == "authorization" and s.port == 3334 and s.host == "127.0.0.1"
    assert s.region == "us-east-1" and s.session_duration == 3600


def test_aliases_and_lists() -> None:
    s = load_settings(
        {
            "OIDC_ISSUER": "https://idp.example.com",
            "OIDC_CLIENT_ID": "a, b",
            "OAUTH_REQUIRED_SCOPES": "x,y",
            "AWS_CREDENTIALS_MODE": "ambient",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert s.issuer == "https://idp.example.com" and s.audiences == ("a", "b")
    assert s.required_scopes == ("x", "y") and s.region == "eu-west-1"
    s = load_settings({**BASE, "OAUTH_ISSUER": "", "AWS_IDENTITY_CENTER_ISSUER": "https://idc.example.com"})
    assert s.issuer == "https://idc.example.com"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(
            {
                "ENABLE_AUTH": "true",
                "OAUTH_ALGORITHMS": "HS256",
                "OAUTH_LEEWAY_SECONDS": "soon",
                "AWS_CREDENTIALS_MODE": "magic",
            }
        )
    text = str(err.value)
    assert "ENABLE_AUTH=true but OAUTH_ISSUER is not set" in text
    assert "HS256" in text and "OAUTH_LEEWAY_SECONDS" in text and "magic" in text
    assert len(err.value.problems) >= 4


def test_audience_is_required_for_oidc_but_not_when_auth_is_off() -> None:
    with pytest.raises(ConfigurationError, match="OAUTH_AUDIENCE is not set"):
        load_settings({"OAUTH_ISSUER": "https://idp.example.com", "AWS_CREDENTIALS_MODE": "ambient"})
    assert load_settings({"ENABLE_AUTH": "false"}).credentials_mode == "ambient"


def test_plain_http_issuer_only_on_loopback() -> None:
    assert load_settings({**BASE, "OAUTH_ISSUER": "http://127.0.0.1:9000"}).issuer == "http://127.0.0.1:9000"
    with pytest.raises(ConfigurationError, match="https"):
        load_settings({**BASE, "OAUTH_ISSUER": "http://idp.example.com"})


def test_cognito_preset() -> None:
    s = load_settings(
        {
            "AWS_COGNITO_USER_POOL_ID": "eu-west-1_abc",
            "AWS_COGNITO_CLIENT_ID": "app",
            "AWS_CREDENTIALS_MODE": "ambient",
        }
    )
    assert s.cognito and s.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert s.cognito_token_use == "access" and s.cognito_client_ids == ("app",)


def test_mode_inference() -> None:
    role = "arn:aws:iam::111111111111:role/cw"
    assert load_settings(
        {**BASE, "AWS_CREDENTIALS_MODE": "", "AWS_CLOUDWATCH_ROLE_ARN": role}
    ).credentials_mode == ("assume-role")
    s = load_settings(
        {
            **BASE,
            "AWS_CREDENTIALS_MODE": "",
            "AWS_COGNITO_IDENTITY_POOL_ID": "us-east-1:x",
            "AWS_COGNITO_USER_POOL_ID": "us-east-1_p",
            "AWS_COGNITO_CLIENT_ID": "c",
        }
    )
    assert s.credentials_mode == "cognito-identity-pool"
    with pytest.raises(ConfigurationError, match="AWS_CREDENTIALS_MODE is not set; choose one of"):
        load_settings({**BASE, "AWS_CREDENTIALS_MODE": ""})


def test_modes_that_need_a_role() -> None:
    with pytest.raises(ConfigurationError, match="needs AWS_CLOUDWATCH_ROLE_ARN or AWS_ROLE_RULES_FILE"):
        load_settings({**BASE, "AWS_CREDENTIALS_MODE": "assume-role"})
    with pytest.raises(ConfigurationError, match="allows only AWS_CREDENTIALS_MODE=ambient"):
        load_settings({"ENABLE_AUTH": "false", "AWS_CREDENTIALS_MODE": "assume-role"})


def test_role_rules_file_problems_join_the_list(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "rules.json"
    path.write_text('{"rules": [{"when": {"groups": ["sre"]}, "roles": [{"role_arn": "not-an-arn"}]}]}')
    with pytest.raises(ConfigurationError) as err:
        load_settings(
            {
                **BASE,
                "AWS_CREDENTIALS_MODE": "assume-role",
                "AWS_ROLE_RULES_FILE": str(path),
                "OAUTH_LEEWAY_SECONDS": "-1",
            }
        )
    assert "not an IAM role ARN" in str(err.value) and "OAUTH_LEEWAY_SECONDS" in str(err.value)

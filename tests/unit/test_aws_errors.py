"""How AWS failures become our errors (pure mapping functions; no AWS involved)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from cwmcp.adapters.botocore_client import AwsServiceError, map_error
from cwmcp.adapters.broker_errors import broker_error
from cwmcp.adapters.identity_center import unverified_payload
from cwmcp.adapters.identity_pool import provider_name
from cwmcp.domain.errors import AccessDenied, AwsCallError, InvalidToken, ProviderUnavailable

MOTO_XML = (
    '<?xml version="1.0"?><ErrorResponse><Error><Code>AccessDenied</Code>'
    "<Message>User: arn:aws:sts::1:assumed-role/r/a is not authorized to perform: "
    "cloudwatch:DescribeAlarms</Message></Error></ErrorResponse>"
)


def client_error(code: str, message: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeAlarms")


def test_client_error_keeps_code_and_message() -> None:
    err = map_error(client_error("ResourceNotFoundException", "no such group", 400), "logs", "describe")
    assert isinstance(err, AwsServiceError)
    assert (err.code, err.message, err.operation, err.status) == (
        "ResourceNotFoundException",
        "no such group",
        "describe",
        400,
    )


def test_moto_xml_403_becomes_access_denied_with_plain_text() -> None:
    err = map_error(client_error("403", MOTO_XML, 403), "cloudwatch", "describe_alarms")
    assert isinstance(err, AwsCallError)
    assert err.code == "AccessDenied"
    assert "<" not in err.message
    assert "not authorized to perform: cloudwatch:DescribeAlarms" in err.message


def test_bare_403_becomes_access_denied() -> None:
    err = map_error(client_error("403", "", 403), "cloudwatch", "describe_alarms")
    assert isinstance(err, AwsCallError)
    assert (err.code, err.message) == ("AccessDenied", "Access denied")


def test_secrets_are_redacted_from_messages() -> None:
    err = map_error(client_error("Bad", "key s3cr3t-value was wrong", 400), "logs", "x", ("s3cr3t-value",))
    assert "s3cr3t-value" not in str(err)


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_unreachable_endpoints(exc: Exception) -> None:
    err = map_error(exc, "sts", "assume_role")
    assert isinstance(err, ProviderUnavailable)
    assert err.description == "AWS sts endpoint unreachable"


def test_no_credentials() -> None:
    err = map_error(NoCredentialsError(), "logs", "describe_log_groups")
    assert isinstance(err, AwsCallError)
    assert err.code == "NoCredentials"


def test_foreign_exceptions_pass_through() -> None:
    exc = RuntimeError("bug")
    assert map_error(exc, "logs", "x") is exc


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("AccessDenied", 403, AccessDenied),
        ("RegionDisabledException", 403, AccessDenied),
        ("InvalidIdentityToken", 400, InvalidToken),
        ("ExpiredTokenException", 400, InvalidToken),
        ("NotAuthorizedException", 400, InvalidToken),
        ("Throttling", 400, ProviderUnavailable),
        ("IDPCommunicationError", 400, ProviderUnavailable),
        ("SomethingNew", 503, ProviderUnavailable),
        ("InvalidClientTokenId", 403, ProviderUnavailable),
        ("NoCredentials", None, ProviderUnavailable),
    ],
)
def test_broker_errors(code: str, status: int | None, kind: type[Exception]) -> None:
    err = broker_error(AwsServiceError(code, "echo tok.en.here", "AssumeRole", status), "STS", "No to role R")
    assert type(err) is kind
    assert "tok.en.here" not in err.description  # AWS's own message is never repeated
    if kind is AccessDenied:
        assert err.description == f"No to role R ({code})"


def test_broker_error_keeps_our_refusals_and_wraps_the_rest() -> None:
    mine = ProviderUnavailable("AWS sts endpoint unreachable")
    assert broker_error(mine, "STS", "x") is mine
    assert isinstance(broker_error(KeyError("AccessKeyId"), "STS", "x"), ProviderUnavailable)


def _jwt(payload: Any) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.sig"


def test_unverified_payload_reads_the_claims() -> None:
    assert unverified_payload(_jwt({"sts:identity_context": "ctx", "n": 1}))["sts:identity_context"] == "ctx"


@pytest.mark.parametrize("bad", ["", "onlyone", "a.!!!.c", "a.bnVsbA.c", _jwt([1, 2])])
def test_unverified_payload_rejects_garbage(bad: str) -> None:
    with pytest.raises(ProviderUnavailable):
        unverified_payload(bad)


def test_provider_name() -> None:
    assert provider_name("eu-west-1_AbC", "us-east-1") == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
    full = "cognito-idp.us-east-1.amazonaws.com/us-east-1_X"
    assert provider_name(full, "eu-west-1") == full

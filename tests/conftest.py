"""Shared fixtures. No test ever reaches real AWS: fake keys and no instance metadata, always."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.moto import moto_server

# The contract plugin (--verifier, --broker, --session-factory, --deployment-url): loaded here so a clone
# needs no reinstall; with the pytest11 entry point installed too, pytest registers it once.
pytest_plugins = ["cwmcp.contract.plugin"]

for _name in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIALS_MODE",
    "AWS_CLOUDWATCH_ROLE_ARN",
    "OAUTH_ISSUER",
    "OIDC_ISSUER",
):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server for the session, set as botocore's AWS_ENDPOINT_URL."""
    with moto_server() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        try:
            yield url
        finally:
            os.environ.pop("AWS_ENDPOINT_URL", None)

"""The deployment contract under pytest, one test per named check::

    pytest --pyargs cwmcp.contract --deployment-url=https://host/mcp --deployment-token=... \\
        [--deployment-expired-token=...] [--deployment-wrong-audience-token=...]

Skipped when ``--deployment-url`` is absent; ``cwmcp contract --url ...`` runs the same checks without pytest.
"""

from __future__ import annotations

import httpx2
import pytest

from cwmcp.contract.deployment import CHECKS, Check
from cwmcp.contract.deployment_http import Target
from cwmcp.contract.deployment_run import run_one

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
async def test_deployment(check: Check, deployment_target: Target) -> None:
    async with httpx2.AsyncClient(timeout=deployment_target.timeout, follow_redirects=False) as http:
        outcome = await run_one(check, deployment_target, http)
    if outcome.status == "skip":
        pytest.skip(outcome.detail)
    if outcome.status == "fail":
        pytest.fail(f"{check.name}: {outcome.detail}\n(promise: {check.promise})", pytrace=False)

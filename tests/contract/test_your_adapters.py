"""The integrator-facing suites, collected here too so a clone can run them without --pyargs::

    pytest tests/contract --verifier=mypkg.auth:make_kit --deployment-url=https://host/mcp ...

Without those options every test here is skipped, saying which option it needs.
"""

from __future__ import annotations

from cwmcp.contract.test_deployment import test_deployment
from cwmcp.contract.test_ports import TestCredentialBroker, TestSessionFactory, TestTokenVerifier

__all__ = ["TestCredentialBroker", "TestSessionFactory", "TestTokenVerifier", "test_deployment"]

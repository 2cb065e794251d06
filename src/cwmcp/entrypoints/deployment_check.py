"""``cwmcp contract``: run the deployment contract against a URL and print a pass/fail report.

Needs no pytest. Exit status 0 when every check passes (skipped ones included), 1 when one fails,
2 when the inputs are unusable (bad URL, a ``--token-cmd`` that fails).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import anyio

from cwmcp.contract.deployment_http import CheckFailed, Target, token_from_command
from cwmcp.contract.deployment_run import format_report, run_checks


def run_contract(
    url: str,
    token: str | None,
    token_cmd: str | None,
    expired_token: str | None,
    wrong_audience_token: str | None = None,
    *,
    timeout: float = 15.0,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    # httpx2 logs every request URL at INFO, and one check puts the token in the query string
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    try:
        if token_cmd:
            token = token_from_command(token_cmd)
    except CheckFailed as exc:
        print(f"cwmcp contract: {exc}", file=sys.stderr)
        return 2
    target = Target(url, token, expired_token, wrong_audience_token, timeout)
    problems = target.problems()
    if problems:
        print("cwmcp contract: " + "; ".join(problems), file=sys.stderr)
        return 2
    outcomes = anyio.run(run_checks, target)
    print(format_report(target, outcomes), file=out)
    if not token:
        print("\n(pass --token or --token-cmd to run the checks that need a valid token)", file=out)
    return 1 if any(o.status == "fail" for o in outcomes) else 0

"""Run the deployment checks and turn them into a readable pass/fail report. A check that raises
anything becomes one line of the report with its reason, never a traceback; no line shows a token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import httpx2

from cwmcp.contract.deployment import CHECKS, Check
from cwmcp.contract.deployment_http import CheckFailed, CheckSkipped, Target


@dataclass(frozen=True)
class Outcome:
    check: Check
    status: str
    """``pass``, ``fail`` or ``skip``."""
    detail: str


def leaf(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member groups (task groups wrap what they raise)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def run_one(check: Check, target: Target, http: httpx2.AsyncClient) -> Outcome:
    try:
        with anyio.fail_after(target.timeout * 2):
            note = await check.run(target, http)
        status, detail = "pass", note
    except Exception as caught:  # every failure becomes a line of the report, never a traceback
        exc = leaf(caught)
        if isinstance(exc, CheckSkipped):
            status, detail = "skip", str(exc)
        elif isinstance(exc, CheckFailed):
            status, detail = "fail", str(exc)
        elif isinstance(exc, TimeoutError):
            status, detail = "fail", f"no answer within {target.timeout * 2:g} s"
        elif isinstance(exc, httpx2.TransportError):
            status, detail = "fail", f"cannot reach {target.url}: {type(exc).__name__}: {exc}"
        else:
            status, detail = "fail", f"{type(exc).__name__}: {exc}"
    return Outcome(check, status, target.redact(detail))


async def run_checks(target: Target, checks: Sequence[Check] = CHECKS) -> list[Outcome]:
    async with httpx2.AsyncClient(timeout=target.timeout, follow_redirects=False) as http:
        return [await run_one(check, target, http) for check in checks]


def format_report(target: Target, outcomes: Sequence[Outcome]) -> str:
    width = max(len(o.check.name) for o in outcomes)
    lines = [f"cwmcp deployment contract: {target.url}", ""]
    for o in outcomes:
        lines.append(f"  {o.status.upper():4}  {o.check.name:{width}}  {o.detail}")
        if o.status == "fail":
            lines.append(f"        {'':{width}}  promise: {o.check.promise}")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("pass", "fail", "skip")}
    verdict = "FAILED" if counts["fail"] else "PASSED"
    lines += ["", f"{verdict}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"]
    return "\n".join(lines)

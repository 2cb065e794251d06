"""``cwmcp check``: can this configuration work? Each problem is printed with what to do about it."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import anyio

from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.domain.errors import AuthError, AwsCallError
from cwmcp.entrypoints.container import build_verifier
from cwmcp.entrypoints.settings import Settings, load_settings

SERVER_CREDENTIAL_MODES = ("ambient", "assume-role", "identity-center")


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""


async def _issuer(settings: Settings) -> list[Finding]:
    verifier = build_verifier(settings)
    if verifier is None:
        return [Finding(True, "auth is off (ENABLE_AUTH=false): every caller uses the server's credentials")]
    if not isinstance(verifier, JwtVerifier):
        return [Finding(True, f"token verifier: {type(verifier).__name__} (not checked)")]
    keys = verifier.keys
    try:
        index = await keys.refresh()
    except AuthError as exc:
        return [
            Finding(
                False,
                f"issuer keys could not be fetched: {exc.description}",
                "check OAUTH_ISSUER (discovery at {issuer}/.well-known/openid-configuration) or set "
                "OAUTH_JWKS_URL, and that this host can reach it",
            )
        ]
    finally:
        await keys.aclose()
    return [Finding(True, f"issuer {settings.issuer}: {len(index.by_kid)} signing key(s) at {keys.jwks_url}")]


async def _sts(settings: Settings) -> list[Finding]:
    sessions = BotocoreSessionFactory(max_attempts=1, connect_timeout=settings.http_timeout)
    uses_own = settings.credentials_mode in SERVER_CREDENTIAL_MODES
    client = await (
        sessions.client("sts", settings.region, None)
        if uses_own
        else sessions.unsigned_client("sts", settings.region)
    )
    try:
        found = await client.call("get_caller_identity")
    except AwsCallError as exc:
        if not uses_own:  # reachable: STS answered, and needs no server credentials in this mode
            return [Finding(True, f"STS reachable in {settings.region} (mode {settings.credentials_mode})")]
        return [
            Finding(
                False,
                f"STS refused the server's credentials: {exc.code}",
                "give the server AWS credentials (env, profile or instance role) allowed to call STS",
            )
        ]
    except AuthError as exc:
        return [
            Finding(
                False,
                f"STS unreachable: {exc.description}",
                "check network access to STS, AWS_REGION and any AWS_ENDPOINT_URL_STS",
            )
        ]
    return [Finding(True, f"STS as {found.get('Arn')} (mode {settings.credentials_mode})")]


def _roles(settings: Settings) -> list[Finding]:
    rules = settings.role_rules
    if not settings.needs_role:
        return []
    count = sum(len(r.roles) for r in rules.rules)
    detail = f"{len(rules.rules)} rule(s), {count} role(s)"
    if rules.default_role:
        detail += f", default role {rules.default_role}"
    return [Finding(True, f"role rules: {detail}")]


async def findings(settings: Settings) -> list[Finding]:
    found = _roles(settings)
    found += await _issuer(settings)
    found += await _sts(settings)
    return found


def run_check() -> int:
    settings = load_settings()
    results = anyio.run(findings, settings)
    for f in results:
        print(f"{'ok     ' if f.ok else 'PROBLEM'}  {f.what}")
        if f.fix:
            print(f"         fix: {f.fix}")
    bad = sum(not f.ok for f in results)
    print(
        f"\n{'all checks passed' if not bad else f'{bad} problem(s) found'}",
        file=sys.stderr if bad else sys.stdout,
    )
    return 1 if bad else 0

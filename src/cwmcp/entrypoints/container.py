"""The composition root: the only place that chooses and wires adapters (dependency-injector).

``Container(settings=...)`` builds, on first use, exactly one key set, one verifier, one shared
botocore session factory and one (cached) credential broker for the chosen mode.
"""

from __future__ import annotations

import os
from typing import Any

from dependency_injector import containers, providers

from cwmcp.adapters.ambient import AmbientBroker
from cwmcp.adapters.botocore_sessions import BotocoreSessionFactory
from cwmcp.adapters.cognito import cognito_verifier
from cwmcp.adapters.credential_cache import CachingBroker
from cwmcp.adapters.identity_center import IdentityCenterBroker
from cwmcp.adapters.identity_pool import IdentityPoolBroker
from cwmcp.adapters.jwks import JwksKeySet
from cwmcp.adapters.jwt_verifier import JwtVerifier
from cwmcp.adapters.sts import AssumeRoleBroker, WebIdentityBroker
from cwmcp.adapters.token_claims import TokenClaimsBroker
from cwmcp.domain.claim_credentials import credentials_from_claims
from cwmcp.domain.claims import ClaimsPolicy
from cwmcp.domain.credentials import RoleChoice
from cwmcp.domain.errors import AccessDenied
from cwmcp.domain.identity import Identity
from cwmcp.domain.ports import TokenVerifier
from cwmcp.domain.roles import roles_for
from cwmcp.entrypoints.asgi import Admit, Gate
from cwmcp.entrypoints.context import CallContext
from cwmcp.entrypoints.settings import Settings, load_settings


def claims_policy(s: Settings) -> ClaimsPolicy:
    return ClaimsPolicy(
        issuer=s.issuer or "", audiences=s.audiences, leeway=s.leeway, required_scopes=s.required_scopes
    )


def oidc_verifier(s: Settings, keys: JwksKeySet) -> JwtVerifier:
    return JwtVerifier(keys, claims_policy(s), algorithms=s.algorithms)


def user_pool_verifier(s: Settings) -> JwtVerifier:
    return cognito_verifier(
        pool_id=s.cognito_user_pool_id or "",
        region=s.cognito_region or s.region,
        client_ids=s.cognito_client_ids,
        token_use=s.cognito_token_use,
        jwks_url=s.jwks_url,
        leeway=s.leeway,
        required_scopes=s.required_scopes,
        timeout=s.http_timeout,
    )


def verifier_kind(s: Settings) -> str:
    return "none" if not s.enable_auth else "cognito" if s.cognito else "oidc"


def make_admit(s: Settings) -> Admit:
    """Decide, before any AWS call, whether this user may go on, and with which roles."""
    rules, needs_role = s.role_rules, s.needs_role
    claims_mode = s.credentials_mode == "token-claims"

    def admit(identity: Identity) -> tuple[RoleChoice, ...]:
        if claims_mode:
            credentials_from_claims(identity)  # raises a 401 naming the missing claims
        roles = roles_for(identity, rules)
        if needs_role and not roles:
            raise AccessDenied(
                "No AWS role is allowed for this user; ask an administrator to add a role rule"
            )
        return roles

    return admit


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    sessions = providers.Singleton(BotocoreSessionFactory)
    key_set = providers.Singleton(
        JwksKeySet,
        issuer=settings.provided.issuer,
        jwks_url=settings.provided.jwks_url,
        timeout=settings.provided.http_timeout,
    )
    verifier = providers.Selector(
        providers.Callable(verifier_kind, settings),
        oidc=providers.Singleton(oidc_verifier, settings, key_set),
        cognito=providers.Singleton(user_pool_verifier, settings),
        none=providers.Object(None),
    )
    duration = settings.provided.session_duration
    brokers: dict[str, providers.Provider[Any]] = {
        "ambient": providers.Singleton(AmbientBroker, sessions),
        "assume-role": providers.Singleton(
            AssumeRoleBroker, sessions, duration_seconds=duration, region=settings.provided.region
        ),
        "web-identity": providers.Singleton(
            WebIdentityBroker, sessions, duration_seconds=duration, region=settings.provided.region
        ),
        "cognito-identity-pool": providers.Singleton(
            IdentityPoolBroker,
            sessions,
            identity_pool_id=settings.provided.cognito_identity_pool_id,
            region=settings.provided.cognito_region,
            user_pool_provider=settings.provided.cognito_user_pool_id,
        ),
        "identity-center": providers.Singleton(
            IdentityCenterBroker,
            sessions,
            client_id=settings.provided.identity_center_application_arn,
            region=settings.provided.region,
            duration_seconds=duration,
        ),
        "token-claims": providers.Singleton(TokenClaimsBroker),
    }
    mode_broker = providers.Selector(settings.provided.credentials_mode, **brokers)
    broker = providers.Singleton(CachingBroker, mode_broker)
    gate = providers.Singleton(
        Gate, settings, verifier, providers.Callable(make_admit, settings), broker, sessions
    )


def build_gate(settings: Settings | None = None) -> Gate:
    container = Container(settings=settings or load_settings())
    gate: Gate = container.gate()
    return gate


def build_verifier(settings: Settings) -> TokenVerifier | None:
    verifier: TokenVerifier | None = Container(settings=settings).verifier()
    return verifier


def ambient_context() -> CallContext:
    """stdio and auth-off: the server's own credentials, no identity, no roles."""
    sessions = BotocoreSessionFactory()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return CallContext(None, (), AmbientBroker(sessions), sessions, region)

"""Settings from the environment, validated at start; one error lists every problem."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cwmcp.domain.claims import DEFAULT_LEEWAY
from cwmcp.domain.errors import ConfigurationError
from cwmcp.domain.roles import RoleRules

MODES = ("ambient", "assume-role", "web-identity", "cognito-identity-pool", "identity-center", "token-claims")
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class Settings:
    enable_auth: bool = True
    issuer: str | None = None
    jwks_url: str | None = None
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: float = DEFAULT_LEEWAY
    required_scopes: tuple[str, ...] = ()
    auth_header: str = "authorization"
    resource_url: str | None = None
    http_timeout: float = 3.0
    cognito_user_pool_id: str | None = None
    cognito_region: str | None = None
    cognito_client_ids: tuple[str, ...] = ()
    cognito_token_use: str = "access"
    cognito_identity_pool_id: str | None = None
    identity_center_application_arn: str | None = None
    credentials_mode: str = "ambient"
    role_arn: str | None = None
    role_rules_file: str | None = None
    role_rules: RoleRules = field(default_factory=RoleRules)
    session_duration: int = 3600
    region: str = "us-east-1"
    host: str = "127.0.0.1"
    port: int = 3334
    mcp_path: str = "/mcp"

    @property
    def cognito(self) -> bool:
        return self.cognito_user_pool_id is not None

    @property
    def needs_role(self) -> bool:
        return self.credentials_mode in ("assume-role", "web-identity", "identity-center")


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


class _Reader:
    """Collects problems instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.env.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in _TRUE | _FALSE:
            return raw in _TRUE
        self.problems.append(f"{name}={raw!r} is not a boolean (use true or false)")
        return default

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a number")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}={raw} is out of range ({low:g} to {high:g})")
        return value

    def url(self, name: str, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and parts.hostname in _LOOPBACK:
            return value
        self.problems.append(f"{name}={value!r} must be an https URL (http only for 127.0.0.1/localhost)")
        return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings; raise ``ConfigurationError`` listing every problem."""
    env = os.environ if env is None else env
    r = _Reader(env)
    enable_auth = r.boolean("ENABLE_AUTH", True)
    pool = _first(env, "AWS_COGNITO_USER_POOL_ID")
    region = _first(env, "AWS_REGION", "AWS_DEFAULT_REGION") or "us-east-1"
    cognito_region = _first(env, "AWS_COGNITO_REGION") or (pool.split("_")[0] if pool else None) or region
    issuer = r.url("OAUTH_ISSUER", _first(env, "OAUTH_ISSUER", "OIDC_ISSUER", "AWS_IDENTITY_CENTER_ISSUER"))
    if issuer is None and pool:
        issuer = f"https://cognito-idp.{cognito_region}.amazonaws.com/{pool}"
    audiences = _csv(_first(env, "OAUTH_AUDIENCE", "OIDC_CLIENT_ID", "AWS_IDENTITY_CENTER_CLIENT_ID"))
    cognito_clients = _csv(_first(env, "AWS_COGNITO_CLIENT_ID"))
    token_use = (_first(env, "AWS_COGNITO_TOKEN_USE") or "access").lower()
    algorithms = _csv(_first(env, "OAUTH_ALGORITHMS") or "RS256")
    bad_algs = [a for a in algorithms if a not in ASYMMETRIC]
    if bad_algs:
        r.problems.append(
            f"OAUTH_ALGORITHMS has {', '.join(bad_algs)}: only asymmetric algorithms are allowed "
            f"({', '.join(sorted(ASYMMETRIC))})"
        )
    if enable_auth:
        if issuer is None:
            r.problems.append("ENABLE_AUTH=true but OAUTH_ISSUER is not set (nor AWS_COGNITO_USER_POOL_ID)")
        if pool:
            if token_use not in ("access", "id"):
                r.problems.append(f"AWS_COGNITO_TOKEN_USE={token_use!r} must be 'access' or 'id'")
            if not cognito_clients:
                r.problems.append(
                    "AWS_COGNITO_CLIENT_ID is not set: tokens of any app client of the pool would be accepted"
                )
        elif not audiences:
            r.problems.append(
                "OAUTH_AUDIENCE is not set: tokens minted for other applications would be accepted"
            )
    mode, role_arn = _mode(env, r, enable_auth)
    rules_file = _first(env, "AWS_ROLE_RULES_FILE")
    rules = _rules(rules_file, role_arn, r)
    _check_mode(mode, env, pool, rules, r)
    port = r.number("CLOUDWATCH_MCP_PORT", 3334, 0, 65535)
    resource = r.url("MCP_RESOURCE_URL", _first(env, "MCP_RESOURCE_URL"))
    settings = Settings(
        enable_auth=enable_auth,
        issuer=issuer,
        jwks_url=r.url("OAUTH_JWKS_URL", _first(env, "OAUTH_JWKS_URL")),
        audiences=audiences,
        algorithms=algorithms,
        leeway=r.number("OAUTH_LEEWAY_SECONDS", DEFAULT_LEEWAY, 0, 600),
        required_scopes=_csv(_first(env, "OAUTH_REQUIRED_SCOPES")),
        auth_header=(_first(env, "AUTH_HEADER") or "Authorization").lower(),
        resource_url=resource,
        http_timeout=r.number("OAUTH_HTTP_TIMEOUT_SECONDS", 3.0, 0.1, 30),
        cognito_user_pool_id=pool,
        cognito_region=cognito_region,
        cognito_client_ids=cognito_clients,
        cognito_token_use=token_use,
        cognito_identity_pool_id=_first(env, "AWS_COGNITO_IDENTITY_POOL_ID"),
        identity_center_application_arn=_first(env, "AWS_IDENTITY_CENTER_APPLICATION_ARN"),
        credentials_mode=mode,
        role_arn=role_arn,
        role_rules_file=rules_file,
        role_rules=rules,
        session_duration=int(r.number("AWS_ROLE_SESSION_DURATION", 3600, 900, 43200)),
        region=region,
        host=_first(env, "CLOUDWATCH_MCP_SERVER_HOST") or "127.0.0.1",
        port=int(port),
    )
    if r.problems:
        raise ConfigurationError(r.problems)
    return settings


def _mode(env: Mapping[str, str], r: _Reader, enable_auth: bool) -> tuple[str, str | None]:
    role_arn = _first(env, "AWS_CLOUDWATCH_ROLE_ARN")
    mode = (_first(env, "AWS_CREDENTIALS_MODE") or "").lower()
    if not mode:
        if not enable_auth:
            mode = "ambient"
        elif _first(env, "AWS_COGNITO_IDENTITY_POOL_ID"):
            mode = "cognito-identity-pool"
        elif role_arn or _first(env, "AWS_ROLE_RULES_FILE"):
            mode = "assume-role"
        else:
            r.problems.append(f"AWS_CREDENTIALS_MODE is not set; choose one of: {', '.join(MODES)}")
            return "ambient", role_arn
    if mode not in MODES:
        r.problems.append(f"AWS_CREDENTIALS_MODE={mode!r} is not one of: {', '.join(MODES)}")
    elif not enable_auth and mode != "ambient":
        r.problems.append(f"ENABLE_AUTH=false allows only AWS_CREDENTIALS_MODE=ambient, not {mode!r}")
    return mode, role_arn


def _rules(path: str | None, role_arn: str | None, r: _Reader) -> RoleRules:
    from cwmcp.adapters.role_rules_file import load_role_rules

    if path is None:
        return RoleRules(default_role=role_arn)
    try:
        return load_role_rules(path, role_arn)
    except ConfigurationError as exc:
        r.problems.extend(exc.problems)
        return RoleRules(default_role=role_arn)


def _check_mode(mode: str, env: Mapping[str, str], pool: str | None, rules: RoleRules, r: _Reader) -> None:
    if mode in ("assume-role", "web-identity", "identity-center") and rules.empty:
        r.problems.append(f"AWS_CREDENTIALS_MODE={mode} needs AWS_CLOUDWATCH_ROLE_ARN or AWS_ROLE_RULES_FILE")
    if mode == "cognito-identity-pool":
        if not _first(env, "AWS_COGNITO_IDENTITY_POOL_ID"):
            r.problems.append("AWS_CREDENTIALS_MODE=cognito-identity-pool needs AWS_COGNITO_IDENTITY_POOL_ID")
        if not pool:
            r.problems.append("AWS_CREDENTIALS_MODE=cognito-identity-pool needs AWS_COGNITO_USER_POOL_ID")
    if mode == "identity-center" and not _first(env, "AWS_IDENTITY_CENTER_APPLICATION_ARN"):
        r.problems.append("AWS_CREDENTIALS_MODE=identity-center needs AWS_IDENTITY_CENTER_APPLICATION_ARN")

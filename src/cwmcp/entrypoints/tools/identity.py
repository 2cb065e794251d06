"""Who am I: the verified caller, the account aliases they may use, and the AWS identity in use."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

from cwmcp.entrypoints.context import aws_client, current_call
from cwmcp.entrypoints.tools._common import Account, Region, ToolSpec, call
from cwmcp.entrypoints.tools.errors import mapped


class AwsIdentity(TypedDict):
    account: str
    arn: str


class WhoAmI(TypedDict):
    """``subject`` is ``None`` without auth (stdio, ENABLE_AUTH=false); ``email`` only when the token
    has one."""

    subject: str | None
    email: NotRequired[str]
    accounts: list[str]
    aws: AwsIdentity


@mapped
async def whoami(region: Region = None, account: Account = None) -> WhoAmI:
    """Who you are to this server: your token's subject (and email), the account aliases you may
    use in other tools' 'account' parameter, and the AWS account and ARN your calls run as
    (sts:GetCallerIdentity with your own credentials)."""
    ctx = current_call()
    client = await aws_client("sts", region, account)
    caller = await call(client, "get_caller_identity")
    answer: WhoAmI = {
        "subject": ctx.identity.subject if ctx.identity is not None else None,
        "accounts": list(dict.fromkeys(role.account for role in ctx.roles)),
        "aws": {"account": str(caller.get("Account", "")), "arn": str(caller.get("Arn", ""))},
    }
    if ctx.identity is not None and ctx.identity.email:
        answer["email"] = ctx.identity.email
    return answer


TOOLS = (ToolSpec(whoami, "Who am I"),)

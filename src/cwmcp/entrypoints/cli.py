"""The ``cwmcp`` command: serve, stdio, check, demo, contract."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from cwmcp._version import __version__
from cwmcp.domain.errors import ConfigurationError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cwmcp", description="CloudWatch MCP server with per-user AWS identity")
    p.add_argument("--version", action="version", version=f"cwmcp {__version__}")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="MCP over streamable HTTP at http://HOST:PORT/mcp")
    serve.add_argument("--host", help="default CLOUDWATCH_MCP_SERVER_HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, help="default CLOUDWATCH_MCP_PORT, else 3334")
    sub.add_parser("stdio", help="MCP over stdio with the AWS credentials of the environment")
    sub.add_parser("check", help="validate the configuration: issuer, JWKS, STS")
    demo = sub.add_parser("demo", help="everything local: issuer, moto as AWS, the server with auth on")
    demo.add_argument("--port", type=int, default=0, help="server port (default: any free port)")
    contract = sub.add_parser("contract", help="check a running deployment from outside")
    contract.add_argument("--url", required=True, help="the deployment's MCP URL, e.g. https://host/mcp")
    group = contract.add_mutually_exclusive_group()
    group.add_argument("--token", help="a valid bearer token")
    group.add_argument("--token-cmd", help="a command that prints a valid bearer token")
    contract.add_argument("--expired-token", help="an expired token, to check its refusal")
    contract.add_argument(
        "--wrong-audience-token",
        help="a token of your issuer minted for another audience, to check its refusal",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        return _run(args)
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from cwmcp.entrypoints.serve import serve

        return serve(args.host, args.port)
    if args.command == "stdio":
        from cwmcp.entrypoints.stdio import run_stdio

        return run_stdio()
    if args.command == "check":
        from cwmcp.entrypoints.check import run_check

        return run_check()
    if args.command == "demo":
        from cwmcp.entrypoints.demo import run_demo

        return run_demo(args.port)
    from cwmcp.entrypoints.deployment_check import run_contract

    return run_contract(
        args.url,
        args.token,
        args.token_cmd,
        args.expired_token,
        wrong_audience_token=args.wrong_audience_token,
    )


if __name__ == "__main__":
    raise SystemExit(main())

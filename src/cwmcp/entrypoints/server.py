"""The MCP server: ``build_server()`` makes an ``MCPServer`` with every cwmcp tool registered.

What the installed SDK (mcp 2.3.0, ``mcp.server.mcpserver``) does, read from its source:

- Tools: ``MCPServer.add_tool(fn, name=, title=, description=, annotations=, structured_output=)``
  (``@server.tool(...)`` is the same). The input schema comes from the signature
  (``inspect.signature(fn, eval_str=True)``, which follows ``functools.wraps``), so
  ``Annotated[T, Field(description=...)]`` parameters carry descriptions and bounds.
- Annotations: ``mcp_types.ToolAnnotations(title=, read_only_hint=, destructive_hint=,
  idempotent_hint=, open_world_hint=)``; on the wire ``readOnlyHint`` etc.
- Structured output: a return annotation of a TypedDict (``typing_extensions.TypedDict`` on
  3.11: pydantic refuses nested stdlib ones below 3.12) or pydantic model becomes ``outputSchema``;
  the result is validated and sent as ``structuredContent`` plus a JSON text block. A type pydantic
  cannot schema silently falls back to unstructured unless ``structured_output=True`` (we pass it,
  so such a mistake fails at registration).
- Errors: raise ``mcp.server.mcpserver.exceptions.ToolError`` for an anticipated failure: the client
  gets ``isError: true`` with "Error executing tool <name>: <message>" and the server logs it at INFO
  without a traceback. Any other exception becomes ``UnexpectedToolError``: the client sees only
  "Error executing tool <name>" and the traceback is logged server-side. ``MCPError`` is a protocol
  error instead. Our ``tools.errors.mapped`` turns domain errors into ``ToolError``.
- HTTP: ``streamable_http_app(*, streamable_http_path="/mcp", json_response=False,
  stateless_http=False, event_store=None, retry_interval=None, max_request_body_size=4 MiB,
  session_idle_timeout=..., max_sessions=..., transport_security: TransportSecuritySettings | None,
  host="127.0.0.1")``. With ``transport_security=None`` and host 127.0.0.1/localhost/::1 it turns on
  DNS-rebinding protection allowing only ``127.0.0.1:*``, ``localhost:*``, ``[::1]:*`` Hosts (others
  get 421); for any other host it is off unless ``TransportSecuritySettings(
  enable_dns_rebinding_protection=True, allowed_hosts=[...], allowed_origins=[...])`` is passed.
  The app's lifespan runs the session manager, so mount it with its lifespan.
- Tests: ``mcp.Client(server)`` connects to an ``MCPServer`` in-process (no sockets, no JSON-RPC
  framing in the default mode; ``mode="legacy"`` uses in-memory streams and the initialize handshake).
"""

from __future__ import annotations

import inspect

from mcp.server.mcpserver import MCPServer

from cwmcp._version import __version__
from cwmcp.entrypoints.tools import alarms, identity, insights, logs, metrics
from cwmcp.entrypoints.tools._common import ToolSpec

INSTRUCTIONS = """\
Read-only access to Amazon CloudWatch (logs, Logs Insights, metrics, alarms) with your own AWS identity.
Start with whoami to see the account aliases you may pass as 'account'. Every AWS tool takes an
optional 'region' (default: the server's AWS_REGION) and 'account'. Times are ISO 8601 (UTC when no
offset is given). Long Logs Insights queries return a query_id: poll get_logs_insight_query_results.
"""

TOOLS: tuple[ToolSpec, ...] = (
    *identity.TOOLS,
    *logs.TOOLS,
    *insights.TOOLS,
    *metrics.TOOLS,
    *alarms.TOOLS,
)


def build_server(name: str = "cwmcp") -> MCPServer:
    """An ``MCPServer`` with every tool registered, all annotated read-only and open-world."""
    # The SDK calls logging.basicConfig(level=log_level) with a Rich handler when the host has set up
    # no logging. At INFO that would format cwmcp's per-request audit line through Rich (~1 ms a
    # request); WARNING leaves INFO output to the host's own logging setup (`cwmcp serve` sets INFO).
    server: MCPServer = MCPServer(name, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    for spec in TOOLS:
        server.add_tool(
            spec.fn,
            title=spec.title,
            description=inspect.cleandoc(spec.fn.__doc__ or ""),
            annotations=spec.annotations(),
            structured_output=True,
        )
    return server

"""The CloudWatch MCP tools, one module per area. Every tool is read-only and reaches AWS only through
``cwmcp.entrypoints.context.aws_client``, so it runs with the caller's own credentials."""

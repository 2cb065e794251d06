"""Where things are wired together: the ASGI wrapper, the container, the CLI, the MCP server."""

"""One module per outside system, each implementing a port of ``cwmcp.domain.ports``."""

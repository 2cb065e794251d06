"""``python -m cwmcp``."""

from cwmcp.entrypoints.cli import main

raise SystemExit(main())

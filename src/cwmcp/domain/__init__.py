"""The core of cwmcp: types, ports and pure decisions. Standard library only, no I/O, no clock."""

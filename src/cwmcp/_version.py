"""The package version, in a module that imports nothing (adapters read it)."""

__version__ = "0.1.0"

"""IOLAOS: coordination service for volunteer civil protection."""

__version__ = "0.1.0"

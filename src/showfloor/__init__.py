"""Showfloor: event-intelligence API, client SDK and CLI."""

__version__ = "0.1.0"

"""Errors shared by the services.

Errors::

    ConfigurationError    a service cannot start as configured; the message says what to fix
"""

from __future__ import annotations

__all__ = ["ConfigurationError"]


class ConfigurationError(RuntimeError):
    """A service cannot start as configured; the message says what to fix."""

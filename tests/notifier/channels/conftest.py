"""Fixtures of the channel tests: a test certificate and the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from slawatch.settings import Settings
from tests.notifier.channels.servers import self_signed


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(cert, key)`` of a self-signed certificate for 127.0.0.1 and localhost."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def settings() -> Settings:
    return Settings()

"""AWS credentials that moto's server takes (it checks none), set for a test and the
processes it starts, so that nothing is read from the user's ~/.aws."""

from __future__ import annotations

from pathlib import Path

import pytest


def use_moto_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, region: str) -> None:
    """Set fake AWS credentials and ``region``; point the shared files at nothing."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

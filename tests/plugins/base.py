"""Fixtures every test gets: an isolated TIKGET_HOME, no user config leaking in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "tikget-home"
    home.mkdir()
    keep = {"TIKGET_DEMO_MEDIA"}  # a cache location, not a setting
    for var in [v for v in os.environ if v.startswith("TIKGET_") and v not in keep]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TIKGET_HOME", str(home))
    yield home

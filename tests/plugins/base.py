"""Fixtures every test gets: an isolated TIKGET_HOME, no user config leaking in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "tikget-home"
    home.mkdir()
    for var in ("TIKGET_CONFIG", "TIKGET_DATA_DIR", "TIKGET_CACHE_DIR", "TIKGET_DOWNLOAD_DIR",
                "TIKGET_SERVICE", "TIKGET_CONCURRENCY", "TIKGET_FILENAME_TEMPLATE",
                "TIKGET_PREFER_H264", "TIKGET_AUDIO_MP3", "TIKGET_POLL_INTERVAL", "TIKGET_THEME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TIKGET_HOME", str(home))
    yield home

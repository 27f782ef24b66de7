"""Every path the app uses, resolved in one place.

platformdirs gives the per-OS defaults; environment variables override them so
tests, CI and users with unusual set-ups can move everything:

- ``TIKGET_CONFIG``        the config file (TOML)
- ``TIKGET_HOME``          one folder holding config, data, cache and downloads
- ``TIKGET_DATA_DIR``      SQLite state (queue, archive, reports, watch list)
- ``TIKGET_CACHE_DIR``     caches (the demo service's generated media, ...)
- ``TIKGET_DOWNLOAD_DIR``  where saved files go (default: ~/Downloads/TikGet)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "tikget"


def _env_path(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    value = (os.environ if env is None else env).get(name, "").strip()
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class Locations:
    config_file: Path
    data_dir: Path
    cache_dir: Path
    download_dir: Path

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "tikget.lock"

    @property
    def demo_media_dir(self) -> Path:
        return self.cache_dir / "demo-media"

    def as_dict(self) -> dict[str, str]:
        return {
            "config file": str(self.config_file),
            "data dir": str(self.data_dir),
            "state database": str(self.state_db),
            "cache dir": str(self.cache_dir),
            "download dir": str(self.download_dir),
        }


def resolve(env: Mapping[str, str] | None = None) -> Locations:
    """Resolve the locations from ``env`` (default: the process environment).

    No directories are created.
    """
    home = _env_path("TIKGET_HOME", env)
    if home is not None:
        config = home / "config.toml"
        data = home / "data"
        cache = home / "cache"
        downloads = home / "downloads"
    else:
        config = platformdirs.user_config_path(APP_NAME) / "config.toml"
        data = platformdirs.user_data_path(APP_NAME)
        cache = platformdirs.user_cache_path(APP_NAME)
        downloads = platformdirs.user_downloads_path() / "TikGet"
    return Locations(
        config_file=_env_path("TIKGET_CONFIG", env) or config,
        data_dir=_env_path("TIKGET_DATA_DIR", env) or data,
        cache_dir=_env_path("TIKGET_CACHE_DIR", env) or cache,
        download_dir=_env_path("TIKGET_DOWNLOAD_DIR", env) or downloads,
    )

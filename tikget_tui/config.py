"""Settings: defaults, the TOML config file, environment overrides, CLI overrides.

Precedence (later wins): built-in defaults < config file < ``TIKGET_*``
environment variables < command-line flags (applied by the caller through
:func:`Settings.replace`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tikget_tui import locations
from tikget_tui.service import Service, ServiceError

DEFAULT_TEMPLATE = "{creator}-{topic}-{date}"
TEMPLATE_FIELDS = ("creator", "nickname", "topic", "date", "time", "id", "kind")


MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(ValueError):
    """A setting that cannot be used; the message is one line that says what to fix."""


@dataclass(frozen=True)
class Settings:
    download_dir: Path
    data_dir: Path
    cache_dir: Path
    config_file: Path
    filename_template: str = DEFAULT_TEMPLATE
    concurrency: int = 3
    prefer_h264: bool = True
    audio_mp3: bool = False
    ffprobe_path: str | None = None
    ffmpeg_path: str | None = None
    service_origin: str | None = None
    poll_interval: float = 4 * 3600.0
    per_host_concurrency: int = 4
    api_min_interval: float = 0.5
    max_retries: int = 5
    request_timeout: float = 30.0
    # limits against a broken or hostile server (README "Limits")
    max_page_bytes: int = 8 * 1024 * 1024  # decoded size of one page or API answer
    max_media_bytes: int = 1024 * 1024 * 1024  # one media file when no size is listed
    media_size_margin: float = 0.5  # media may exceed the listed DataSize by this fraction
    request_deadline: float = 60.0  # whole page/API request; media: until the headers
    min_media_rate: int = 8 * 1024  # bytes/s on average over a media body ...
    min_rate_grace: float = 30.0  # ... checked once this many seconds have passed
    # limits against hostile files (README "Limits")
    max_json_bytes: int = 4 * 1024 * 1024  # a sidecar, claim or config file read from disk
    max_picture_pixels: int = 40_000_000  # a picture Pillow may decode for a preview
    child_memory_bytes: int = 1536 * 1024 * 1024  # address space of each ffprobe/ffmpeg
    child_cpu_seconds: int = 120  # CPU time of each ffprobe/ffmpeg
    theme: str = "textual-dark"
    impersonate: str = "chrome"
    """Which browser's connection pages and API calls present (tiktok/browser.py):
    ``chrome``, or ``off`` for plain httpx (Python's TLS), which TikTok's bot wall refuses."""
    keymap: dict[str, str] = field(default_factory=dict)
    default_note: str = ""
    confirm_quit: bool = True
    """Quitting the app with downloads running or queued asks first (y/Enter quits)."""
    drop_finished_at_start: bool = True
    """At start the queue leaves out the done, cancelled and expired jobs of earlier runs
    (the store keeps them: the library and the archive still read their story)."""
    download_dir_chosen: bool = False
    """The user named ``download_dir`` (config file, ``TIKGET_DOWNLOAD_DIR``, ``--dir`` or the
    app): it must exist or have a parent that does. The default folder is simply created."""

    @property
    def service(self) -> Service:
        return Service.from_origin(self.service_origin)

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite3"

    def with_download_dir(self, path: Path) -> Settings:
        """These settings with a download folder the user chose."""
        return self.replace(download_dir=path.expanduser(), download_dir_chosen=True)

    def replace(self, **changes: Any) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        new = dataclasses.replace(self, **clean)
        new.validate()
        return new

    def validate(self) -> None:
        if not 1 <= self.concurrency <= 32:
            raise ConfigError(f"concurrency must be between 1 and 32, not {self.concurrency}")
        if not 1 <= self.per_host_concurrency <= 32:
            raise ConfigError(
                f"per_host_concurrency must be between 1 and 32, not {self.per_host_concurrency}"
            )
        for name in ("poll_interval", "api_min_interval", "request_timeout",
                     "media_size_margin", "request_deadline", "min_rate_grace"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name} must be a finite number of seconds")
        if self.api_min_interval < 0:
            raise ConfigError("api_min_interval must be 0 or more seconds")
        if self.request_timeout <= 0:
            raise ConfigError("request_timeout must be more than 0 seconds")
        if self.request_deadline <= 0 or self.min_rate_grace <= 0:
            raise ConfigError("request_deadline and min_rate_grace must be more than 0 seconds")
        if self.max_page_bytes < 1024 or self.max_media_bytes < 1024:
            raise ConfigError("max_page_bytes and max_media_bytes must be at least 1024")
        if self.max_json_bytes < 1024 or self.max_picture_pixels < 10_000:
            raise ConfigError("max_json_bytes must be at least 1024 and max_picture_pixels "
                              "at least 10000")
        if self.child_memory_bytes < 64 * 1024 * 1024 or self.child_cpu_seconds < 1:
            raise ConfigError("child_memory_bytes must be at least 64 MiB (67108864) and "
                              "child_cpu_seconds at least 1")
        if self.media_size_margin < 0 or self.min_media_rate < 0:
            raise ConfigError("media_size_margin and min_media_rate must be 0 or more")
        if not 0 <= self.max_retries <= 100:
            raise ConfigError(f"max_retries must be between 0 and 100, not {self.max_retries}")
        if self.poll_interval < 60:
            raise ConfigError("poll_interval must be at least 60 seconds (be polite to TikTok)")
        if self.poll_interval >= 24 * 3600:
            raise ConfigError("poll_interval must be under 24 hours or stories expire unseen")
        try:
            for _, field_name, _, _ in string.Formatter().parse(self.filename_template):
                # only plain field names: no "{0}", "{creator.attr}" or "{creator[0]}"
                if field_name is not None and field_name not in TEMPLATE_FIELDS:
                    raise KeyError(field_name)
            self.filename_template.format(**{k: "x" for k in TEMPLATE_FIELDS})
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            raise ConfigError(
                f"filename_template {self.filename_template!r} is not valid ({exc}); "
                f"use fields {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
            ) from None
        if self.impersonate not in ("chrome", "off"):
            raise ConfigError(f"impersonate must be \"chrome\" or \"off\", "
                              f"not {self.impersonate[:40]!r}")
        try:
            Service.from_origin(self.service_origin)
        except ServiceError as exc:
            raise ConfigError(str(exc)) from None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, Path) else v
        return out


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}

# setting name -> (environment variable, type)
_ENV: dict[str, tuple[str, type]] = {
    "download_dir": ("TIKGET_DOWNLOAD_DIR", Path),
    "filename_template": ("TIKGET_FILENAME_TEMPLATE", str),
    "concurrency": ("TIKGET_CONCURRENCY", int),
    "prefer_h264": ("TIKGET_PREFER_H264", bool),
    "audio_mp3": ("TIKGET_AUDIO_MP3", bool),
    "drop_finished_at_start": ("TIKGET_DROP_FINISHED_AT_START", bool),
    "ffprobe_path": ("TIKGET_FFPROBE", str),
    "ffmpeg_path": ("TIKGET_FFMPEG", str),
    "service_origin": ("TIKGET_SERVICE", str),
    "poll_interval": ("TIKGET_POLL_INTERVAL", float),
    "per_host_concurrency": ("TIKGET_PER_HOST_CONCURRENCY", int),
    "api_min_interval": ("TIKGET_API_MIN_INTERVAL", float),
    "theme": ("TIKGET_THEME", str),
    "impersonate": ("TIKGET_IMPERSONATE", str),
    "confirm_quit": ("TIKGET_CONFIRM_QUIT", bool),
    "max_page_bytes": ("TIKGET_MAX_PAGE_BYTES", int),
    "max_media_bytes": ("TIKGET_MAX_MEDIA_BYTES", int),
    "media_size_margin": ("TIKGET_MEDIA_SIZE_MARGIN", float),
    "request_deadline": ("TIKGET_REQUEST_DEADLINE", float),
    "min_media_rate": ("TIKGET_MIN_MEDIA_RATE", int),
    "min_rate_grace": ("TIKGET_MIN_RATE_GRACE", float),
    "max_json_bytes": ("TIKGET_MAX_JSON_BYTES", int),
    "max_picture_pixels": ("TIKGET_MAX_PICTURE_PIXELS", int),
    "child_memory_bytes": ("TIKGET_CHILD_MEMORY_BYTES", int),
    "child_cpu_seconds": ("TIKGET_CHILD_CPU_SECONDS", int),
}

# names accepted in the TOML file (a flat table, or under [tikget])
_FILE_KEYS = {f.name for f in dataclasses.fields(Settings)} - {
    "data_dir", "cache_dir", "config_file", "download_dir_chosen"
}
_ALIASES = {"service": "service_origin", "template": "filename_template", "ffprobe": "ffprobe_path",
            "ffmpeg": "ffmpeg_path", "download_directory": "download_dir", "keys": "keymap"}


def _coerce(name: str, kind: type, value: Any, source: str) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _BOOL_TRUE:
                return True
            if text in _BOOL_FALSE:
                return False
            raise ValueError(value)
        if kind is Path:
            if not isinstance(value, str | Path) or not str(value).strip():
                raise ValueError(value)
            return Path(str(value)).expanduser()
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError(value)
            return int(value)
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            return float(value)
        if kind is dict:
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(value)
            return dict(value)
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} from {source} must be {getattr(kind, '__name__', kind)}, got {value!r}"
        ) from None


def _field_types() -> dict[str, type]:
    hints = {
        "download_dir": Path, "filename_template": str, "concurrency": int,
        "prefer_h264": bool, "audio_mp3": bool, "ffprobe_path": str, "ffmpeg_path": str,
        "service_origin": str, "poll_interval": float, "per_host_concurrency": int,
        "api_min_interval": float, "max_retries": int, "request_timeout": float,
        "theme": str, "keymap": dict, "default_note": str, "impersonate": str,
        "confirm_quit": bool, "drop_finished_at_start": bool,
        "max_page_bytes": int, "max_media_bytes": int, "media_size_margin": float,
        "request_deadline": float, "min_media_rate": int, "min_rate_grace": float,
        "max_json_bytes": int, "max_picture_pixels": int, "child_memory_bytes": int,
        "child_cpu_seconds": int,
    }
    return hints


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the TOML file into setting values; a missing file is an empty config. Bounded
    like every file we read: at most ``MAX_CONFIG_BYTES``, brackets nested at most
    ``jsonfile.MAX_DEPTH`` deep (tomllib recurses into nested arrays)."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is too large (over {MAX_CONFIG_BYTES:,} "
                          "bytes); a config is a few lines")
    import tomllib  # here: most starts have no config file (bench/bench_ui.py)

    from tikget_tui.jsonfile import MAX_DEPTH, depth

    try:
        text = raw.decode("utf-8-sig")
        if text.count("[") + text.count("{") > MAX_DEPTH and depth(text) > MAX_DEPTH:
            raise ConfigError(f"config file {path} nests brackets more than {MAX_DEPTH} "
                              "levels deep; a config is a few flat lines")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if isinstance(data.get("tikget"), dict):
        table = data.pop("tikget")
        data = {**data, **table}
    types = _field_types()
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = _ALIASES.get(key, key)
        if name not in _FILE_KEYS:
            raise ConfigError(
                f"unknown setting {key!r} in {path}; known: {', '.join(sorted(_FILE_KEYS))}"
            )
        out[name] = _coerce(name, types[name], value, str(path))
    return out


def load(env: dict[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then the environment."""
    environ = os.environ if env is None else env
    locs = locations.resolve(environ)
    values: dict[str, Any] = read_config_file(locs.config_file)
    for name, (var, kind) in _ENV.items():
        if var in environ and environ[var].strip() != "":
            values[name] = _coerce(name, kind, environ[var], f"${var}")
    values["download_dir_chosen"] = "download_dir" in values
    values.setdefault("download_dir", locs.download_dir)
    settings = Settings(
        data_dir=locs.data_dir,
        cache_dir=locs.cache_dir,
        config_file=locs.config_file,
        **values,
    )
    settings.validate()
    return settings


def save_download_dir(config_file: Path, path: Path) -> None:
    """Write ``download_dir = "PATH"`` into the config file (created when missing), replacing
    an earlier top-level ``download_dir``; every other line is kept as it was. Atomic."""
    try:
        if config_file.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"config file {config_file} is too large (over "
                              f"{MAX_CONFIG_BYTES:,} bytes); a config is a few lines")
        lines = config_file.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        lines = []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_file}: {exc}") from None
    import json
    import tomllib

    entry = "download_dir = " + json.dumps(str(path), ensure_ascii=False)  # a TOML basic string
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")),
                       len(lines))
    for i in range(first_table):
        key = lines[i].split("=", 1)[0].strip()
        if "=" in lines[i] and key in ("download_dir", "download_directory"):
            lines[i] = entry
            break
    else:
        lines.insert(first_table, entry)
    text = "\n".join(lines) + "\n"
    try:
        tomllib.loads(text)  # never write a file the next start could not read
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from None
    try:
        if not config_file.parent.is_dir():
            config_file.parent.parent.mkdir(parents=True, exist_ok=True)
            config_file.parent.mkdir(mode=0o700, exist_ok=True)  # ours: private
        tmp = config_file.with_name(f".{config_file.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, config_file)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {config_file}: {exc.strerror}") from None

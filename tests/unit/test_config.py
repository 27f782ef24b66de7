"""Settings: defaults < TOML file < environment < CLI; one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tikget_tui import config, locations
from tikget_tui.config import ConfigError, Settings, load, read_config_file

# The settings the environment can set, cleared so the developer's shell cannot leak in.
ENV_VARS = [var for var, _ in config._ENV.values()]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def write_config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_defaults_live_under_tikget_home(isolated_home: Path) -> None:
    settings = load()
    assert settings.config_file == isolated_home / "config.toml"
    assert settings.data_dir == isolated_home / "data"
    assert settings.cache_dir == isolated_home / "cache"
    assert settings.download_dir == isolated_home / "downloads"
    assert settings.state_db == isolated_home / "data" / "state.sqlite3"
    assert settings.concurrency == 3
    assert settings.filename_template == config.DEFAULT_TEMPLATE
    assert settings.service_origin is None
    assert not settings.service.custom
    # nothing is created just by loading
    assert list(isolated_home.iterdir()) == []


def test_file_overrides_defaults_and_env_overrides_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        isolated_home,
        'concurrency = 5\naudio_mp3 = true\ntheme = "nord"\npoll_interval = 600\n'
        'download_dir = "~/from-file"\n',
    )
    settings = load()
    assert settings.concurrency == 5
    assert settings.audio_mp3 is True
    assert settings.theme == "nord"
    assert settings.poll_interval == 600.0
    assert settings.download_dir == Path("~/from-file").expanduser()

    monkeypatch.setenv("TIKGET_CONCURRENCY", "7")
    monkeypatch.setenv("TIKGET_AUDIO_MP3", "no")
    monkeypatch.setenv("TIKGET_DOWNLOAD_DIR", str(isolated_home / "env-dl"))
    settings = load()
    assert settings.concurrency == 7
    assert settings.audio_mp3 is False
    assert settings.theme == "nord"  # not overridden
    assert settings.download_dir == isolated_home / "env-dl"


def test_cli_overrides_through_replace(isolated_home: Path) -> None:
    write_config(isolated_home, "concurrency = 5\n")
    settings = load().replace(concurrency=2, service_origin=None)
    assert settings.concurrency == 2
    assert settings.service_origin is None
    with pytest.raises(ConfigError) as exc:
        settings.replace(concurrency=0)
    assert "concurrency" in one_line_error(exc)


def test_empty_env_value_is_ignored(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(isolated_home, "concurrency = 5\n")
    monkeypatch.setenv("TIKGET_CONCURRENCY", "  ")
    assert load().concurrency == 5


def test_load_takes_an_explicit_environment(tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    home.mkdir()
    write_config(home, "concurrency = 9\n")
    settings = load({"TIKGET_HOME": str(home), "TIKGET_THEME": "gruvbox"})
    assert settings.config_file == home / "config.toml"
    assert settings.concurrency == 9
    assert settings.theme == "gruvbox"


def test_tikget_config_overrides_the_path(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(isolated_home, "concurrency = 5\n")
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text("concurrency = 6\n", encoding="utf-8")
    monkeypatch.setenv("TIKGET_CONFIG", str(elsewhere))
    settings = load()
    assert settings.config_file == elsewhere
    assert settings.concurrency == 6
    assert locations.resolve().config_file == elsewhere
    # the other paths still come from TIKGET_HOME
    assert settings.data_dir == isolated_home / "data"


def test_directory_env_vars(isolated_home: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKGET_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("TIKGET_CACHE_DIR", str(tmp_path / "c"))
    locs = locations.resolve()
    assert locs.data_dir == tmp_path / "d"
    assert locs.cache_dir == tmp_path / "c"
    assert locs.state_db == tmp_path / "d" / "state.sqlite3"
    assert locs.demo_media_dir == tmp_path / "c" / "demo-media"
    assert locs.as_dict()["config file"] == str(isolated_home / "config.toml")


def test_without_tikget_home_paths_come_from_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKGET_HOME")
    locs = locations.resolve()
    assert locs.config_file.name == "config.toml"
    assert "tikget" in str(locs.config_file.parent).lower()
    assert locs.download_dir.name == "TikGet"


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    assert read_config_file(tmp_path / "nope.toml") == {}


def test_tikget_table(isolated_home: Path) -> None:
    write_config(isolated_home, '[tikget]\nconcurrency = 4\nfilename_template = "{creator}-{id}"\n')
    settings = load()
    assert settings.concurrency == 4
    assert settings.filename_template == "{creator}-{id}"


def test_flat_keys_and_tikget_table_together(isolated_home: Path) -> None:
    write_config(isolated_home, 'theme = "nord"\n[tikget]\nconcurrency = 4\n')
    settings = load()
    assert (settings.theme, settings.concurrency) == ("nord", 4)


def test_aliases(isolated_home: Path) -> None:
    write_config(
        isolated_home,
        'service = "http://127.0.0.1:8700"\ntemplate = "{id}"\nffprobe = "/opt/ffprobe"\n'
        'ffmpeg = "/opt/ffmpeg"\ndownload_directory = "/srv/tiktok"\n'
        '[keys]\nquit = "ctrl+q"\n',
    )
    settings = load()
    assert settings.service_origin == "http://127.0.0.1:8700"
    assert settings.service.custom
    assert settings.filename_template == "{id}"
    assert settings.ffprobe_path == "/opt/ffprobe"
    assert settings.ffmpeg_path == "/opt/ffmpeg"
    assert settings.download_dir == Path("/srv/tiktok")
    assert settings.keymap == {"quit": "ctrl+q"}


def test_keymap_under_tikget_table(isolated_home: Path) -> None:
    write_config(isolated_home, '[tikget.keymap]\nsave = "ctrl+s"\n')
    assert load().keymap == {"save": "ctrl+s"}


def test_bom_is_accepted(isolated_home: Path) -> None:
    (isolated_home / "config.toml").write_bytes(b"\xef\xbb\xbfconcurrency = 2\n")
    assert load().concurrency == 2


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("colour = 3\n", "unknown setting 'colour'"),
        ("[tikget]\nbogus = 1\n", "unknown setting 'bogus'"),
        ("data_dir = '/x'\n", "unknown setting 'data_dir'"),
        ("concurrency = 'many'\n", "concurrency"),
        ("concurrency = 2.5\n", "concurrency"),
        ("concurrency = true\n", "concurrency"),
        ("audio_mp3 = 'maybe'\n", "audio_mp3"),
        ("poll_interval = 'soon'\n", "poll_interval"),
        ("poll_interval = false\n", "poll_interval"),
        ("theme = 5\n", "theme"),
        ("filename_template = ['a']\n", "filename_template"),
        ("download_dir = 3\n", "download_dir"),
        ("download_dir = ''\n", "download_dir"),
        ("keys = 'ctrl+q'\n", "keymap"),
        ("[keys]\nquit = 1\n", "keymap"),
        ("concurrency = \n", "not valid TOML"),
        ("concurrency = 1\nconcurrency = 2\n", "not valid TOML"),
    ],
)
def test_bad_file_values_give_one_line_errors(isolated_home: Path, toml: str, words: str) -> None:
    write_config(isolated_home, toml)
    with pytest.raises(ConfigError) as exc:
        load()
    message = one_line_error(exc)
    assert words in message
    if "not valid TOML" not in words and "unknown" not in words:
        assert "config.toml" in message


def test_unreadable_and_undecodable_files(isolated_home: Path) -> None:
    (isolated_home / "config.toml").mkdir()
    with pytest.raises(ConfigError) as exc:
        load()
    assert "cannot read config file" in one_line_error(exc)
    (isolated_home / "config.toml").rmdir()
    (isolated_home / "config.toml").write_bytes(b"theme = '\xff'\n")
    with pytest.raises(ConfigError) as exc:
        load()
    assert "not valid TOML" in one_line_error(exc)


@pytest.mark.parametrize(
    ("var", "value", "words"),
    [
        ("TIKGET_CONCURRENCY", "lots", "$TIKGET_CONCURRENCY"),
        ("TIKGET_CONCURRENCY", "2.5", "$TIKGET_CONCURRENCY"),
        ("TIKGET_AUDIO_MP3", "perhaps", "$TIKGET_AUDIO_MP3"),
        ("TIKGET_POLL_INTERVAL", "soon", "$TIKGET_POLL_INTERVAL"),
        ("TIKGET_POLL_INTERVAL", "nan", "finite"),
        ("TIKGET_API_MIN_INTERVAL", "inf", "finite"),
        ("TIKGET_SERVICE", "ftp://127.0.0.1", "not an http(s) URL"),
        ("TIKGET_SERVICE", "http://127.0.0.1:8700/path", "origin only"),
        ("TIKGET_SERVICE", "http://[::1", "not a valid URL"),
        ("TIKGET_FILENAME_TEMPLATE", "{creator", "filename_template"),
    ],
)
def test_bad_env_values_give_one_line_errors(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, words: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as exc:
        load()
    assert words in one_line_error(exc)


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_env_booleans_true(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TIKGET_PREFER_H264", "0")
    assert load().prefer_h264 is False
    monkeypatch.setenv("TIKGET_PREFER_H264", value)
    assert load().prefer_h264 is True


def base_settings(tmp_path: Path) -> Settings:
    return Settings(download_dir=tmp_path / "dl", data_dir=tmp_path / "d",
                    cache_dir=tmp_path / "c", config_file=tmp_path / "config.toml")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"concurrency": 0}, "concurrency must be between 1 and 32"),
        ({"concurrency": 33}, "concurrency must be between 1 and 32"),
        ({"per_host_concurrency": 0}, "per_host_concurrency"),
        ({"per_host_concurrency": 33}, "per_host_concurrency"),
        ({"api_min_interval": -0.1}, "api_min_interval"),
        ({"api_min_interval": float("nan")}, "finite"),
        ({"poll_interval": 59.0}, "at least 60 seconds"),
        ({"poll_interval": 24 * 3600.0}, "under 24 hours"),
        ({"poll_interval": float("inf")}, "finite"),
        ({"request_timeout": 0.0}, "request_timeout"),
        ({"request_timeout": float("nan")}, "finite"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 101}, "max_retries"),
        ({"filename_template": "{creator"}, "filename_template"),
        ({"filename_template": "{author}"}, "filename_template"),
        ({"filename_template": "{0}"}, "filename_template"),
        ({"filename_template": "{}"}, "filename_template"),
        ({"filename_template": "{creator.__class__}"}, "filename_template"),
        ({"filename_template": "{creator[0]}"}, "filename_template"),
        ({"filename_template": "{creator!z}"}, "filename_template"),
        ({"service_origin": "not a url"}, "service origin"),
        ({"service_origin": "http://user@127.0.0.1:1"}, "user name"),
    ],
)
def test_validation_limits(tmp_path: Path, changes: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        base_settings(tmp_path).replace(**changes)
    assert words in one_line_error(exc)


@pytest.mark.parametrize(
    "changes",
    [
        {"concurrency": 1}, {"concurrency": 32}, {"poll_interval": 60.0},
        {"poll_interval": 24 * 3600.0 - 1}, {"api_min_interval": 0.0}, {"max_retries": 0},
        {"filename_template": "{creator}-{nickname}-{topic}-{date}-{time}-{id}-{kind}"},
        {"filename_template": "{creator:>10} {{literal}}"},
        {"service_origin": "http://127.0.0.1:8700/"},
    ],
)
def test_validation_accepts_the_edges(tmp_path: Path, changes: dict[str, object]) -> None:
    settings = base_settings(tmp_path).replace(**changes)
    for key, value in changes.items():
        assert getattr(settings, key) == value


def test_as_dict_is_plain(tmp_path: Path) -> None:
    data = base_settings(tmp_path).as_dict()
    assert data["download_dir"] == str(tmp_path / "dl")
    assert data["concurrency"] == 3
    assert all(not isinstance(v, Path) for v in data.values())


def test_limits_from_file_and_environment(isolated_home: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(isolated_home, "max_page_bytes = 2097152\nrequest_deadline = 20.0\n")
    monkeypatch.setenv("TIKGET_MAX_MEDIA_BYTES", "52428800")
    monkeypatch.setenv("TIKGET_MEDIA_SIZE_MARGIN", "0.2")
    monkeypatch.setenv("TIKGET_MIN_MEDIA_RATE", "1024")
    monkeypatch.setenv("TIKGET_MIN_RATE_GRACE", "5")
    monkeypatch.setenv("TIKGET_REQUEST_DEADLINE", "25")
    s = load()
    assert (s.max_page_bytes, s.max_media_bytes, s.media_size_margin) == (2097152, 52428800, 0.2)
    assert (s.min_media_rate, s.min_rate_grace, s.request_deadline) == (1024, 5.0, 25.0)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"max_page_bytes": 10}, "max_page_bytes"),
        ({"max_media_bytes": 0}, "max_media_bytes"),
        ({"media_size_margin": -0.5}, "media_size_margin"),
        ({"min_media_rate": -1}, "min_media_rate"),
        ({"request_deadline": 0.0}, "request_deadline"),
        ({"request_deadline": float("inf")}, "finite"),
        ({"min_rate_grace": 0.0}, "min_rate_grace"),
    ],
)
def test_limit_validation(tmp_path: Path, changes: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        base_settings(tmp_path).replace(**changes)
    assert words in one_line_error(exc)

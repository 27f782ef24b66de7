"""The command line: --version, --help, locate, usage errors; in-process and as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tikget_tui import __version__
from tikget_tui.cli import EXIT_USAGE, main
from tikget_tui.demo import MediaCatalog
from tikget_tui.tiktok.impersonate import describe


def run_module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tikget_tui", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ) if env is None else env,
        timeout=60,
        check=False,
    )


def locate_rows(text: str) -> dict[str, str]:
    rows = {}
    for line in text.splitlines():
        key, _, value = line.partition("  ")
        rows[key.strip()] = value.strip()
    return rows


def expected_locations(home: Path) -> dict[str, str]:
    return {
        "config file": str(home / "config.toml"),
        "data dir": str(home / "data"),
        "state database": str(home / "data" / "state.sqlite3"),
        "cache dir": str(home / "cache"),
        "download dir": str(home / "downloads"),
        "log file": str(home / "cache" / "tikget.log"),
        "saved answers": str(home / "cache" / "answers"),
        "service": "https://www.tiktok.com",
        "impersonate": describe("chrome"),
    }


def test_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tikget {__version__}"


def test_help_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tikget")
    for command in ("stories", "save", "verify", "watch", "audit", "export", "locate",
                    "demo-server"):
        assert command in out
    assert "--service" in out


def test_locate_in_process(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["locate"]) == 0
    assert locate_rows(capsys.readouterr().out) == expected_locations(isolated_home)
    # locate only prints: it creates nothing
    assert list(isolated_home.iterdir()) == []


def test_locate_follows_overrides(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TIKGET_CONFIG", str(tmp_path / "my.toml"))
    (tmp_path / "my.toml").write_text('download_dir = "/srv/saved"\n', encoding="utf-8")
    assert main(["--service", "http://127.0.0.1:8123", "locate"]) == 0
    rows = locate_rows(capsys.readouterr().out)
    assert rows["config file"] == str(tmp_path / "my.toml")
    assert rows["download dir"] == "/srv/saved"
    assert rows["service"] == "http://127.0.0.1:8123"
    assert main(["--dir", str(tmp_path / "cli-dl"), "locate"]) == 0
    assert locate_rows(capsys.readouterr().out)["download dir"] == str(tmp_path / "cli-dl")


@pytest.mark.parametrize(
    "argv",
    [
        ["--service", "ftp://x", "locate"],
        ["--service", "http://127.0.0.1:8123/path", "locate"],
        ["--service", "http://[::1", "locate"],
        ["--concurrency", "0", "locate"],
    ],
)
def test_bad_settings_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tikget: ")


def test_bad_config_file_exits_2_with_one_line(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_home / "config.toml").write_text("concurrency = 'x'\n", encoding="utf-8")
    assert main(["locate"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "concurrency" in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_version_subprocess() -> None:
    result = run_module("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tikget {__version__}"


def test_help_subprocess() -> None:
    result = run_module("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tikget")


def test_locate_subprocess(isolated_home: Path) -> None:
    result = run_module("locate")
    assert result.returncode == 0, result.stderr
    assert locate_rows(result.stdout) == expected_locations(isolated_home)


def test_bad_service_subprocess() -> None:
    result = run_module("--service", "not-a-url", "locate")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tikget: service origin 'not-a-url'")
    assert "Traceback" not in result.stderr


def test_global_demo_flag_points_a_command_at_the_built_in_stand_in(
    demo_media: MediaCatalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tikget --demo stories @x` starts the stand-in, runs the command against it, stops it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "demo-media").symlink_to(demo_media.folder.parent)  # reuse the generated media
    monkeypatch.setenv("TIKGET_CACHE_DIR", str(cache))
    assert main(["--demo", "stories", "@studio.photos"]) == 0
    out, err = capsys.readouterr()
    assert "starting the demo service" in err
    assert "@studio.photos" in out and "2 active stories" in out
    assert main(["--demo", "stories", "@secret.garden"]) == 1
    assert "private account" in capsys.readouterr().err


def test_the_plain_start_parser_names_every_command() -> None:
    """The fast path for ``tikget [global options]`` (issue 15) steps aside for every
    command the full parser has."""
    from tikget_tui.cli import _COMMANDS, build_parser

    parser = build_parser()
    subparsers = [a for a in parser._actions if a.choices and a.dest == "command"]
    assert len(subparsers) == 1
    assert set(subparsers[0].choices or ()) == set(_COMMANDS)


SHORTCUT = [[], ["--demo"], ["--dir", "/tmp/x"], ["--dir=/tmp/x", "--demo"], ["-v"],
            ["--concurrency", "3", "--service", "http://127.0.0.1:9"], ["--write-pages", "p"]]
FULL_PARSER = [
    ["--dir", "save"],  # a folder named like a command: the full parser decides
    ["--concurrency", "x"], ["--dem"], ["--ver"], ["--version"], ["-h"], ["stray"],
    ["--dir"], ["save", "@u"], ["-"], ["--demo", "locate"], ["-vv"],
]


@pytest.mark.parametrize("argv", SHORTCUT + FULL_PARSER)
def test_the_plain_start_parser_agrees_with_the_full_one(
    argv: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    """The same namespace when the shortcut answers; otherwise the full parser answers
    (and words any error), so no command line means something else for the shortcut."""
    from tikget_tui.cli import GLOBAL_DEFAULTS, _plain_app_args, build_parser

    fast = _plain_app_args(list(argv))
    assert (fast is not None) == (argv in SHORTCUT)
    if fast is None:
        return
    full = build_parser().parse_args(list(argv))
    capsys.readouterr()
    for name, default in GLOBAL_DEFAULTS.items():
        for args in (fast, full):
            if not hasattr(args, name):
                setattr(args, name, default)
    assert vars(fast) == vars(full) and fast.command is None

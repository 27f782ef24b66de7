"""Options as people type them: every global option before or after the subcommand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tikget_tui.cli import GLOBAL_DEFAULTS, build_parser, parse_args

# every command line that runs something, with what it needs besides the global options
COMMANDS = [
    ["stories", "@u"],
    ["save", "@u"],
    ["verify", "f.mp4"],
    ["watch", "add", "@u"],
    ["watch", "remove", "@u"],
    ["watch", "list"],
    ["watch", "run"],
    ["audit"],
    ["export"],
    ["locate"],
    ["demo-server"],
]
GIVEN = ["--service", "http://127.0.0.1:8123", "--demo", "--strict", "--dir", "/tmp/x",
         "--concurrency", "2", "-v", "--write-pages", "/tmp/pages"]
WANTED = {"service": "http://127.0.0.1:8123", "demo": True, "strict": True,
          "dir": Path("/tmp/x"),
          "concurrency": 2, "verbose": True, "write_pages": Path("/tmp/pages")}


def test_the_table_covers_every_global_option() -> None:
    assert set(WANTED) == set(GLOBAL_DEFAULTS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_global_options_before_or_after_the_command_mean_the_same(command: list[str]) -> None:
    before = parse_args([*GIVEN, *command])
    after = parse_args([*command, *GIVEN])
    for name, value in WANTED.items():
        assert getattr(before, name) == value, name
        assert getattr(after, name) == value, name
    # not given anywhere: the defaults, whichever side
    plain = parse_args(command)
    assert {n: getattr(plain, n) for n in GLOBAL_DEFAULTS} == GLOBAL_DEFAULTS


def test_the_issue_command_lines() -> None:
    args = parse_args(["save", "@u", "--service", "http://127.0.0.1:9", "--dir", "D", "--json"])
    assert (args.command, args.targets, args.service, args.dir, args.json) == (
        "save", ["@u"], "http://127.0.0.1:9", Path("D"), True)
    args = parse_args(["stories", "@u", "--service", "http://127.0.0.1:9", "--json"])
    assert (args.command, args.targets, args.service, args.json) == (
        "stories", ["@u"], "http://127.0.0.1:9", True)
    # mixed: one before, one after; the one given after the command wins a repeat
    args = parse_args(["--dir", "A", "save", "@u", "--dir", "B"])
    assert args.dir == Path("B")
    args = parse_args(["--dir", "A", "save", "@u"])
    assert args.dir == Path("A")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_each_command_help_lists_the_global_options(
    command: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    words = [w for w in command if not w.startswith(("@", "f."))]
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*words, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "global options (before or after the command)" in out
    for option in ("--service", "--demo", "--dir", "--concurrency", "--verbose",
                   "--write-pages"):
        assert option in out, option


def test_relative_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The archive records where files are: a relative --dir is taken from here."""
    from tikget_tui.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["locate", "--dir", "saved"]) == 0
    row = next(ln for ln in capsys.readouterr().out.splitlines()
               if ln.startswith("download dir"))
    assert row.split(None, 2)[2] == str(tmp_path / "saved")

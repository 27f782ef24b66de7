"""The wheel, installed non-editable into a fresh venv, works on its own.

The wheel is built with the venv's hatchling (no build isolation, so nothing is
downloaded) and installed with ``--no-deps`` into a new venv made with
``python -m venv``. The dependencies come from the development venv through a
``.pth`` file; the development venv's *editable* tikget_tui is not picked up,
because a directory added by a ``.pth`` file does not get its own ``.pth``
files processed and the new venv's site-packages comes first anyway. Every
check below asserts that the code that ran is the installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import tikget_tui

REPO = Path(__file__).resolve().parents[2]
DEV_PURELIB = Path(sysconfig.get_paths()["purelib"])


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    python: Path
    tikget: Path
    site_packages: Path
    workdir: Path

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "TIKGET_", "VIRTUAL_ENV"))}
        env["TIKGET_HOME"] = str(home)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(
        self, argv: list[str | Path], home: Path, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [str(a) for a in argv],
                cwd=self.workdir,  # not the repository: its tikget_tui must not shadow the wheel
                env=self.env(home),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{argv} did not finish in {timeout} s:\n{exc.stdout!r}\n{exc.stderr!r}")


def _check(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("packaging")
    dist = root / "dist"
    _check([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
            "--no-build-isolation", "--no-index", "-w", str(dist), str(REPO)])
    wheels = sorted(dist.glob("tikget_tui-*.whl"))
    assert len(wheels) == 1, wheels

    venv = root / "venv"
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _check([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
            "--no-deps", "--no-index", str(wheels[0])])
    site_packages = Path(
        subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                        "['purelib'])"], capture_output=True, text=True, check=True,
                       timeout=60).stdout.strip()
    )
    # the dependencies (textual, httpx, ...) without downloading them again
    (site_packages / "zz_dev_dependencies.pth").write_text(f"{DEV_PURELIB}\n", encoding="utf-8")
    workdir = root / "work"
    workdir.mkdir()
    yield Installed(wheels[0], venv, python, venv / "bin" / "tikget", site_packages, workdir)


def test_installed_copy_is_the_one_imported(installed: Installed, tmp_path: Path) -> None:
    result = installed.run(
        [installed.python, "-c",
         "import tikget_tui, textual; print(tikget_tui.__file__); print(textual.__file__)"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    package_file, textual_file = (Path(p) for p in result.stdout.split())
    assert package_file.is_relative_to(installed.site_packages)
    assert not package_file.is_relative_to(REPO)
    assert textual_file.is_relative_to(DEV_PURELIB)


def test_console_script_version_and_help(installed: Installed, tmp_path: Path) -> None:
    assert installed.tikget.is_file()
    result = installed.run([installed.tikget, "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tikget {tikget_tui.__version__}"
    result = installed.run([installed.tikget, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tikget")
    assert "locate" in result.stdout


def test_console_script_locate(installed: Installed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = installed.run([installed.tikget, "locate"], home)
    assert result.returncode == 0, result.stderr
    assert f"config file     {home / 'config.toml'}" in result.stdout
    assert f"download dir    {home / 'downloads'}" in result.stdout
    assert f"state database  {home / 'data' / 'state.sqlite3'}" in result.stdout


def test_bad_service_from_the_installed_script(installed: Installed, tmp_path: Path) -> None:
    result = installed.run([installed.tikget, "--service", "nope", "locate"], tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1


def test_every_stylesheet_is_in_the_wheel_and_installed(installed: Installed) -> None:
    stylesheets = sorted(p.name for p in (REPO / "styles").glob("*.tcss"))
    assert stylesheets, "the repository has no styles/*.tcss"
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for name in stylesheets:
        assert f"tikget_tui/styles/{name}" in names
        installed_copy = installed.site_packages / "tikget_tui" / "styles" / name
        assert installed_copy.read_bytes() == (REPO / "styles" / name).read_bytes()
    # the wheel ships the package, not the tests, the venv or caches
    assert not any(n.startswith(("tests/", ".venv/")) or "__pycache__" in n for n in names)


APP_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import os
    import sys
    from pathlib import Path

    import tikget_tui
    from tikget_tui.config import load
    from tikget_tui.ui.app import TikGetApp

    package = Path(tikget_tui.__file__).resolve().parent


    async def watchdog(app: TikGetApp) -> None:
        # only fires on a hang: say which widgets never finished mounting
        await asyncio.sleep(40)
        stuck = [repr(w) for screen in app.screen_stack
                 for w in screen.walk_children(with_self=True) if not w.is_mounted]
        print("the app did not start within 40 s; not mounted: " + ", ".join(stuck),
              file=sys.stderr, flush=True)
        os._exit(1)


    async def main() -> None:
        app = TikGetApp(load())
        guard = asyncio.create_task(watchdog(app))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            css_paths = [Path(p).resolve() for p in (app.css_path or [])]
            for path in css_paths:
                assert path.is_relative_to(package), path
                assert path.is_file(), path
            print("css", len(css_paths))
        guard.cancel()
        assert app.return_code in (None, 0), app.return_code


    asyncio.run(main())
    print("ok", package)
    """
)


def test_app_starts_headless_from_the_installed_package(
    installed: Installed, tmp_path: Path
) -> None:
    script = installed.workdir / "run_app.py"
    script.write_text(APP_SCRIPT, encoding="utf-8")
    result = installed.run([installed.python, script], tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"ok {(installed.site_packages / 'tikget_tui').resolve()}"

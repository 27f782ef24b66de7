"""Hostile photos in the app (issue 22): a creator's photo stories hold a Pillow bomb
(a JPEG declaring 196 Mpx) and a 120 Mpx photo, served by the stand-in and saved through
the real queue. The report of each opens without a traceback, is drawn from the small
thumbnails the verification wrote (Pillow never opens an original, and decodes only in a
worker thread), and the next key is answered right after. A budget too small for even
a thumbnail, and a cache that lost them, end in a one-line note and in thumbnails made
again by ffmpeg."""

from __future__ import annotations

import shutil
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.hostile_files import bomb_jpeg, huge_jpeg
from tests.plugins.ui import wait_until
from tests.ui.test_library import open_library, save_all
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, MediaCatalog
from tikget_tui.demo.media import MediaFile
from tikget_tui.demo.scenario import DemoCreator, DemoStory, Kind, default_scenario
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.widgets.frame_strip import Picture

pytestmark = pytest.mark.usefixtures("utc_local_time")

CREATOR = "hostile.photos"
MB = 1024 * 1024


@pytest.fixture
def halfcell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKGET_IMAGES", "halfcell")
    monkeypatch.delenv("NO_COLOR", raising=False)


def _image(name: str, path: Path, width: int, height: int) -> MediaFile:
    return MediaFile(name=name, path=path, size=path.stat().st_size, kind="image",
                     width=width, height=height, duration=0.0, codec="jpeg", has_audio=False)


@pytest.fixture
async def hostile_server(demo_media: MediaCatalog, demo_clock: FakeClock,
                         tmp_path: Path) -> Any:
    folder = tmp_path / "hostile-media"
    folder.mkdir()
    files = {name: demo_media[name] for name in demo_media}
    files["bomb"] = _image("bomb", bomb_jpeg(folder / "bomb.jpg"), 14000, 14000)
    files["huge"] = _image("huge", huge_jpeg(folder / "huge.jpg"), 12000, 10000)
    scenario = default_scenario()
    scenario.add_creator(DemoCreator(
        username=CREATOR, nickname="Hostile Photos", user_id="6800000000000000922",
        sec_uid="MS4wLjABAAAAhostilephotos",
        stories=[
            DemoStory("7449000000000000921", kind=Kind.PHOTO, caption="Bomb gallery",
                      images=["bomb", "photo_1"], created=-3600.0),
            DemoStory("7449000000000000922", kind=Kind.PHOTO, caption="Huge gallery",
                      images=["huge"], created=-1800.0),
        ]))
    server = DemoServer(scenario, clock=demo_clock, media=MediaCatalog(folder, files),
                        media_dir=demo_media.folder.parent)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def pillow_opens(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, bool, int]]:
    """Every file Pillow opens: its path, whether on the event loop's thread, its pixels."""
    from PIL import Image

    real = Image.open
    seen: list[tuple[Path, bool, int]] = []

    def spy(fp: Any, *args: Any, **kwargs: Any) -> Any:
        image = real(fp, *args, **kwargs)
        seen.append((Path(str(fp)), threading.current_thread() is threading.main_thread(),
                     image.size[0] * image.size[1]))
        return image

    monkeypatch.setattr(Image, "open", spy)
    return seen


def settled(pictures: list[Picture]) -> bool:
    return bool(pictures) and all(p.drawn or p.note for p in pictures)


async def open_report(pilot: Any, app: TikGetApp, words: str) -> list[Picture]:
    screen = app.main_screen
    assert screen is not None
    if screen.active_pane != "library":
        screen = await open_library(pilot, app)
    screen.library.filter.focus()
    screen.library.filter.value = ""
    await pilot.press(*words)
    assert len(screen.library.table.items) == 1, words
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.active_pane == "report", "the report")
    await wait_until(pilot, lambda: settled(list(screen.report.query(Picture))),
                     "the pictures drawn or noted")
    return list(screen.report.query(Picture))


async def test_hostile_photos_open_from_thumbnails_and_keys_still_answer(
    hostile_server: DemoServer, demo_clock: FakeClock, tmp_path: Path, halfcell: None,
    pillow_opens: list[tuple[Path, bool, int]],
) -> None:
    settings: Settings = load().replace(service_origin=hostile_server.origin,
                                        download_dir=tmp_path / "downloads",
                                        api_min_interval=0.0)
    frames = settings.cache_dir / "frames"
    app = TikGetApp(settings, clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await save_all(pilot, app, CREATOR)
        assert {str(j.verdict) for j in app.manager.jobs()} == {"ok"}  # type: ignore[union-attr]

        tracemalloc.start()
        try:
            for words, count in (("bomb", 2), ("huge", 1)):
                pictures = await open_report(pilot, app, words)
                assert len(pictures) == count
                assert all(p.drawn and not p.note for p in pictures), [p.note for p in pictures]
                assert screen.report.pictures == [f"{i}/{count}" for i in range(1, count + 1)]
                # the next key is answered at once: the loop was never busy decoding
                await pilot.press("5")
                assert screen.active_pane == "library"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 40 * MB, f"peak {peak / MB:.0f} MB"
        opened = list(pillow_opens)
        assert opened, "no picture was drawn"
        for path, on_loop, pixels in opened:
            assert path.is_relative_to(frames), f"an original was opened: {path}"
            assert not on_loop, f"{path} decoded on the event loop"
            assert pixels <= 480 * 480

        # a budget smaller than a thumbnail: a one-line note, never an exception
        app.settings = settings.replace(max_picture_pixels=10_000)
        pictures = await open_report(pilot, app, "huge")
        assert [p.note for p in pictures] == [
            "preview not drawn: 480x400 image over the 0.01 Mpx budget"]
        assert screen.report.picture_notes == [pictures[0].note]
        await pilot.press("5")
        assert screen.active_pane == "library"

        # the cache lost the thumbnails: ffmpeg makes them again, no original is opened
        app.settings = settings
        shutil.rmtree(frames)
        del pillow_opens[:]
        await open_report(pilot, app, "bomb")
        await wait_until(pilot, lambda: len(list(screen.report.query(Picture))) == 2
                         and all(p.drawn for p in screen.report.query(Picture)),
                         "the thumbnails made again")
        assert pillow_opens and all(p.is_relative_to(frames) for p, _, _ in pillow_opens)

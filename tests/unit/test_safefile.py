"""files/safefile.py: no link followed, no name replaced, claims between tikgets."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tikget_tui.files import safefile
from tikget_tui.files.safefile import Claim, ForeignFile, open_own, place


def test_place_never_replaces_anything(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    for planted in ("file", "link", "dangling"):
        src = tmp_path / f"src-{planted}"
        src.write_text("new")
        final = tmp_path / f"final-{planted}"
        if planted == "file":
            final.write_text("theirs")
        elif planted == "link":
            final.symlink_to(victim)
        else:
            final.symlink_to(tmp_path / "nowhere")
        with pytest.raises(FileExistsError):
            place(src, final)
        assert src.read_text() == "new"  # still ours, still there
    assert victim.read_text() == "keep" and not (tmp_path / "nowhere").exists()
    src = tmp_path / "src"
    src.write_text("new")
    place(src, tmp_path / "free")
    assert (tmp_path / "free").read_text() == "new" and not src.exists()


def test_open_own_refuses_what_tikget_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("x")
    (tmp_path / "link").symlink_to(keep)
    os.link(keep, tmp_path / "hard")
    os.mkfifo(tmp_path / "fifo")
    for name, words in (("link", "symbolic link"), ("hard", "other hard links"),
                        ("fifo", "not a regular file")):
        with pytest.raises(ForeignFile) as info:
            os.close(open_own(tmp_path / name))
        assert words in info.value.reason and "\n" not in info.value.reason
    os.unlink(tmp_path / "hard")
    fd = open_own(keep)
    with pytest.raises(ForeignFile, match="another file than"):
        open_own(keep, expect=(0, 0))
    os.close(fd)


def test_cleanup_removes_only_dead_processes_private_folders(tmp_path: Path) -> None:
    mine = safefile.private_dir(tmp_path)
    dead = tmp_path / f"{safefile.PRIVATE_PREFIX}999999999-abc"
    dead.mkdir()
    alive = tmp_path / f"{safefile.PRIVATE_PREFIX}1-abc"  # pid 1 is always there
    alive.mkdir()
    linked = tmp_path / f"{safefile.PRIVATE_PREFIX}999999998-abc"
    linked.symlink_to(mine)
    stale = tmp_path / ".tikget-5-video.claim"  # its holder was killed
    stale.write_text("")
    async def hold() -> Claim:
        held = Claim(tmp_path, "6", "video")
        await held.acquire(lambda: None)
        return held
    held = asyncio.run(hold())
    # sidecar temp files: one a killed tikget left, one another tikget is writing now,
    # one of ours (this process), a link with a dead pid's name
    left = tmp_path / f"{safefile.SIDECAR_TEMP_PREFIX}999999999-x1y2.tmp"
    left.write_text("{")
    writing = tmp_path / f"{safefile.SIDECAR_TEMP_PREFIX}1-x1y2.tmp"
    writing.write_text("{")
    ours = tmp_path / f"{safefile.temp_prefix('sidecar')}x1y2.tmp"
    ours.write_text("{")
    target = tmp_path / "kept.txt"
    target.write_text("not tikget's")
    link = tmp_path / f"{safefile.SIDECAR_TEMP_PREFIX}999999998-x1y2.tmp"
    link.symlink_to(target)
    safefile.cleanup(tmp_path)
    assert mine.is_dir() and alive.is_dir() and not dead.exists() and linked.is_symlink()
    assert not stale.exists() and held.path.exists()
    assert not left.exists() and writing.exists() and ours.exists()
    assert link.is_symlink() and target.read_text() == "not tikget's"
    held.release()
    safefile.remove_private(mine)
    assert not mine.exists()


def test_a_claim_is_held_by_one_and_handed_over_with_what_was_saved(tmp_path: Path) -> None:
    async def scenario() -> dict[str, object]:
        first, second = Claim(tmp_path, "7", "video"), Claim(tmp_path, "7", "video")
        assert await first.acquire(lambda: None) == {}
        waited: list[bool] = []
        second.POLL = 0.01
        task = asyncio.create_task(second.acquire(lambda: waited.append(True)))
        await asyncio.sleep(0.05)
        assert waited and not task.done()
        first.release("stem", ["stem.mp4"])
        saved = await asyncio.wait_for(task, 5)
        assert not first.path.exists()  # removed: nothing left in the folder
        return saved

    assert asyncio.run(scenario())["files"] == ["stem.mp4"]


def test_a_failed_holder_hands_over_nothing_and_a_link_is_no_claim(tmp_path: Path) -> None:
    async def scenario() -> None:
        first, second = Claim(tmp_path, "8", "video"), Claim(tmp_path, "8", "video")
        await first.acquire(lambda: None)
        second.POLL = 0.01
        task = asyncio.create_task(second.acquire(lambda: None))
        await asyncio.sleep(0.03)
        first.release()  # nothing saved: the second one claims it for itself
        assert await asyncio.wait_for(task, 5) == {}
        second.release()

    asyncio.run(scenario())
    (tmp_path / ".tikget-9-video.claim").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ForeignFile):
        asyncio.run(Claim(tmp_path, "9", "video").acquire(lambda: None))
    assert not (tmp_path / "elsewhere").exists()


def test_a_claim_held_too_long_is_one_line_not_a_hang(tmp_path: Path) -> None:
    async def scenario() -> None:
        holder, waiter = Claim(tmp_path, "4", "video"), Claim(tmp_path, "4", "video")
        await holder.acquire(lambda: None)
        waiter.POLL, waiter.MAX_WAIT = 0.01, 0.05
        with pytest.raises(safefile.ClaimHeld) as info:
            await asyncio.wait_for(waiter.acquire(lambda: None), 5)
        assert "\n" not in info.value.reason and ".tikget-4-video.claim" in info.value.reason
        holder.release()

    asyncio.run(scenario())


@pytest.mark.parametrize("planted", ["link", "dangling", "hardlink"])
def test_a_link_planted_at_a_new_files_name_is_never_written_through(
    tmp_path: Path, planted: str,
) -> None:
    """New files are made with O_CREAT|O_EXCL|O_NOFOLLOW: a link someone planted at the
    name (after any check we made) is refused, never opened, and what it points at is
    neither truncated nor created."""
    from tikget_tui.downloads.transfer import open_part

    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    nowhere = tmp_path / "nowhere"
    part = tmp_path / "story.mp4.part"
    if planted == "link":
        part.symlink_to(victim)
    elif planted == "dangling":
        part.symlink_to(nowhere)
    else:
        os.link(victim, part)
    with pytest.raises(FileExistsError):
        os.close(safefile.create_new(part))
    with pytest.raises(ForeignFile):
        open_part(part, 0).close()
    assert victim.read_bytes() == b"precious" and not nowhere.exists()
    assert part.is_symlink() == (planted != "hardlink")

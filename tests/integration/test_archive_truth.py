"""The archive never lies: verifying again compares with what was recorded at save time
and never rewrites it (issue 25), against files saved from the stand-in."""

from __future__ import annotations

import json
from pathlib import Path

from tikget_tui.archive.audit import Problem, audit
from tikget_tui.archive.records import Records
from tikget_tui.downloads import DownloadManager, JobState
from tikget_tui.downloads.events import CHANGED_REASON, MISSING_REASON
from tikget_tui.verify import verify
from tikget_tui.verify.files import compare, expected_from, sidecar_of

VIDEO = "7440000000000000002"  # mika.travels, H.264


async def save(m: DownloadManager, story, **kw):  # type: ignore[no-untyped-def]
    job = await m.enqueue(story, **kw)
    await m.wait_idle()
    out = m.job(job.id)
    assert out is not None
    return out


def sidecar_of_job(job) -> Path:  # type: ignore[no-untyped-def]
    return job.files[0].parent / (job.stem + ".info.json")


async def test_verify_again_keeps_the_evidence_of_an_edited_file(manager, find_story) -> None:
    """The issue's scenario: 8 bytes appended to a saved .mp4, then v. The job, its report
    and the copy's check say `changed` with both sizes; the archive record and the sidecar
    stay byte for byte what the save wrote, so the audit still says `changed`."""
    job = await save(manager, await find_story(VIDEO))
    assert job.state == JobState.DONE, job.reason
    media, side = job.files[0], sidecar_of_job(job)
    recorded_side = side.read_bytes()
    recorded = Records(manager.store).get(VIDEO, "video")
    assert recorded is not None
    saved_size = media.stat().st_size
    with media.open("ab") as f:
        f.write(b"\0" * 8)
    [finding] = audit(manager.store)
    assert finding.problems == (Problem.CHANGED,)
    assert f"is {saved_size + 8} bytes, {saved_size} were saved" in finding.details[0]

    again = await manager.reverify(job.id)

    assert again.state == JobState.FAILED
    assert again.reason.startswith(CHANGED_REASON), again.reason
    assert f"{saved_size + 8} bytes, {saved_size} were saved" in again.reason
    assert "was recorded" in again.reason  # both sha256s, shortened
    assert again.sha256 == recorded.sha256
    check = Records(manager.store).check_get(media)
    assert check is not None and check.status == "changed"
    report = Records(manager.store).latest_report(media)
    assert report is not None and report["verdict"] == "fail"
    assert report["checks"][0]["name"] == "recorded"
    assert report["checks"][0]["detail"].startswith("changed: ")
    assert report["size"] == saved_size + 8
    # the evidence is untouched
    assert side.read_bytes() == recorded_side
    assert Records(manager.store).get(VIDEO, "video") == recorded
    assert Records(manager.store).get_report(media)["verdict"] == "ok"  # type: ignore[index]
    [finding] = audit(manager.store)
    assert finding.problems == (Problem.CHANGED,), finding
    assert f"is {saved_size + 8} bytes, {saved_size} were saved" in finding.details[0]
    # tikget verify FILE: the sidecar still describes the file as saved
    fresh = await verify(media, expected_from(sidecar_of(media), None))
    assert compare(fresh, sidecar_of(media)) is True
    detail = fresh.check("sidecar").detail  # type: ignore[union-attr]
    assert f"{saved_size + 8} bytes" in detail and f"recorded {saved_size}" in detail


async def test_verify_again_on_a_deleted_file_says_missing(manager, find_story) -> None:
    job = await save(manager, await find_story(VIDEO))
    media = job.files[0]
    recorded = Records(manager.store).get(VIDEO, "video")
    side_bytes = sidecar_of_job(job).read_bytes()
    media.unlink()

    again = await manager.reverify(job.id)

    assert again.state == JobState.FAILED
    assert again.reason.startswith(MISSING_REASON + f"{media.name} is gone from "), again.reason
    check = Records(manager.store).check_get(media)
    assert check is not None and check.status == "missing"
    report = Records(manager.store).latest_report(media)
    assert report is not None and report["verdict"] == "fail"
    assert report["checks"][0]["detail"].startswith(f"missing: {media.name} is gone")
    assert Records(manager.store).get(VIDEO, "video") == recorded
    assert sidecar_of_job(job).read_bytes() == side_bytes


async def test_verify_again_on_an_intact_file_changes_no_record(manager, find_story) -> None:
    job = await save(manager, await find_story(VIDEO))
    recorded = Records(manager.store).get(VIDEO, "video")
    side = sidecar_of_job(job)
    side_bytes = side.read_bytes()

    again = await manager.reverify(job.id)

    assert again.state == JobState.DONE and again.verdict == "ok"
    assert again.reason.startswith("verified again: ok"), again.reason
    assert Records(manager.store).get(VIDEO, "video") == recorded  # saved_at kept
    assert side.read_bytes() == side_bytes
    report = Records(manager.store).latest_report(job.files[0])
    assert report is not None
    first = report["checks"][0]
    assert first["name"] == "recorded" and first["status"] == "ok"
    assert "the same file as saved (sha256 matches)" in first["detail"]
    assert json.loads(side_bytes)["saved_at"] in first["detail"].replace(" ", "T") or \
        "saved " in first["detail"]


async def test_saving_a_missing_file_again_takes_its_own_name_back(manager, find_story) -> None:
    """Deleted from disk, v says missing, then saved again (the library's r): the file
    comes back under its own name (never ...-ID.mp4), the sidecar is the same file,
    rewritten with the new save time, and keeps the first save in its history."""
    story = await find_story(VIDEO)
    job = await save(manager, story)
    media, side = job.files[0], sidecar_of_job(job)
    first = json.loads(side.read_text())
    media.unlink()
    assert (await manager.reverify(job.id)).state == JobState.FAILED

    again = await save(manager, story)

    assert again.id != job.id and again.state == JobState.DONE, again.reason
    assert again.files[0] == media and media.is_file()
    assert again.stem == job.stem
    assert sorted(p.name for p in media.parent.iterdir()) == sorted([media.name, side.name])
    now = json.loads(side.read_text())
    assert now["file"] == media.name and now["saved_at"] != first["saved_at"]
    assert [h["saved_at"] for h in now["history"]] == [first["saved_at"]]
    assert now["history"][0]["files"] == first["files"]
    entry = Records(manager.store).get(VIDEO, "video")
    assert entry is not None and entry.path == media and entry.job_id == again.id
    assert Records(manager.store).check_get(media) is None  # the new save starts afresh


async def test_audio_and_video_of_one_story_are_told_apart_by_extension(
    manager, find_story,
) -> None:
    """Saved as MP3, then as video: one human name, two extensions (never the id), each
    with its own sidecar; the audit and `tikget verify` find both."""
    story = await find_story(VIDEO)
    audio = await save(manager, story, audio=True)
    video = await save(manager, story)
    assert audio.state == video.state == JobState.DONE, (audio.reason, video.reason)
    assert audio.stem == video.stem and VIDEO not in (video.stem or "")
    folder = video.files[0].parent
    stem = video.stem
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{stem}.mp3", f"{stem}.mp3.info.json", f"{stem}.mp4", f"{stem}.info.json"])
    assert json.loads((folder / f"{stem}.mp3.info.json").read_text())["variant"] == "audio"
    assert json.loads((folder / f"{stem}.info.json").read_text())["variant"] == "video"
    assert [f.status for f in audit(manager.store)] == ["ok", "ok"]
    for media in (audio.files[0], video.files[0]):
        record = sidecar_of(media)
        assert record is not None and record.path.name.startswith(media.name.rsplit(".")[0])
        fresh = await verify(media, expected_from(record, None))
        assert compare(fresh, record) is False
    # verified again, both still match what was recorded
    assert (await manager.reverify(audio.id)).state == JobState.DONE
    assert (await manager.reverify(video.id)).state == JobState.DONE


async def test_a_link_planted_as_the_part_is_created_stops_the_download(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, tmp_path: Path,
) -> None:
    """An attacker wins the race: the link appears at NAME.mp4.part just before tikget
    creates it (after every check). O_EXCL|O_NOFOLLOW refuse it: the job fails with one
    line naming the link, and the file the link points at is untouched."""
    import os

    from tikget_tui.downloads.transfer import open_part

    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"someone else's file")
    planted: list[Path] = []

    def planting_opener(path: Path, start: int):  # type: ignore[no-untyped-def]
        if not planted:
            os.symlink(victim, path)
            planted.append(path)
        return open_part(path, start)

    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, opener=planting_opener) as m:
        job = await save(m, await find_story(VIDEO))
    assert planted and job.state == JobState.FAILED
    assert "is a symbolic link, not a file tikget made" in job.reason, job.reason
    assert "\n" not in job.reason
    assert victim.read_bytes() == b"someone else's file"
    assert planted[0].is_symlink()  # left alone


async def test_saving_a_failing_file_again_replaces_it_under_its_own_name(
    manager, find_story,
) -> None:
    """The library's r on a changed (or failing) copy: downloaded again under the same
    name, replacing exactly that file; the sidecar keeps the first save in its history and
    the archive row describes the new save. A file put there since (another inode) is
    never replaced: the new download then takes the documented fresh name."""
    story = await find_story(VIDEO)
    job = await save(manager, story)
    media, side = job.files[0], sidecar_of_job(job)
    first = json.loads(side.read_text())
    good = media.read_bytes()
    media.write_bytes(good[: len(good) // 2])
    assert (await manager.reverify(job.id)).reason.startswith(CHANGED_REASON)

    again = await save(manager, story, replace=True)

    assert again.state == JobState.DONE, again.reason
    assert again.files[0] == media and media.read_bytes() == good
    assert sorted(p.name for p in media.parent.iterdir()) == sorted([media.name, side.name])
    now = json.loads(side.read_text())
    assert [h["saved_at"] for h in now["history"]] == [first["saved_at"]]
    assert now["history"][0]["files"][0]["sha256"] == first["sha256"]
    [entry] = Records(manager.store).locations(VIDEO, "video")
    assert entry.path == media and entry.job_id == again.id
    assert [f.status for f in audit(manager.store)] == ["ok"]

    # another file took the name after r was pressed: left alone
    queued = await manager.enqueue(story, replace=True)
    other = media.with_name("someone-else.mp4")
    other.write_bytes(b"someone else's file")  # made while the old one exists: another inode
    other.replace(media)
    await manager.wait_idle()
    third = manager.job(queued.id)
    assert third is not None and third.state == JobState.DONE, third.reason
    assert third.files[0] != media and VIDEO in third.files[0].name
    assert "appeared in the folder meanwhile" in third.reason
    assert media.read_bytes() == b"someone else's file"


async def test_retry_after_v_found_it_changed_downloads_again_never_launders(
    manager, find_story,
) -> None:
    """t on the job v marked changed: the story is downloaded again and replaces the edited
    file; the record is never rewritten from the edited bytes."""
    job = await save(manager, await find_story(VIDEO))
    media = job.files[0]
    good = media.read_bytes()
    recorded = Records(manager.store).get(VIDEO, "video")
    with media.open("ab") as f:
        f.write(b"\0" * 8)
    assert (await manager.reverify(job.id)).state == JobState.FAILED
    await manager.retry(job.id)
    await manager.wait_idle()
    again = manager.job(job.id)
    assert again is not None and again.state == JobState.DONE, again.reason
    assert media.read_bytes() == good  # the served bytes again, not the edited ones
    entry = Records(manager.store).get(VIDEO, "video")
    assert entry is not None and entry.sha256 == recorded.sha256  # type: ignore[union-attr]
    assert entry.size == len(good)
    assert [f.status for f in audit(manager.store)] == ["ok"]


async def test_audit_requeue_puts_a_changed_file_back_under_its_own_name(
    manager, find_story, dl_client, demo_clock,
) -> None:
    from tikget_tui.archive.audit import requeue

    job = await save(manager, await find_story(VIDEO))
    media, side = job.files[0], sidecar_of_job(job)
    good = media.read_bytes()
    edited = bytearray(good)
    edited[-50:-40] = bytes(b ^ 0xFF for b in edited[-50:-40])
    media.write_bytes(bytes(edited))  # same size, other bytes
    [finding] = audit(manager.store)
    assert finding.problems == (Problem.CHANGED,)
    [done] = await requeue([finding], manager, dl_client, clock=demo_clock)
    assert done.action == f"re-queued and saved again as {media.name} (ok)", done.action
    assert media.read_bytes() == good
    assert sorted(p.name for p in media.parent.iterdir()) == sorted([media.name, side.name])
    assert len(json.loads(side.read_text())["history"]) == 1
    assert [f.status for f in audit(manager.store)] == ["ok"]

"""Which files ``tikget verify`` checks, and what their sidecars expect (no ffprobe)."""

from __future__ import annotations

import json
from pathlib import Path

from tikget_tui.verify.files import collect, expected_from, sidecar_of
from tikget_tui.verify.report import Expected


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_collect_skips_sidecars_parts_and_non_media_and_counts_them(tmp_path: Path) -> None:
    tmp_path = tmp_path / "saved"  # (the autouse home lives in tmp_path itself)
    a = _touch(tmp_path / "a.mp4")
    _touch(tmp_path / "a.info.json")
    _touch(tmp_path / "b.mp4.part")
    _touch(tmp_path / "b.info.json.tmp")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / ".DS_Store")
    photo = _touch(tmp_path / "p-01.JPG")
    nested = _touch(tmp_path / "sub" / "c.mp3")
    found = collect([tmp_path])
    assert found.files == [a, photo]
    assert (found.sidecars, found.partial, found.other, found.folders) == (1, 2, 1, 1)
    assert found.skipped_line() == ("skipped 1 sidecar (.info.json), 2 partial downloads "
                                    "(.part), 1 file that is not media, 1 sub-folder "
                                    "(-r looks inside)")
    deep = collect([tmp_path], recursive=True)
    assert deep.files == [a, photo, nested] and deep.folders == 0


def test_collect_named_files_keeps_order_and_dedupes(tmp_path: Path) -> None:
    tmp_path = tmp_path / "saved"
    a, b = _touch(tmp_path / "a.bin"), _touch(tmp_path / "b.mp4")
    side = _touch(tmp_path / "b.info.json")
    found = collect([b, a, side, b, tmp_path / "missing.mp4"])
    # a named file is checked whatever its extension; a missing one too (verify says so)
    assert found.files == [b, a, tmp_path / "missing.mp4"]
    assert found.sidecars == 1


def test_sidecar_of_video_and_photo(tmp_path: Path) -> None:
    video = _touch(tmp_path / "mika.travels-coffee-2026-11-29.mp4")
    (tmp_path / "mika.travels-coffee-2026-11-29.info.json").write_text(json.dumps({
        "variant": "video", "duration": 5.0, "saved_at": "2026-11-29T10:00:00+00:00",
        "files": [{"name": video.name, "sha256": "ab" * 32, "size": 1}]}), encoding="utf-8")
    record = sidecar_of(video)
    assert record is not None and record.sha256 == "ab" * 32 and record.duration == 5.0
    assert expected_from(record, None) == Expected(kind="video", duration=5.0)
    assert expected_from(record, 7.0).duration == 7.0  # --expect-duration wins

    photo = _touch(tmp_path / "studio-02.webp")
    (tmp_path / "studio.info.json").write_text(json.dumps({
        "variant": "photo", "duration": None,
        "files": [{"name": "studio-01.jpg"}, {"name": photo.name, "sha256": "cd" * 32}]}),
        encoding="utf-8")
    record = sidecar_of(photo)
    assert record is not None and record.sha256 == "cd" * 32
    assert expected_from(record, None) == Expected(kind="photo")
    # a sidecar that does not list the file is not its sidecar
    stranger = _touch(tmp_path / "studio-03.jpg")
    assert sidecar_of(stranger) is None
    assert expected_from(None, None) == Expected()

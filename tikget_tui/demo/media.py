"""Real media files for the stand-in service, generated once with ffmpeg and cached.

Every file the demo serves is a genuine MP4/JPEG/WebP/MP3 made from ffmpeg's
test sources (colour bars, test patterns, sine tones of distinct
frequencies), so downloads and verification run against real bytes. The
listing JSON takes its sizes, durations and dimensions from :class:`MediaFile`,
which is built from these specs and the files on disk.

Generation is safe when several processes start at once: each file is written
to a private temporary name and renamed into place, and a lock file (where the
platform has ``fcntl``) keeps two processes from doing the same work twice.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tikget_tui.mediatools import MediaTools

# Bump when a spec changes so stale caches are not reused.
SPEC_VERSION = 1
GENERATE_TIMEOUT = 120.0


class MediaGenerationError(RuntimeError):
    """ffmpeg could not make a demo file; the message says which and why."""


@dataclass(frozen=True)
class MediaSpec:
    name: str
    filename: str
    kind: str  # "video" | "image" | "audio"
    width: int = 0
    height: int = 0
    duration: float = 0.0  # seconds (0 for images)
    codec: str = ""  # "h264" | "hevc" | "jpeg" | "webp" | "mp3"
    has_audio: bool = False
    source: str = "testsrc2"  # lavfi video source
    tone: int = 440  # sine frequency (Hz)
    fps: int = 24
    pad_to: int = 0  # large files: the clip, then an MP4 ``free`` box up to this many bytes


@dataclass(frozen=True)
class MediaFile:
    """One generated file and what the listing says about it."""

    name: str
    path: Path
    size: int
    kind: str
    width: int
    height: int
    duration: float
    codec: str
    has_audio: bool

    @property
    def content_type(self) -> str:
        return {
            "h264": "video/mp4",
            "hevc": "video/mp4",
            "jpeg": "image/jpeg",
            "webp": "image/webp",
            "mp3": "audio/mpeg",
        }.get(self.codec, "application/octet-stream")


def _video(name: str, w: int, h: int, seconds: int, source: str, tone: int, *, codec: str = "h264",
           audio: bool = True, fps: int = 24) -> MediaSpec:
    return MediaSpec(name=name, filename=f"{name}.mp4", kind="video", width=w, height=h,
                     duration=float(seconds), codec=codec, has_audio=audio, source=source,
                     tone=tone, fps=fps)


def _image(name: str, w: int, h: int, source: str, codec: str) -> MediaSpec:
    ext = "jpg" if codec == "jpeg" else "webp"
    return MediaSpec(name=name, filename=f"{name}.{ext}", kind="image", width=w, height=h,
                     codec=codec, source=source)


def _sound(name: str, seconds: int, tone: int) -> MediaSpec:
    return MediaSpec(name=name, filename=f"{name}.mp3", kind="audio", duration=float(seconds),
                     codec="mp3", has_audio=True, tone=tone)


SPECS: tuple[MediaSpec, ...] = (
    _video("h264_a", 540, 960, 8, "testsrc2", 440),
    _video("h264_b", 360, 640, 5, "smptebars", 554),
    _video("h264_c", 360, 640, 12, "rgbtestsrc", 659, fps=15),
    _video("h264_d", 360, 640, 15, "testsrc", 330, fps=15),
    # One clip offered in two gears: HEVC 540p and H.264 360p.
    _video("hevc_540", 540, 960, 6, "pal100bars", 784, codec="hevc", fps=15),
    _video("hevc_h264_360", 360, 640, 6, "pal100bars", 784, fps=15),
    # Video-only HEVC, as TikTok sometimes serves.
    _video("hevc_silent", 360, 640, 7, "yuvtestsrc", 0, codec="hevc", audio=False, fps=15),
    # ... next to a smaller H.264 rendition of the same clip that has sound.
    _video("h264_270", 270, 480, 7, "yuvtestsrc", 587, fps=15),
    _image("photo_1", 720, 960, "testsrc2", "jpeg"),
    _image("photo_2", 720, 960, "smptehdbars", "jpeg"),
    _image("photo_3", 720, 960, "rgbtestsrc", "webp"),
    _image("photo_4", 720, 960, "pal75bars", "jpeg"),
    _image("cover_a", 360, 640, "testsrc2", "webp"),
    _image("cover_b", 360, 640, "smptebars", "webp"),
    _image("avatar", 200, 200, "pal100bars", "webp"),
    _sound("sound_a", 10, 523),
    _sound("sound_b", 12, 392),
)

SPEC_BY_NAME: dict[str, MediaSpec] = {s.name: s for s in SPECS}


def _sine(tone: int, seconds: int) -> str:
    return f"sine=frequency={tone}:sample_rate=44100:duration={seconds}"


def _ffmpeg_args(ffmpeg: str, spec: MediaSpec, out: Path) -> list[str]:
    base = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    if spec.kind == "video":
        d = int(spec.duration)
        size = f"{spec.width}x{spec.height}"
        source = f"{spec.source}=size={size}:rate={spec.fps}:duration={d}"
        args = [*base, "-f", "lavfi", "-i", source]
        if spec.has_audio:
            args += ["-f", "lavfi", "-i", _sine(spec.tone, d)]
        if spec.codec == "hevc":
            args += ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
                     "-x265-params", "log-level=error:pools=1:frame-threads=1"]
        else:
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-threads", "1"]
        args += ["-pix_fmt", "yuv420p", "-g", str(spec.fps * 2)]
        if spec.has_audio:
            args += ["-c:a", "aac", "-b:a", "64k", "-ac", "2"]
        args += ["-t", str(d), "-movflags", "+faststart", "-f", "mp4", str(out)]
        return args
    if spec.kind == "image":
        args = [*base, "-f", "lavfi", "-i", f"{spec.source}=size={spec.width}x{spec.height}:rate=1",
                "-frames:v", "1"]
        if spec.codec == "jpeg":
            args += ["-c:v", "mjpeg", "-q:v", "4", "-pix_fmt", "yuvj420p", "-f", "image2",
                     "-update", "1"]
        else:
            args += ["-c:v", "libwebp", "-quality", "70", "-f", "webp"]
        return [*args, str(out)]
    d = int(spec.duration)
    return [*base, "-f", "lavfi", "-i", _sine(spec.tone, d),
            "-c:a", "libmp3lame", "-b:a", "96k", "-ac", "2", "-f", "mp3", str(out)]


def _pad(path: Path, size: int) -> None:
    """Grow an MP4 to ``size`` bytes with a trailing top-level ``free`` box: players and
    ffprobe skip it, so the file stays a valid, verifiable MP4. Its body is a hole (sparse
    where the file system can), so a few hundred MB cost no time and little disk."""
    have = path.stat().st_size
    if size <= have + 8 or size - have >= 1 << 32:
        raise MediaGenerationError(f"cannot pad demo file {path.name} to {size} bytes")
    with open(path, "r+b") as fh:
        fh.seek(have)
        fh.write(struct.pack(">I", size - have) + b"free")
        fh.truncate(size)


def _generate(ffmpeg: str, spec: MediaSpec, folder: Path) -> None:
    final = folder / spec.filename
    if final.is_file() and final.stat().st_size > 0:
        return
    tmp = folder / f".{spec.filename}.{os.getpid()}.tmp"
    try:
        proc = subprocess.run(
            _ffmpeg_args(ffmpeg, spec, tmp),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            timeout=GENERATE_TIMEOUT, check=False,
        )
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise MediaGenerationError(
                f"ffmpeg could not make demo file {spec.filename}: "
                f"{detail[-1] if detail else f'exit status {proc.returncode}'}"
            )
        if spec.pad_to:
            _pad(tmp, spec.pad_to)
        os.replace(tmp, final)
    except subprocess.TimeoutExpired:
        raise MediaGenerationError(
            f"ffmpeg took over {GENERATE_TIMEOUT:.0f} s to make demo file {spec.filename}"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: temp+rename keeps it safe, only slower
        yield
        return
    with open(folder / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class MediaCatalog(Mapping[str, MediaFile]):
    """The generated files by name (see :data:`SPECS`)."""

    def __init__(self, folder: Path, files: dict[str, MediaFile]) -> None:
        self.folder = folder
        self._files = files

    def __getitem__(self, name: str) -> MediaFile:
        return self._files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _catalog(folder: Path, specs: tuple[MediaSpec, ...] = SPECS) -> MediaCatalog | None:
    files: dict[str, MediaFile] = {}
    for spec in specs:
        path = folder / spec.filename
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        if size == 0:
            return None
        files[spec.name] = MediaFile(
            name=spec.name, path=path, size=size, kind=spec.kind, width=spec.width,
            height=spec.height, duration=spec.duration, codec=spec.codec,
            has_audio=spec.has_audio,
        )
    return MediaCatalog(folder, files)


def ensure_media(media_dir: Path, tools: MediaTools | None = None) -> MediaCatalog:
    """Generate whatever is missing under ``media_dir`` and return the catalog.

    Fast when everything is already there (no ffmpeg is even looked up).
    Raises :class:`MediaGenerationError` or ``ToolNotFound``.
    """
    folder = Path(media_dir) / f"v{SPEC_VERSION}"
    ready = _catalog(folder)
    if ready is not None:
        return ready
    folder.mkdir(parents=True, exist_ok=True)
    ffmpeg = (tools or MediaTools.find()).ffmpeg
    with _locked(folder):
        missing = [s for s in SPECS if not (folder / s.filename).is_file()]
        # Two workers: the machine this runs on may have only two cores.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(_generate, ffmpeg, s, folder) for s in missing]:
                future.result()
    done = _catalog(folder)
    if done is None:  # pragma: no cover - only if files vanish under us
        raise MediaGenerationError(f"demo media in {folder} disappeared while being made")
    return done


# -- large files, made only for a scenario that lists them ------------------------------
# The built-in demo's @big.files (scenario.add_big_files_creator): stories large enough,
# served slowly enough, to watch their progress and try pause, resume and cancel. A short
# low-complexity clip (well under a second of ffmpeg) padded to its size, never part of
# SPECS: the tests' media stays as quick to make as before.

MIB = 1024 * 1024
LARGE_SPECS: tuple[MediaSpec, ...] = (
    MediaSpec(name="large_a", filename="large_a.mp4", kind="video", width=360, height=640,
              duration=20.0, codec="h264", has_audio=True, source="smptehdbars", tone=494,
              fps=15, pad_to=96 * MIB),
)
LARGE_BY_NAME: dict[str, MediaSpec] = {s.name: s for s in LARGE_SPECS}


def with_large_media(catalog: MediaCatalog, names: set[str],
                     tools: MediaTools | None = None) -> MediaCatalog:
    """``catalog`` plus the large files ``names`` asks for (:data:`LARGE_SPECS`), made in
    its folder when missing."""
    specs = tuple(LARGE_BY_NAME[n] for n in sorted(names) if n in LARGE_BY_NAME)
    if not specs:
        return catalog
    folder = catalog.folder
    made = _catalog(folder, specs)
    if made is None:
        ffmpeg = (tools or MediaTools.find()).ffmpeg
        with _locked(folder):
            for spec in specs:
                _generate(ffmpeg, spec, folder)
        made = _catalog(folder, specs)
        if made is None:  # pragma: no cover - only if files vanish under us
            raise MediaGenerationError(f"demo media in {folder} disappeared while being made")
    return MediaCatalog(folder, {**dict(catalog.items()), **dict(made.items())})

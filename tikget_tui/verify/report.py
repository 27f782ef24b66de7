"""The typed verification report: what was checked, how it went, one line each.

Everything here is plain data with ``to_dict``/``from_dict`` so the report can
be printed as JSON, stored in SQLite and shown by the UI without any of them
knowing how the checks were made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

ExpectedKind = Literal["video", "photo", "audio"]


class Verdict(StrEnum):
    """Status of one check and of the whole report (the worst of its checks)."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def worst(cls, statuses: list[Verdict]) -> Verdict:
        return max(statuses, key=lambda s: s.rank, default=cls.OK)


_RANK = {Verdict.OK: 0, Verdict.WARN: 1, Verdict.FAIL: 2}


class MediaKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Expected:
    """What the source said about the file, when it said anything."""

    duration: float | None = None
    kind: ExpectedKind | None = None
    has_sound: bool | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"duration": self.duration, "kind": self.kind, "has_sound": self.has_sound,
                "size": self.size}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Expected:
        return cls(duration=d.get("duration"), kind=d.get("kind"), has_sound=d.get("has_sound"),
                   size=d.get("size"))


@dataclass(frozen=True)
class Check:
    name: str
    status: Verdict
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": str(self.status), "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(name=str(d["name"]), status=Verdict(d["status"]), detail=str(d["detail"]))


StreamType = Literal["video", "audio", "image", "other"]


@dataclass(frozen=True)
class StreamInfo:
    index: int
    type: StreamType
    codec: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    channels: int | None = None
    sample_rate: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "codec": self.codec,
                "width": self.width, "height": self.height, "duration": self.duration,
                "channels": self.channels, "sample_rate": self.sample_rate}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamInfo:
        return cls(index=int(d["index"]), type=d["type"], codec=str(d["codec"]),
                   width=d.get("width"), height=d.get("height"), duration=d.get("duration"),
                   channels=d.get("channels"), sample_rate=d.get("sample_rate"))

    def describe(self) -> str:
        """``h264 1080x1920 15.0s`` / ``aac 2ch 44100Hz``."""
        parts = [self.codec]
        if self.width and self.height:
            parts.append(f"{self.width}x{self.height}")
        if self.channels:
            parts.append(f"{self.channels}ch")
        if self.sample_rate:
            parts.append(f"{self.sample_rate}Hz")
        if self.duration is not None and self.type != "image":
            parts.append(f"{self.duration:.2f}s")
        return " ".join(parts)


@dataclass(frozen=True)
class Frame:
    """A small JPEG of a decoded frame (the first or the last of a video), kept in the
    cache folder, and its timestamp in the file."""

    label: str  # 'first' or 'last'
    time: float | None
    file: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "time": self.time, "file": self.file}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Frame:
        return cls(str(d.get("label", "")), d.get("time"), str(d.get("file", "")))


@dataclass
class Report:
    path: Path
    verdict: Verdict = Verdict.OK
    checks: list[Check] = field(default_factory=list)
    duration: float | None = None
    size: int = 0
    sha256: str | None = None
    kind: MediaKind = MediaKind.UNKNOWN
    streams: list[StreamInfo] = field(default_factory=list)
    format_name: str | None = None
    frames: list[Frame] = field(default_factory=list)
    """Preview frames written by the decode windows (when asked for), first then last."""

    def add(self, name: str, status: Verdict, detail: str) -> Check:
        check = Check(name, status, detail)
        self.checks.append(check)
        self.verdict = Verdict.worst([self.verdict, status])
        return check

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status is Verdict.FAIL]

    @property
    def summary(self) -> str:
        """One line: the verdict and, unless ok, the first check that was not ok."""
        bad = [c for c in self.checks if c.status is not Verdict.OK]
        bad.sort(key=lambda c: -c.status.rank)
        if not bad:
            return f"ok: {len(self.checks)} checks passed"
        return f"{self.verdict}: {bad[0].detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "verdict": str(self.verdict),
            "checks": [c.to_dict() for c in self.checks],
            "duration": self.duration,
            "size": self.size,
            "sha256": self.sha256,
            "kind": str(self.kind),
            "format": self.format_name,
            "streams": [s.to_dict() for s in self.streams],
            **({"frames": [f.to_dict() for f in self.frames]} if self.frames else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        return cls(
            path=Path(d["file"]),
            verdict=Verdict(d["verdict"]),
            checks=[Check.from_dict(c) for c in d.get("checks", [])],
            duration=d.get("duration"),
            size=int(d.get("size", 0)),
            sha256=d.get("sha256"),
            kind=MediaKind(d.get("kind", "unknown")),
            streams=[StreamInfo.from_dict(s) for s in d.get("streams", [])],
            format_name=d.get("format"),
            frames=[Frame.from_dict(f) for f in d.get("frames", []) if isinstance(f, dict)],
        )

"""Pane 4: the verification report of the finished file under the queue cursor."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tikget_tui.ui.text import format_duration, format_size, safe_line

STATUS_STYLE = {"ok": "$text-success", "warn": "$text-warning", "fail": "$text-error"}
STATUS_MARK = {"ok": "✓", "warn": "!", "fail": "✗"}
EMPTY = "Select a finished download in the queue (pane 3) to see its verification report."


class ReportView(VerticalScroll):
    """Checks with status and detail; path, size, sha256, codecs; the saved context."""

    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job: Any | None = None
        self.report: Any | None = None
        self.item: Any | None = None
        self._remade: set[str] = set()
        self._body: Content = Content.styled(EMPTY, "$text-muted")

    def compose(self) -> ComposeResult:
        yield Vertical(id="report-pictures")
        yield Static(self._body, id="report-body", markup=False)

    @property
    def text(self) -> str:
        """The report as plain text (what the pane shows)."""
        return self._body.plain

    def show(self, job: Any | None, report: Any | None, *, item: Any | None = None) -> None:
        """Show a job's report; ``item`` (a library item) when it came from the library."""
        self.job, self.report, self.item = job, report, item
        self._body = self.render_report(job, report)
        self.query_one("#report-body", Static).update(self._body)
        self._show_pictures(job, report)

    @property
    def pictures(self) -> list[str]:
        """The captions of the pictures shown (``first 0.00 s``, ``1/3``), if any."""
        return [str(getattr(s.visual, "plain", s.visual))
                for s in self.query(".shot-label").results(Static)]

    @property
    def picture_notes(self) -> list[str]:
        """The one-line notes of pictures that could not be drawn."""
        from tikget_tui.ui.widgets.frame_strip import Picture

        return [p.note for p in self.query(Picture).results(Picture) if p.note]

    def _show_pictures(self, job: Any | None, report: Any | None) -> None:
        """First and last frame of a video, or the thumbnails of a photo story's images
        (made again if the cache lost them; never the originals); nothing with NO_COLOR
        or a plain terminal."""
        from pathlib import Path

        from tikget_tui.ui.widgets.frame_strip import image_mode

        box = self.query_one("#report-pictures", Vertical)
        box.remove_children()
        mode = image_mode(self.app)
        if job is None or mode == "off":
            return
        from tikget_tui.ui.widgets.frame_strip import (
            DEFAULT_PICTURE_PIXELS,
            FrameStrip,
            photo_images,
            photo_shots,
            video_shots,
        )
        from tikget_tui.verify.frames import photo_thumbnail

        settings = getattr(self.app, "settings", None)
        cache = getattr(settings, "cache_dir", None)
        budget = int(getattr(settings, "max_picture_pixels", DEFAULT_PICTURE_PIXELS))
        if str(getattr(job.story, "kind", "")) == "photo" or getattr(job, "variant", "") == "photo":
            images = photo_images([Path(p) for p in job.files])
            thumbs = [photo_thumbnail(cache, p) if cache is not None else None
                      for p in images]
            present = [t if t is not None and t.is_file() else None for t in thumbs]
            key = "photos:" + "|".join(map(str, images))
            # only once verified (the verification writes them): before, there is nothing
            # to make again, and the one attempt a story gets would be spent
            if cache is not None and report is not None and None in present \
                    and key not in self._remade:
                self._remade.add(key)  # once a story: never a loop of attempts
                self._remake_thumbnails(job, images, cache)
            shots = photo_shots(images, present, verified=report is not None)
        else:
            shots = video_shots(report) if report is not None else []
            if report is not None and report.frames and len(shots) < len(report.frames) \
                    and str(report.path) not in self._remade and cache is not None:
                self._remade.add(str(report.path))  # once a file: never a loop of attempts
                self._remake(job, report, cache)
        if shots:
            box.mount(FrameStrip(shots, mode, budget))

    def _tools(self) -> Any:
        from tikget_tui.mediatools import MediaTools

        return MediaTools.for_settings(getattr(self.app, "settings", None))

    def _remake(self, job: Any, report: Any, cache: Any) -> None:
        async def remake() -> None:
            from tikget_tui.verify.frames import remake as remake_frames

            report.frames = await remake_frames(report, cache, tools=self._tools())
            if self.job is job and report.frames:
                self._show_pictures(job, report)

        self.run_worker(remake(), group="frames", name="make the preview frames again",
                        exclusive=True, exit_on_error=False)

    def _remake_thumbnails(self, job: Any, images: list[Any], cache: Any) -> None:
        async def remake() -> None:
            from tikget_tui.verify.frames import remake_thumbnails

            await remake_thumbnails(images, cache, tools=self._tools())
            if self.job is job:
                self._show_pictures(job, self.report)

        self.run_worker(remake(), group="frames", name="make the photo thumbnails again",
                        exclusive=True, exit_on_error=False)

    def render_report(self, job: Any | None, report: Any | None) -> Content:
        if job is None:
            return Content.styled(EMPTY, "$text-muted")
        lines: list[Content] = []
        story = job.story
        state = str(job.state)
        title = Content.assemble(
            (safe_line(story.creator.handle), "bold"), " ",
            safe_line(story.caption, 200) or story.id,
        )
        lines.append(title)
        if report is None:
            reason = safe_line(job.reason) if job.reason else ""
            waiting = {"done": "no verification report stored for this file",
                       "verifying": "verifying…"}.get(state, f"{state}: not verified yet")
            lines.append(Content.styled(reason or waiting, "$text-muted"))
            lines.extend(self._saved_context(job))
            return Content("\n").join(lines)
        verdict = str(report.verdict)
        # the summary starts with the verdict itself: 'ok: 12 checks passed'
        lines.append(Content.assemble(
            ("verdict ", "bold"),
            (f"{STATUS_MARK.get(verdict, '?')} {safe_line(report.summary, 200)}",
             f"bold {STATUS_STYLE.get(verdict, '')}"),
        ))
        if job.reason:  # what happened: copied from…, verified again…, changed since…
            lines.append(self._row("result", safe_line(job.reason, 300)))
        lines.append(self._row("file", safe_line(str(report.path))))
        lines.append(self._row("size", f"{format_size(report.size)} ({report.size:,} bytes)"))
        lines.append(self._row("sha256", report.sha256 or "—"))
        if report.duration:
            lines.append(self._row("duration", format_duration(report.duration)
                                   + f" ({report.duration:.2f} s)"))
        for stream in report.streams:
            lines.append(self._row(f"stream {stream.index}",
                                   f"{stream.type} {safe_line(stream.describe())}"))
        lines.append(Content(""))
        width = max((len(c.name) for c in report.checks), default=5)
        for check in report.checks:
            status = str(check.status)
            lines.append(Content.assemble(
                (f"{STATUS_MARK.get(status, '?')} ", f"bold {STATUS_STYLE.get(status, '')}"),
                (f"{check.name:<{width}} ", "bold"),
                safe_line(check.detail, 300),
            ))
        if len(job.files) > 1:
            lines.append(self._row("files", f"{len(job.files)} (report of the first)"))
        lines.extend(self._saved_context(job))
        return Content("\n").join(lines)

    def _sound_rights(self, story: Any) -> list[Content]:
        from tikget_tui.models import MUSIC_REMINDER, is_track, sound_line

        music = getattr(story, "music", None)
        line = sound_line(music)
        if not line:
            return []
        out = [self._row("sound", safe_line(line, 200))]
        if is_track(music):
            out.append(Content.styled(f"          {MUSIC_REMINDER}", "$text-warning"))
        return out

    @staticmethod
    def _row(name: str, value: str) -> Content:
        return Content.assemble((f"{name:<9}", "bold"), " ", value)

    def _saved_context(self, job: Any) -> list[Content]:
        story = job.story
        out = [Content(""), Content.styled("saved context", "bold underline")]
        out.append(self._row("creator", safe_line(
            f"{story.creator.handle} {story.creator.nickname}".strip(), 120)))
        out.append(self._row("posted", story.created_at.strftime("%Y-%m-%d %H:%M UTC")))
        if story.expires_at is not None:
            out.append(self._row("expires", story.expires_at.strftime("%Y-%m-%d %H:%M UTC")))
        if story.canonical_url:
            out.append(self._row("source", safe_line(story.canonical_url, 200)))
        note = self.item.note if self.item is not None else job.note
        if note:
            out.append(self._row("note", safe_line(note, 300)))
        out.extend(self._sound_rights(story))
        if getattr(job, "audio", False):
            out.append(self._row("saved as", "MP3 (audio only)"))
        if job.final_path is not None:  # the name it gets once complete (a .part until then)
            state = getattr(job.state, "value", job.state)
            where = safe_line(str(job.final_path))
            if job.files or state == "done":
                out.append(self._row("saved to", where))
            elif state in ("queued", "downloading", "converting", "verifying"):
                out.append(self._row("saving to", where))
            else:
                out.append(self._row("not saved", f"(it would have been {where})"))
        folders = getattr(self.item, "folders", ()) if self.item is not None else ()
        if len(folders) > 1:  # the same story in several folders: which copy this is
            from tikget_tui.units import folder_for_people

            here = self.item.path.parent  # type: ignore[union-attr]
            out.append(self._row("copies", f"{len(folders)} folders:"))
            for folder in folders:
                mark = " (this copy)" if folder == here else ""
                out.append(Content(f"          {safe_line(folder_for_people(folder))}{mark}"))
        return out

"""The main screen's frame: its five panes, their layout, focus and the pane keys.

At 80x24 (anything narrower than 110 columns or shorter than 34 rows) the input stays
on top and the other panes share the space below as tabs; from 120x40 up all four are
visible in a grid. Number keys 1-5 and Tab switch panes.

:class:`PaneScreen` is the base of the main screen's parts (:mod:`.lookups`,
:mod:`.job_actions`, :mod:`.core_events`): it holds what more than one of them uses (the
app as an :class:`~tikget_tui.ui.host.AppHost`, the panes, the message line, the ✓ marks
of saved stories, the report pane, the batch of downloads), and turns any failed worker
into one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.events import Resize
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from tikget_tui.ui.download_batch import DownloadBatch
from tikget_tui.ui.text import error_line
from tikget_tui.ui.widgets.input_pane import InputPane
from tikget_tui.ui.widgets.queue_table import QueueTable
from tikget_tui.ui.widgets.report_view import ReportView
from tikget_tui.ui.widgets.stories_table import StoriesTable

if TYPE_CHECKING:  # models, the library and the tab bar load after the first frame
    from tikget_tui.downloads import DownloadManager
    from tikget_tui.models import Story
    from tikget_tui.ui.host import AppHost
    from tikget_tui.ui.widgets.library_pane import LibraryPane
    from tikget_tui.ui.widgets.pane_tabs import PaneTabs

PANES = ("input", "stories", "queue", "report", "library")
TITLES = {"input": "1 Input", "stories": "2 Active stories", "queue": "3 Download queue",
          "report": "4 Verification report", "library": "5 Library"}


def wide_layout(width: int, height: int) -> bool:
    """All four panes in a grid (no tab bar): the ``-wide`` and ``-tall`` breakpoints."""
    return width >= PaneScreen.HORIZONTAL_BREAKPOINTS[1][0] and \
        height >= PaneScreen.VERTICAL_BREAKPOINTS[1][0]


class PaneScreen(Screen[None]):
    """Five panes and the focus among them; the parts of the main screen build on it."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    active_pane: reactive[str] = reactive("input", init=False)
    """The pane with the focus (1-4)."""
    shown_pane: reactive[str] = reactive("stories", init=False)
    """The pane below the input in the narrow (tabbed) layout."""
    audio_only: reactive[bool] = reactive(False, init=False)
    """Save the next downloads as MP3 (audio only)."""
    _timer_line = ""  # what show_timer_line found: the stories pane's subtitle shows it

    def __init__(self, host: AppHost, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        """The app, as much of it as the screen uses (:class:`~tikget_tui.ui.host.AppHost`)."""
        self.download_batch = DownloadBatch()
        """The downloads of the current batch, for one summary when the last one ends."""
        self.lookups_started = 0
        """How many lookups this screen has started (tests wait on it)."""

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        host = self.host
        # The classes for the terminal as it is now (breakpoints, colours), so the first
        # Resize finds them in place and the screen is not styled a second time; and only
        # what this size shows: the tab bar is made when the layout first needs it, the
        # library's contents when the library is first used (bench/bench_ui.py).
        width, height = self.app.size
        self.set_class(True, *self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS),
                       *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS),
                       update=False)
        # 16 colours (TERM=xterm): the accent maps to bright red; see app.tcss
        self.set_class(self.app.console.color_system == "standard", "-few-colors",
                       update=False)
        yield Header(icon="▶")
        if not wide_layout(width, height):
            yield self._make_tabs()
        with Container(id="panes"):
            pane = InputPane(history_file=host.settings.data_dir / "input-history.txt",
                             id="pane-input", classes="pane active")
            pane.border_title = TITLES["input"]
            yield pane
            with Vertical(id="pane-report", classes="pane") as report:
                report.border_title = TITLES["report"]
                yield ReportView(id="report")
            with Vertical(id="pane-stories", classes="pane shown") as stories:
                stories.border_title = TITLES["stories"]
                yield StoriesTable(host.clock, id="stories")
            with Vertical(id="pane-library", classes="pane") as library:
                library.border_title = TITLES["library"]  # its LibraryPane: self.library
            with Vertical(id="pane-queue", classes="pane") as queue:
                queue.border_title = TITLES["queue"]
                yield QueueTable(id="queue")
        yield Footer(compact=True)

    def _make_tabs(self) -> PaneTabs:
        from tikget_tui.ui.widgets.pane_tabs import PaneTabs

        return PaneTabs({p: TITLES[p] for p in PANES}, self.active_pane, id="pane-bar")

    def on_resize(self, event: Resize) -> None:
        # (Screen._on_resize sets the breakpoint classes; this only adds the tab bar the
        # first time the layout needs it: it was not made for a wide start)
        if not wide_layout(*event.size) and not self.query("#pane-bar"):
            self.mount(self._make_tabs(), before="#panes")

    @property
    def input_pane(self) -> InputPane:
        return self.query_one(InputPane)

    @property
    def stories(self) -> StoriesTable:
        return self.query_one(StoriesTable)

    @property
    def queue(self) -> QueueTable:
        return self.query_one(QueueTable)

    @property
    def report(self) -> ReportView:
        return self.query_one(ReportView)

    @property
    def library(self) -> LibraryPane:
        """The library pane's contents, made on first use (not needed for the first frame;
        its filter and table exist once it has been composed, see :meth:`focus_pane`)."""
        from tikget_tui.ui.widgets.library_pane import LibraryPane

        for found in self.query(LibraryPane).results(LibraryPane):
            return found
        library = LibraryPane(self.host, id="library-pane")
        self.query_one("#pane-library").mount(library)
        return library

    # -- focus ---------------------------------------------------------------------

    def focus_pane(self, pane: str) -> None:
        """Give the pane's main widget the focus (the library's filter line, once it is
        there: a library made just now focuses it when composed)."""
        if pane == "library":
            self.library.focus_filter()
            return
        {"input": self.input_pane.input, "stories": self.stories,
         "queue": self.queue, "report": self.report}[pane].focus()

    def watch_active_pane(self, pane: str) -> None:
        for name in PANES:
            self.query_one(f"#pane-{name}").set_class(name == pane, "active")
        if pane != "input":
            self.shown_pane = pane
        if pane in ("library", "stories"):  # wide: the library stands in for the stories
            self.set_class(pane == "library", "-library")
        if pane == "library":
            self.library.shown()
        for tabs in self.query("#pane-bar").results():  # none in a wide start (compose)
            tabs.mark(pane)  # type: ignore[attr-defined]  # (PaneTabs: the bar follows)

    def watch_shown_pane(self, pane: str) -> None:
        for name in PANES[1:]:
            self.query_one(f"#pane-{name}").set_class(name == pane, "shown")

    def on_descendant_focus(self, event: Any) -> None:
        # the widget that has the focus now: after quick changes an event can be stale
        node: Any = self.app.focused or event.widget
        while node is not None and node is not self:
            if node.id and node.id.startswith("pane-") and node.id[5:] in PANES:
                self.active_pane = node.id[5:]
                return
            node = node.parent

    def on_pane_tabs_pane_clicked(self, event: PaneTabs.PaneClicked) -> None:
        # a click on a tab (the handler by name: PaneTabs loads with the tab bar); the
        # bar's own TabActivated messages are not listened to (see ui/widgets/pane_tabs.py)
        event.stop()
        if event.pane in PANES and event.pane != self.active_pane:
            self.action_pane(event.pane)

    def action_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.active_pane = pane
        self.focus_pane(pane)

    def _step_pane(self, step: int) -> None:
        index = PANES.index(self.active_pane) if self.active_pane in PANES else 0
        self.action_pane(PANES[(index + step) % len(PANES)])

    def action_next_pane(self) -> None:
        self._step_pane(1)

    def action_previous_pane(self) -> None:
        self._step_pane(-1)

    # -- what more than one part shows -----------------------------------------------

    def show_notice(self, message: str, *, title: str = "", severity: str = "information") -> None:
        """Every notice goes to the message line under the input: it wraps when long and
        never covers the pane the user works in (the app's ``notify`` comes here)."""
        text = f"{title}: {message}" if title else message
        self.input_pane.set_status(text, error=severity == "error",
                                   warning=severity == "warning")

    def _show_audio(self) -> None:
        """The stories pane's subtitle: MP3 mode, and the timer line when there is one."""
        pane = self.query_one("#pane-stories")
        audio = "MP3: on" if self.audio_only else "MP3: off"
        timer = self._timer_line
        pane.border_subtitle = f"{audio} · {timer}" if timer else audio

    def _mark_archived(self, stories: Sequence[Story]) -> None:
        """Mark the listed stories already in the archive (✓ in the stories pane)."""
        manager = self.host.manager
        if manager is None or not stories:
            return
        from tikget_tui.models import Kind

        saved: dict[str, Path] = {}
        for story in stories:
            for variant in ("photo" if story.kind == Kind.PHOTO else "video", "audio"):
                entry = manager.archive.saved_anywhere(story.id, variant)
                if entry is not None and not entry.missing_files():
                    saved[story.id] = entry.path
                    break
        self.stories.mark_saved(saved)

    def _show_report(self, job: Any) -> None:
        self.report.show(job, self.host.load_report(job))

    # -- failures of any worker ----------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()
        if event.state != WorkerState.ERROR:
            return
        self.task_failed(event.worker.name or "a task", event.worker.error)

    def _manager_or_say(self) -> DownloadManager | None:
        """The download manager, or None after saying on the message line that it is still
        starting (a key pressed right after the first frame)."""
        manager = self.host.manager
        if manager is None:
            self.notify("the download queue is still starting; try again in a moment",
                        severity="warning", markup=False)
        return manager

    def task_failed(self, what: str, error: BaseException | None) -> None:
        """A worker or background task failed: one line on the message line."""
        line = error_line(error) if error is not None else "something failed"
        self.notify(f"{what}: {line}", severity="error", markup=False)

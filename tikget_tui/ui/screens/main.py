"""The main screen: input, active stories, download queue, verification report, library.

The screen is put together from its parts, one module each:

- :mod:`.panes`: the five panes, their layout (tabs at 80x24, a grid from 120x40), the
  focus and the pane keys, the message line, and one line for any failed worker;
- :mod:`.lookups`: look-ups from the input (or r) to the stories pane;
- :mod:`.job_actions`: queueing downloads, notes, and the queue's actions on a job;
- :mod:`.core_events`: what the download queue and the watch list tell the screen.

This module adds the screen's keys and the dialogs they open (folder, help), and the
start. The app is reached only through :class:`~tikget_tui.ui.host.AppHost`: nothing
here imports the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tikget_tui.ui import keymap
from tikget_tui.ui.screens.core_events import CoreEvents
from tikget_tui.ui.screens.job_actions import JobActions
from tikget_tui.ui.screens.lookups import LookupActions


class MainScreen(LookupActions, JobActions, CoreEvents):
    """Five panes; the screen coordinates them and talks to the core."""

    BINDINGS = keymap.bindings("screen")

    def on_mount(self) -> None:
        # the library's contents right after the first frame (not for it), so that a key
        # pressed soon after 5 finds its filter line
        self.call_after_refresh(lambda: self.library)
        self.audio_only = self.host.settings.audio_mp3
        self._show_audio()
        self.watch_active_pane(self.active_pane)  # the first pane is highlighted from the start
        self.query_one("#query").focus()
        if self.host.demo_origin:
            self.input_pane.set_status(
                "demo service: try @mika.travels, @studio.photos, @quiet.creator, "
                "@secret.garden, @weird.names or @nobody; @big.files has large stories "
                "that download slowly (try p, u and x in the queue)")

    # -- the screen's keys ---------------------------------------------------------

    def action_folder(self, problem: str = "") -> None:
        """Show the download folder (path copied to the clipboard) and let the user change it."""
        from tikget_tui.config import ConfigError, save_download_dir

        host = self.host
        current = host.settings.download_dir
        self.app.copy_to_clipboard(str(current))

        def chosen(path: Path | None) -> None:
            if path is None:
                self.notify(f"download folder: {current} (path copied to the clipboard)",
                            markup=False)
                return
            try:
                path.mkdir(exist_ok=True)
            except OSError as exc:
                self.action_folder(f"cannot create {path}: {exc.strerror}")
                return
            host.settings = host.settings.with_download_dir(path)
            if host.manager is not None:
                host.manager.set_download_dir(path)
            try:
                save_download_dir(host.settings.config_file, path)
                kept = f"saved in {host.settings.config_file}"
            except ConfigError as exc:
                kept = f"for this session only: {exc}"
            self.notify(f"downloads now go to {path} ({kept}); t retries a failed one",
                        markup=False)

        from tikget_tui.ui.screens.folder import FolderScreen

        self.app.push_screen(FolderScreen(current, host.settings.config_file, problem), chosen)

    def action_help(self) -> None:
        from tikget_tui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.host.user_keymap))

    async def action_quit(self) -> None:
        await self.host.action_quit()

    async def run_spec(self, spec: keymap.ActionSpec) -> None:
        """Run an action from the command palette, on the widget that owns it."""
        target: Any = {"screen": self, "stories": self.stories, "queue": self.queue,
                       "library": self.library.table}[spec.scope]
        await self.app.run_action(spec.action, default_namespace=target)

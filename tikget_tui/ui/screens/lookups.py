"""The main screen's look-ups: from the input (or r) to the stories pane.

Each look-up is a worker that posts its result to the screen (``StoriesListed``,
``StoryResolved``, ``LookupRefused``); several started together end with one summary
on the message line (:class:`~tikget_tui.ui.lookup_tally.LookupTally`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on

from tikget_tui.ui.messages import LookupRefused, StoriesListed, StoryResolved
from tikget_tui.ui.screens.panes import PaneScreen
from tikget_tui.ui.text import error_line, safe_line
from tikget_tui.ui.widgets.input_pane import InputPane

if TYPE_CHECKING:  # links and the tally load with the first look-up
    from tikget_tui import links
    from tikget_tui.ui.lookup_tally import LookupTally


class LookupActions(PaneScreen):
    """Look up creators and links, and show what came back."""

    def action_lookup(self) -> None:
        if self.input_pane.input.value.strip():
            self.input_pane.submit()
        else:
            self.action_pane("input")
            self.input_pane.set_status("type a @user or paste links, then press Enter")

    def action_refresh(self) -> None:
        names = self.stories.creators()
        if not names:
            self.notify("nothing to refresh yet: look up a @user first", severity="warning",
                        markup=False)
            return
        from tikget_tui import links

        for name in names:
            self._start_lookup(links.UserTarget(username=name.lower()), "@" + name)
        self.input_pane.set_status(f"refreshing {len(names)} creator(s)…")

    @on(InputPane.LookupRequested)
    def _lookup_requested(self, event: InputPane.LookupRequested) -> None:
        event.stop()
        from tikget_tui import links

        try:
            parsed = links.parse_detailed(event.text, self.host.settings.service)
        except links.ParseError as exc:
            self.input_pane.set_status(str(exc), error=True)
            return
        targets = list(parsed.targets)
        self.input_pane.accepted()
        shown = ", ".join(safe_line(t.display, 40) for t in targets[:3])
        more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
        notes = [n for n in (parsed.rejected_note(), parsed.ignored_note()) if n]
        status = f"looking up {shown}{more}…"
        if notes:
            self.notify(f"{status} {'; '.join(notes)}", severity="warning", markup=False)
        else:
            self.input_pane.set_status(status)
        from tikget_tui.ui.lookup_tally import LookupTally

        # several at once: one summary when the last one ends (each result alone would
        # leave only the last on the message line)
        tally = (LookupTally(len(targets), notes=tuple(notes))
                 if len(targets) > 1 or notes else None)
        for target in targets:
            self._start_lookup(target, target.display, reveal=True, tally=tally)
        if self.active_pane == "input":
            self.shown_pane = "stories"

    def _start_lookup(self, target: links.Target, query: str, *, reveal: bool = False,
                      tally: LookupTally | None = None) -> None:
        from tikget_tui import links

        self.lookups_started += 1
        if isinstance(target, links.UserTarget) and target.username:
            self.stories.expect(target.username)
        self.run_worker(self._lookup(target, query, reveal, tally), group="lookup",
                        name=f"look up {query}", exit_on_error=False)

    async def _lookup(self, target: links.Target, query: str, reveal: bool,
                      tally: LookupTally | None = None) -> None:
        from tikget_tui import links
        from tikget_tui.tiktok.errors import (
            LoginRequired,
            PostUnavailable,
            PrivateAccount,
            PrivatePost,
            RegionLocked,
            TikTokError,
            UserNotFound,
        )

        refusals = (PrivateAccount, UserNotFound, PostUnavailable, PrivatePost, RegionLocked,
                    LoginRequired)
        kinds = {PrivateAccount: "private", PrivatePost: "private", UserNotFound: "unknown",
                 PostUnavailable: "unavailable"}
        outcome: tuple[str, int] = ("failed", 0)
        error = ""
        try:
            client = await self.host.ready_client()
            if isinstance(target, links.UserTarget):
                listed = await client.lookup_stories(target)
                n = len(listed.stories)
                outcome = ("stories", n) if n else ("none", 0)
                self.post_message(StoriesListed(listed, query, reveal=reveal))
            else:
                self.post_message(StoryResolved(await client.resolve(target), query))
                outcome = ("found", 1)
        except TikTokError as exc:  # refused (private, gone, bot wall) or failed: its line
            # goes where the look-up was shown, not only to the message line
            if isinstance(exc, refusals):
                outcome = (kinds.get(type(exc), "refused"), 0)
            else:
                error = exc.reason
            name = (target.username or target.user_id or query) if isinstance(
                target, links.UserTarget) else (getattr(target, "username", None) or query)
            self.post_message(LookupRefused(name or query, exc.reason))
        except Exception as exc:
            error = error_line(exc)
            raise
        finally:
            if tally is not None:
                tally.add(*outcome, error=error)
                if tally.complete:  # after the messages posted above: the last word
                    self.call_later(self._show_tally, tally)

    def _show_tally(self, tally: LookupTally) -> None:
        self.input_pane.set_status(tally.summary(), error=tally.any_problem)

    @on(StoriesListed)
    def _listed(self, message: StoriesListed) -> None:
        message.stop()
        story_list = message.story_list
        self.stories.show_list(story_list)
        self._mark_archived(story_list.stories)
        n = len(story_list.stories)
        who = safe_line(story_list.creator.handle or message.query, 60)
        if story_list.incomplete:
            self.input_pane.set_status(f"{who}: {safe_line(story_list.incomplete)}",
                                       warning=True)
        elif n:
            self.input_pane.set_status(
                f"{who}: {n} active {'story' if n == 1 else 'stories'} "
                "(in pane 2: space selects, d downloads, a takes all)")
        else:
            reason = safe_line(story_list.reason) or "no active story right now"
            # the reason often names the creator already ('@x has no active story right now')
            self.input_pane.set_status(reason if who and who in reason else f"{who}: {reason}")
        if message.reveal:
            self.stories.reveal(story_list.creator.unique_id or story_list.creator.user_id)

    @on(StoryResolved)
    def _resolved(self, message: StoryResolved) -> None:
        message.stop()
        self.stories.add_story(message.story)
        self._mark_archived([message.story])
        self.input_pane.set_status(f"found {safe_line(message.query, 60)}")

    @on(LookupRefused)
    def _refused(self, message: LookupRefused) -> None:
        message.stop()
        self.stories.show_refusal(message.query, message.reason)
        self.input_pane.set_status(safe_line(message.reason), error=True)

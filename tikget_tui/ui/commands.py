"""Command palette (Ctrl+P) provider built from the same action table as the footer."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from tikget_tui.ui import keymap

PANE_NAMES = {"stories": "active stories", "queue": "download queue", "library": "library"}
"""The pane a pane-scoped command acts in, as the palette names it."""


class ActionCommands(Provider):
    """Every action of :data:`tikget_tui.ui.keymap.ACTIONS`, by its description.

    A command whose name matches the query ranks above every command that matches
    only by its description ("pause" is Pause, not Watch whose help mentions a paused
    account). Each command shows its current key(s) beside its name.
    """

    def _commands(self) -> list[tuple[str, keymap.ActionSpec]]:
        return [(f"{spec.description}: {spec.help}", spec) for spec in keymap.ACTIONS]

    def key_label(self, spec: keymap.ActionSpec) -> str:
        """The key(s) of ``spec`` after the user's keymap, as the footer shows them."""
        user_keymap: dict[str, str] = getattr(self.app, "user_keymap", {})
        return " / ".join(self.app.get_key_display(Binding(key, ""))
                          for key in keymap.keys_for(spec, user_keymap))

    def _display(self, spec: keymap.ActionSpec, name: Content) -> Content:
        """The name, its key(s) and, for a pane's key, the pane it acts in (the queue's
        and the library's Verify are two commands on two different rows)."""
        pane = PANE_NAMES.get(spec.scope)
        where = f" · in the {pane}" if pane else ""
        return Content.assemble(name, "  ", (self.key_label(spec) + where, "$text-muted"))

    async def _run(self, spec: keymap.ActionSpec) -> None:
        run = getattr(self.screen, "run_spec", None)
        if run is not None:
            await run(spec)

    async def discover(self) -> Hits:
        for _title, spec in self._commands():
            yield DiscoveryHit(self._display(spec, Content(spec.description)),
                               partial(self._run, spec), text=spec.description, help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for _title, spec in self._commands():
            by_name = matcher.match(spec.description)
            if by_name > 0:  # (0.5, 1]: above any match by the description alone
                score = 0.5 + by_name / 2
                name = matcher.highlight(spec.description)
            else:
                by_help = matcher.match(spec.help)
                if by_help <= 0:
                    continue
                score = by_help / 2  # (0, 0.5]
                name = Content(spec.description)
            yield Hit(score, self._display(spec, name), partial(self._run, spec),
                      text=spec.description, help=spec.help)

"""Command palette (Ctrl+P) provider built from the same action table as the footer."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tikget_tui.ui import keymap


class ActionCommands(Provider):
    """Every action of :data:`tikget_tui.ui.keymap.ACTIONS`, by its description."""

    def _commands(self) -> list[tuple[str, keymap.ActionSpec]]:
        return [(f"{spec.description}: {spec.help}", spec) for spec in keymap.ACTIONS]

    async def _run(self, spec: keymap.ActionSpec) -> None:
        run = getattr(self.screen, "run_spec", None)
        if run is not None:
            await run(spec)

    async def discover(self) -> Hits:
        for _title, spec in self._commands():
            yield DiscoveryHit(spec.description, partial(self._run, spec), help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, spec in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(spec.description), partial(self._run, spec),
                          help=spec.help)

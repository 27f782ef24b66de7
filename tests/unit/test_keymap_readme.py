"""The README's key table is the keymap: every action, its key, id, pane and help line."""

from __future__ import annotations

from pathlib import Path

from tikget_tui.ui import keymap

README = Path(__file__).resolve().parents[2] / "README.md"
SCOPES = {"screen": "everywhere", "stories": "active stories", "queue": "download queue",
          "library": "library"}


def test_readme_lists_every_action_as_the_keymap_has_it() -> None:
    text = README.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `") and "` | `" in line]
    table = {row.split(" | ")[1].strip("`"): row for row in rows}
    for spec in keymap.ACTIONS:
        keys = ", ".join(k.replace("question_mark", "?") for k in spec.key.split(","))
        assert table.get(spec.id) == f"| `{keys}` | `{spec.id}` | {SCOPES[spec.scope]} | " \
                                     f"{spec.help} |", spec.id

"""Every key binding of the app in one table.

The footer (``BINDINGS`` on the screen and the two tables), the help screen
and the command palette are all built from :data:`ACTIONS`, so they cannot
disagree. The footer shows the keys of the pane with the focus and ``tab`` (more
would not fit 80 columns); the help screen and the palette list every action.
Each binding has an ``id``: users remap keys in the config with a
``[keys]`` table (``download = "ctrl+d"``), applied through
:meth:`textual.app.App.set_keymap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal["screen", "stories", "queue", "library"]

SCOPE_TITLES: dict[Scope, str] = {
    "screen": "Everywhere",
    "stories": "Active stories pane",
    "queue": "Download queue pane",
    "library": "Library pane (what you saved; type to filter, Down to the list)",
}


@dataclass(frozen=True)
class ActionSpec:
    id: str  # binding id: the name users remap in the config
    key: str  # default key(s), comma separated
    action: str  # the action method, without ``action_``
    description: str  # short, for the footer
    help: str  # one line for the help screen and the command palette
    scope: Scope
    show: bool = True
    priority: bool = False


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("lookup", "l", "lookup", "Look up",
               "Look up the links or @users typed in the input (Enter there does the same)",
               "screen", show=False),
    ActionSpec("refresh", "r", "refresh", "Refresh",
               "List the shown creators' stories again", "screen", show=False),
    ActionSpec("audio", "m", "toggle_audio", "MP3",
               "Toggle audio-only: save the next downloads as MP3", "screen", show=False),
    ActionSpec("folder", "o", "folder", "Folder",
               "Show the download folder (its path is copied to the clipboard) and change it",
               "screen", show=False),
    ActionSpec("next_pane", "tab", "next_pane", "Panes", "Go to the next pane", "screen",
               priority=True),
    ActionSpec("previous_pane", "shift+tab", "previous_pane", "Previous pane",
               "Go to the previous pane", "screen", show=False, priority=True),
    ActionSpec("pane_input", "1", "pane('input')", "Input", "Go to the input pane", "screen",
               show=False),
    ActionSpec("pane_stories", "2", "pane('stories')", "Stories",
               "Go to the active stories pane", "screen", show=False),
    ActionSpec("pane_queue", "3", "pane('queue')", "Queue", "Go to the download queue pane",
               "screen", show=False),
    ActionSpec("pane_report", "4", "pane('report')", "Report",
               "Go to the verification report pane", "screen", show=False),
    ActionSpec("pane_library", "5", "pane('library')", "Library",
               "Go to the library: everything saved, newest first (type to filter)", "screen",
               show=False),
    # Over SSH, Escape then a digit typed fast arrives as alt+digit (ui/key_order.py); these
    # also work from inside a field, where the digits are text
    ActionSpec("pane_input_alt", "alt+1", "pane('input')", "Input",
               "Go to the input pane, also from inside a field (Esc then 1 typed fast is this)",
               "screen", show=False, priority=True),
    ActionSpec("pane_stories_alt", "alt+2", "pane('stories')", "Stories",
               "Go to the active stories pane, also from inside a field", "screen",
               show=False, priority=True),
    ActionSpec("pane_queue_alt", "alt+3", "pane('queue')", "Queue",
               "Go to the download queue pane, also from inside a field", "screen",
               show=False, priority=True),
    ActionSpec("pane_report_alt", "alt+4", "pane('report')", "Report",
               "Go to the verification report pane, also from inside a field", "screen",
               show=False, priority=True),
    ActionSpec("pane_library_alt", "alt+5", "pane('library')", "Library",
               "Go to the library, also from inside a field", "screen", show=False,
               priority=True),
    ActionSpec("help", "question_mark,f1", "help", "Help", "Show every key", "screen", show=False),
    ActionSpec("quit", "q,ctrl+q", "quit", "Quit",
               "Quit (the queue resumes next time; with downloads running, asks first)",
               "screen", show=False),
    ActionSpec("select", "space", "toggle_select", "Select",
               "Select or unselect the story (on a creator row: all their stories)", "stories"),
    ActionSpec("download", "d", "download", "Download",
               "Download the selected stories (or the one under the cursor)", "stories"),
    ActionSpec("download_all", "a", "download_creator", "All",
               "Download every active story of the creator under the cursor", "stories"),
    ActionSpec("note", "n", "note", "Note",
               "Add a note (why you save it) to the selected stories before saving", "stories"),
    ActionSpec("watch", "w", "watch", "Watch",
               "Watch or stop watching the creator under the cursor: new stories are saved "
               "automatically before they expire (on a paused account: resume it)", "stories"),
    ActionSpec("remove", "delete", "remove_creator", "Remove",
               "Remove the creator under the cursor from the pane (a failed look-up too)",
               "stories"),
    ActionSpec("pause", "p", "pause", "Pause", "Pause the download under the cursor", "queue"),
    ActionSpec("resume", "u", "resume", "Resume", "Resume the paused download", "queue"),
    ActionSpec("cancel", "x", "cancel", "Cancel",
               "Cancel the download (its partial file is removed)", "queue"),
    ActionSpec("retry", "t", "retry", "Retry", "Try a failed or cancelled download again",
               "queue"),
    ActionSpec("verify", "v", "verify", "Verify",
               "Run the verification of the finished file again", "queue"),
    ActionSpec("clear", "c", "clear_finished", "Clear",
               "Clear the done, cancelled and expired rows from the queue (saved files stay "
               "in the library)", "queue"),
    ActionSpec("library_report", "enter", "report", "Report",
               "Show the full report of the saved item (with its first and last frames)",
               "library"),
    ActionSpec("library_verify", "v", "verify", "Verify",
               "Verify the saved file again", "library"),
    ActionSpec("library_copy", "c", "copy_path", "Copy",
               "Copy the saved file's path to the clipboard", "library"),
    ActionSpec("library_open", "o", "open_file", "Open",
               "Open the saved file with the system viewer (with no display, e.g. over SSH: "
               "show its path); in this pane o opens instead of showing the download folder",
               "library"),
    ActionSpec("library_note", "e", "edit_note", "Note",
               "Edit the saved item's note (its .info.json and the archive together)",
               "library"),
    ActionSpec("library_redownload", "r", "redownload", "Again",
               "Download a missing or failing file again while its story is still active",
               "library"),
    ActionSpec("library_delete", "delete", "delete", "Delete",
               "Delete the saved files and the entry (asks first, naming the files)",
               "library"),
    ActionSpec("library_sort", "s", "sort", "Sort",
               "Sort by saved date, posted date, creator or size (in turn)", "library",
               show=False),
)

ACTIONS_BY_ID = {spec.id: spec for spec in ACTIONS}

# In the two row tables Home/End go to the first/last row (DataTable's own Home/End move
# between columns, which these tables never need).
ROW_KEYS: list[BindingType] = [
    Binding("home", "scroll_top", "First row", show=False),
    Binding("end", "scroll_bottom", "Last row", show=False),
]


def bindings(scope: Scope) -> list[BindingType]:
    """The ``BINDINGS`` for one scope, straight from :data:`ACTIONS`."""
    return [
        Binding(spec.key, spec.action, spec.description, show=spec.show, id=spec.id,
                tooltip=spec.help, priority=spec.priority)
        for spec in ACTIONS
        if spec.scope == scope
    ]


def check_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Split a user keymap into the usable part and one-line problems."""
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in ACTIONS_BY_ID:
            problems.append(
                f"unknown key binding {binding_id!r} in [keys]; known: "
                + ", ".join(sorted(ACTIONS_BY_ID))
            )
        elif not keys.strip():
            problems.append(f"key binding {binding_id!r} in [keys] is empty")
        else:
            good[binding_id] = keys
    return good, problems


def keys_for(spec: ActionSpec, keymap: dict[str, str]) -> list[str]:
    """The keys bound to ``spec`` after the user's keymap."""
    raw = keymap.get(spec.id, spec.key)
    return [k.strip() for k in raw.split(",") if k.strip()]

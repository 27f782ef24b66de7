"""Reading keys off the terminal: Escape and the key typed after it arrive in one read
over SSH; they must stay what was typed (issue 21)."""

from __future__ import annotations

import pytest
from textual import events

from tikget_tui.ui.key_order import split_alt
from tikget_tui.ui.terminal_keys import KeyParser


def keys(data: str, *, eof: bool = True) -> list[tuple[str, str | None]]:
    parser = KeyParser()
    found = [e for e in parser.feed(data) if isinstance(e, events.Key)]
    if eof:
        found += [e for e in parser.feed("") if isinstance(e, events.Key)]
    return [(k.key, k.character) for k in found]


@pytest.mark.parametrize("digit", "12345")
def test_escape_then_a_digit_is_alt_digit_not_an_option_character(digit: str) -> None:
    # (Textual reads ESC 1 as macOS Option+1, ¡, which an input would type)
    assert keys("\x1b" + digit) == [(f"alt+{digit}", digit)]


def test_escape_then_a_lookup_in_one_read_keeps_every_character() -> None:
    text = "@quiet.creator"
    found = keys("\x1b1" + text + "\r", eof=False)  # at once: nothing waits for a timeout
    assert found[0] == ("alt+1", "1")
    assert "".join(c or "" for _, c in found[1:-1]) == text
    assert found[-1] == ("enter", "\r")


def test_escape_before_a_long_burst_is_not_a_caret() -> None:
    # (Textual reported the Escape as '^' once 31 characters followed it in one read)
    burst = "why not keep this one for the archive"
    found = keys("\x1bq" + burst, eof=False)
    assert found[0] == ("alt+q", "q")
    assert "".join(c or "" for _, c in found[1:]) == burst
    assert all(key != "circumflex_accent" for key, _ in found)


def test_sequences_stay_keys() -> None:
    assert keys("\x1b[A") == [("up", None)]
    assert keys("\x1bOP") == [("f1", None)]
    assert keys("\x1b[1;5C") == [("ctrl+right", None)]
    assert keys("\x1bb") == [("ctrl+left", None)]  # iTerm's word left, as Textual has it
    assert keys("\x1b") == [("escape", "\x1b")]
    assert keys("\x1b\x1b") == [("escape", "\x1b"), ("escape", "\x1b")]
    assert keys("\x1bA") == [("alt+shift+a", "A")]
    assert keys("\x1b@") == [("alt+at", "@")]


def test_split_alt_gives_the_plain_key() -> None:
    def plain(key: str, character: str | None) -> tuple[str, str | None] | None:
        found = split_alt(events.Key(key, character))
        return None if found is None else (found.key, found.character)

    assert plain("alt+q", "q") == ("q", "q")
    assert plain("alt+1", "1") == ("1", "1")
    assert plain("alt+1", None) == ("1", "1")  # as the Pilot sends it
    assert plain("alt+shift+a", "A") == ("A", "A")
    assert plain("alt+at", "@") == ("at", "@")
    assert plain("alt+up", None) is None
    assert plain("q", "q") is None

"""Reading keys off the terminal: Escape typed just before a character stays Escape.

Over SSH (or with a fast typist) Escape and the next key arrive in one read: ``ESC 1``.
Textual's parser turns some of those pairs into macOS Option characters (``ESC 1`` is
``¡``, which an input would then type), and when the Escape is followed by a long burst
(31 characters or more in one read) it reports the Escape as ``^``. Here ``ESC`` followed
by a printable character is always ``alt+<key>`` at once, with nothing held back; the app
(:mod:`tikget_tui.ui.key_order`) then reads ``alt+1``..``alt+5`` as the pane keys and any
other unbound ``alt+<key>`` as Escape followed by the key, as typed.

Sequences Textual knows as keys (``ESC b``/``ESC f``, word left/right in iTerm; ``ESC [``
and ``ESC O`` start cursor and function keys; ``ESC P``, ``ESC ]``, ``ESC _``, ``ESC ^``
and ``ESC X`` start terminal reports) are left to Textual.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import _character_to_key

ESC = "\x1b"
# what may follow ESC at the start of a longer sequence (CSI, SS3, DCS, OSC, APC, PM, SOS)
SEQUENCE_STARTS = frozenset("[O]P_^X")


def alt_key(character: str) -> events.Key:
    """``alt+<key>`` for a printable character read after ESC (Textual's own names:
    ``alt+1``, ``alt+q``, ``alt+shift+a``, ``alt+at``)."""
    name = character if character.isalnum() and character.isascii() \
        else _character_to_key(character)
    if len(name) == 1 and name.isupper():
        name = f"shift+{name.lower()}"
    return events.Key(f"alt+{name}", character)


class KeyParser(XTermParser):
    """Textual's parser, with ``ESC`` + a printable character always ``alt+<key>``."""

    def _sequence_to_key_events(self, sequence: str,
                                alt: bool = False) -> Iterable[events.Key]:
        if (len(sequence) == 2 and sequence[0] == ESC and sequence[1] not in SEQUENCE_STARTS
                and sequence[1].isprintable()
                and not isinstance(ANSI_SEQUENCES_KEYS.get(sequence), tuple)):
            yield alt_key(sequence[1])
            return
        yield from super()._sequence_to_key_events(sequence, alt)


class KeyDriver(LinuxDriver):
    """Textual's Linux driver reading with :class:`KeyParser` (the input thread below is
    Textual 8.2.8's ``LinuxDriver.run_input_thread`` with only the parser changed)."""

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        event_read = selectors.EVENT_READ
        parser = KeyParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False,
        ) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & event_read:
                    unicode_data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin is a pipe at its end
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(0.1))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass


__all__ = ["KeyDriver", "KeyParser", "alt_key"]

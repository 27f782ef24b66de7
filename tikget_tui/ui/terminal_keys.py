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

from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
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
    """Textual's Linux driver reading with :class:`KeyParser`.

    Its input thread makes its parser from the name ``XTermParser`` in its own module;
    that name is pointed at :class:`KeyParser` before the thread runs (the only Textual
    app in this process is ours), rather than repeating the thread's body here."""

    def run_input_thread(self) -> None:
        linux_driver.XTermParser = KeyParser  # type: ignore[misc]
        super().run_input_thread()


__all__ = ["KeyDriver", "KeyParser", "alt_key"]

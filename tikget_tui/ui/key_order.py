"""Keys in the order they were typed, each acting on what the keys before it left.

Textual routes a key to the widget focused when the app reads it, and the app reads the
next key before the widget has handled the last one: after a pane key, a Tab, an Escape
that closes a dialog or a key that opens one, the keys behind it (a second of typing over
a slow SSH link arrives in one read) went to the widget that was leaving. Here the app
routes one key (or paste) at a time: after each, the keys that arrived meanwhile are
held until the app has settled (every message the key caused has been handled, dialogs
and panes made on first use are mounted and have their focus), then the next one goes.
A key typed alone goes at once; only the keys behind it wait, in order, and none is
dropped (a wait is bounded: after :data:`HOLD_LIMIT` the next key goes anyway).

Over SSH, Escape and the key after it arrive together as ``alt+<key>``
(:mod:`tikget_tui.ui.terminal_keys`): ``alt+1``..``alt+5`` are the pane keys (bound, also
from inside a field); any other ``alt+<key>`` nothing binds is split back into Escape and
the key, so Escape then ``1`` typed fast in a dialog closes it and goes to pane 1.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.dom import DOMNode
from textual.keys import _character_to_key
from textual.widgets import Input

HOLD_LIMIT = 2.0
"""Seconds a held key waits for the app to settle before it goes anyway."""
QUICK_CHECKS = 20
"""Checks right after each other (one loop turn apart) before checking every 5 ms."""
SETTLE_GROUPS = frozenset({"library"})
"""Worker groups a held key also waits for: the library's list (Down, Delete or Enter typed
just after ``5`` act on its rows). Look-ups and downloads are not waited for: a person
typing slowly does not wait for them either."""


def split_alt(key: events.Key) -> events.Key | None:
    """The plain key under ``alt+<key>`` (``alt+q`` → ``q``), or None for other keys."""
    if not key.key.startswith("alt+"):
        return None
    rest = key.key[4:]
    character = key.character or (rest if len(rest) == 1 else "")
    if len(character) != 1 or not character.isprintable():
        return None
    name = character if character.isalnum() and character.isascii() \
        else _character_to_key(character)
    return events.Key(name, character)


def busy(node: DOMNode) -> bool:
    """Whether a node has messages waiting or is in the middle of one.

    (Textual 8.2.8's message loop waits on its queue's ``ready_event`` when it has nothing
    to do: a node is idle when its queue is empty and that wait is pending.)"""
    if node._closed or node._closing or node._task is None:
        return False
    queue: Any = node._message_queue
    if node._pending_message is not None or not queue.empty() \
            or node._next_callbacks:
        return True
    waiters = queue.ready_event._waiters
    return not any(not waiter.done() for waiter in waiters)


class KeyOrder:
    """The app's key gate: :meth:`arrived` takes every key and paste the terminal (or a
    test) posts to the app; ``route`` is Textual's own routing of one of them."""

    def __init__(self, app: Any, route: Callable[[events.Event], Awaitable[None]]) -> None:
        self.app = app
        self.route = route
        self.backlog: deque[events.Event] = deque()
        """Keys and pastes that arrived while an earlier one was being handled."""
        self.routing = False
        self._since = 0.0
        self._checks = 0
        self._split: set[int] = set()
        """ids of the alt keys already split into Escape + key once (not split again)."""
        self.routed = 0
        """How many keys and pastes went on (tests and benchmarks read it)."""
        self._typing = False
        """Characters went straight into an input and may not be handled yet."""
        self.overdue = 0
        """How many times a held key went after :data:`HOLD_LIMIT` (never, in the tests)."""

    async def arrived(self, event: events.Event) -> None:
        self.backlog.append(event)
        if not self.routing:
            await self._next()

    async def _next(self) -> None:
        while self.backlog and not self.routing:
            event: events.Event = self.backlog.popleft()
            if isinstance(event, events.Key):
                event = self._unalt(event)
            typed = self.typed_into_input(event)
            if self._typing and not typed:
                # the characters typed just before it are handled first
                self.backlog.appendleft(event)
                self._hold()
                return
            self.routed += 1
            if typed:  # goes straight on: it only edits the input, the focus stays
                self._typing = True
                await self.route(event)
                continue
            self._hold()
            try:
                await self.route(event)
            finally:
                self.app.call_later(self._check)
            return

    def _hold(self) -> None:
        """Hold the keys behind until the app has settled (checked from now on)."""
        self.routing = True
        self._since = time.monotonic()
        self._checks = 0
        if self._typing:
            self.app.call_later(self._check)

    def typed_into_input(self, event: events.Event) -> bool:
        """A character for the input with the focus, which no priority binding takes: it
        only edits the input (Textual's ``Input`` stops every printable key), so the key
        after it needs no wait (a paste of keystrokes goes at Textual's own speed)."""
        if not isinstance(event, events.Key) or not event.is_printable \
                or not isinstance(self.app.focused, Input):
            return False
        for _node, bindings in self.app.screen._binding_chain:
            if any(b.priority for b in bindings.key_to_bindings.get(event.key, ())):
                return False
        return True

    def _unalt(self, key: events.Key) -> events.Key:
        """``alt+<key>`` that nothing binds here: Escape, then the key (queued in front)."""
        plain = split_alt(key)
        if plain is None or key.key in self.app.active_bindings:
            return key
        if id(key) in self._split:  # Escape went first and did not make it bound: the key
            self._split.discard(id(key))
            return plain
        self._split.add(id(key))
        self.backlog.appendleft(key)  # again after the Escape (a pane key once it closed)
        return events.Key("escape", "\x1b")

    async def _check(self) -> None:
        if self.app.is_running and not self.settled() \
                and time.monotonic() - self._since < HOLD_LIMIT:
            self._checks += 1
            loop = asyncio.get_running_loop()
            if self._checks < QUICK_CHECKS:
                loop.call_soon(self._check_again)  # after one turn: the others run first
            else:
                loop.call_later(0.005, self._check_again)
            return
        if time.monotonic() - self._since >= HOLD_LIMIT:
            self.overdue += 1
            self.app.log.warning(f"keys: the app did not settle in {HOLD_LIMIT} s; the next "
                                 "key goes anyway")
        self.routing = False
        self._typing = False
        await self._next()

    def _check_again(self) -> None:
        self.app.call_later(self._check)

    def settled(self) -> bool:
        """Nothing left to do for the keys routed so far: no message waits in the app or
        anywhere on its screens, no node is in the middle of one, and no worker of
        :data:`SETTLE_GROUPS` runs."""
        app = self.app
        if app._pending_message is not None or not app._message_queue.empty():
            return False
        if any(worker.group in SETTLE_GROUPS and not worker.is_finished
               for worker in app.workers):
            return False
        for screen in app.screen_stack:
            for node in screen.walk_children(with_self=True):
                if busy(node):
                    return False
        return True


__all__ = ["HOLD_LIMIT", "SETTLE_GROUPS", "KeyOrder", "busy", "split_alt"]

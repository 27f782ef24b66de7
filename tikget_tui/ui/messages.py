"""Messages that cross widgets (widget-local messages are nested in their widget).

The core messages (``CoreEvent``, ``CoreReady``, ``CoreFailed``, ``WatchPolled``) and the
lookup results are posted to the main screen itself: they never bubble (``bubble=False``),
and the screen's handlers ``stop()`` them, so one event is one dispatch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tikget_tui.downloads.events import Event
    from tikget_tui.models import Story, StoryList


class StoriesListed(Message, bubble=False):
    """A lookup finished: one creator's active stories (maybe none, with a reason)."""

    def __init__(self, story_list: StoryList, query: str, *, reveal: bool = False) -> None:
        super().__init__()
        self.story_list = story_list
        self.query = query
        self.reveal = reveal
        """The user asked for this creator: bring their rows into view."""


class StoryResolved(Message, bubble=False):
    """A single link was resolved to a story or post."""

    def __init__(self, story: Story, query: str) -> None:
        super().__init__()
        self.story = story
        self.query = query


class LookupRefused(Message, bubble=False):
    """TikTok refused a lookup for a reason the user should see in the stories pane."""

    def __init__(self, query: str, reason: str) -> None:
        super().__init__()
        self.query = query
        self.reason = reason


class CoreEvent(Message, bubble=False):
    """An event from the download manager (``JobChanged`` or ``Progress``)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Progress for the same job merges: only the newest one matters (a final one too
        # replaces an earlier one; nothing replaces a JobChanged).
        from tikget_tui.downloads.events import Progress

        if not isinstance(message, CoreEvent):
            return False
        mine, other = self.event, message.event
        return (isinstance(mine, Progress) and isinstance(other, Progress)
                and mine.job_id == other.job_id)


class CoreReady(Message, bubble=False):
    """The download manager started (the restored queue is running)."""


class CoreFailed(Message, bubble=False):
    """The core could not start; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class WatchPolled(Message, bubble=False):
    """The watcher polled a watched creator (``result`` is a ``watch.PollResult``)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

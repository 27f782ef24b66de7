"""Messages that cross widgets (widget-local messages are nested in their widget)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from tikget_tui.models import Story, StoryList


class StoriesListed(Message):
    """A lookup finished: one creator's active stories (maybe none, with a reason)."""

    def __init__(self, story_list: StoryList, query: str) -> None:
        super().__init__()
        self.story_list = story_list
        self.query = query


class StoryResolved(Message):
    """A single link was resolved to a story or post."""

    def __init__(self, story: Story, query: str) -> None:
        super().__init__()
        self.story = story
        self.query = query


class LookupRefused(Message):
    """TikTok refused a lookup for a reason the user should see in the stories pane."""

    def __init__(self, query: str, reason: str) -> None:
        super().__init__()
        self.query = query
        self.reason = reason


class CoreEvent(Message):
    """An event from the download manager (``JobChanged`` or ``Progress``)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Progress for the same job merges: only the newest one matters.
        mine, other = self.event, getattr(message, "event", None)
        return (
            isinstance(message, CoreEvent)
            and type(mine).__name__ == "Progress"
            and type(other).__name__ == "Progress"
            and getattr(mine, "job_id", None) == getattr(other, "job_id", None)
        )


class CoreReady(Message):
    """The download manager started (the restored queue is running)."""


class CoreFailed(Message):
    """The core could not start; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class WatchPolled(Message):
    """The watcher polled a watched creator (``result`` is a ``watch.PollResult``)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

"""The stand-in TikTok web service: the built-in offline demo and the test double.

Loopback only. Everything it serves is generated locally (ffmpeg test
patterns and tones); nothing here talks to TikTok.
"""

from tikget_tui.demo.hostile import Attack
from tikget_tui.demo.media import MediaCatalog, MediaFile, MediaGenerationError, ensure_media
from tikget_tui.demo.scenario import (
    ChallengeMode,
    DemoCreator,
    DemoPost,
    DemoStory,
    Faults,
    MediaFaults,
    PostStatus,
    Quirk,
    Scenario,
    default_scenario,
    people_scenario,
)
from tikget_tui.demo.server import DemoServer, NotLoopback, RequestRecord, ServerStats
from tikget_tui.demo.thread import DemoServerThread

__all__ = [
    "Attack",
    "ChallengeMode",
    "DemoCreator",
    "DemoPost",
    "DemoServer",
    "DemoServerThread",
    "DemoStory",
    "Faults",
    "MediaCatalog",
    "MediaFaults",
    "MediaFile",
    "MediaGenerationError",
    "NotLoopback",
    "PostStatus",
    "Quirk",
    "RequestRecord",
    "Scenario",
    "ServerStats",
    "default_scenario",
    "ensure_media",
    "people_scenario",
]

"""Issue 20's story paths through ``tikget save`` (in-process) against the stand-in:
lists that stop early, stories whose media come from their post pages, age-gated posts,
all-digit usernames and short links whose host does not resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.clock import FakeClock
from tikget_tui.demo import DemoServerThread, Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR, Quirk

STORY_B = "7440000000000000002"  # h264_b, 5 s


@pytest.fixture
def demo_clock() -> FakeClock:
    """The commands run on the system clock: keep the stand-in's "now" on it too."""
    return realtime_clock()


def test_save_says_when_the_list_stopped_early(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    creator = demo_scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    result = run_cli("save", "@" + DEMO_CREATOR)
    assert result.rc == 1, result  # saved what was listed, but maybe not everything
    [row] = [ln for ln in result.out.splitlines() if " incomplete " in ln]
    assert row.startswith("@" + DEMO_CREATOR)
    assert row.rstrip().endswith(
        "only 1 story listed: TikTok kept sending the same page of the list (3 fresh device "
        "ids tried); there may be more, look it up again later")
    [saved] = [ln for ln in result.out.splitlines() if ln.startswith("Coffee first")]
    assert " done " in saved and saved.rstrip().endswith("ok")

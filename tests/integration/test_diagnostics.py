"""Something to go on when TikTok changes: ``-v``, ``--write-pages``, the answer that did
not parse, the app's log file; over real sockets (the stand-in, or a broken stand-in)."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR
from tikget_tui.logs import log_file, setup_logging, start_app_log
from tikget_tui.tiktok import TikTokClient

STORY_B = "7440000000000000002"
SECRET = "CHAINSECRET0123456789"


@pytest.fixture
def demo_clock() -> FakeClock:
    return realtime_clock()


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    yield
    setup_logging(load())  # no handler of ours left behind for the next test


def test_verbose_logs_every_request_redacted_and_the_decisions(
    run_cli, cli_env: Path, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    result = run_cli("save", "@" + DEMO_CREATOR, "-v", "--json")
    assert result.rc == 0, result
    err = result.err
    requests = [ln for ln in err.splitlines() if "tikget_tui.tiktok.http:" in ln]
    assert any(re.search(r"GET http://127\.0\.0\.1:\d+/@mika\.travels -> 200, \d+ bytes, "
                         r"\d+\.\d{3} s", ln) for ln in requests)
    assert any("/api/story/item_list/" in ln and "verifyFp=REDACTED" in ln for ln in requests)
    media = [ln for ln in requests if "/video/tos/" in ln]
    assert media and all("(streamed)" in ln for ln in media)
    assert all("signature=REDACTED" in ln and "tk=REDACTED" in ln for ln in media)
    assert not re.search(r"signature=(?!REDACTED)", err)
    assert not re.search(r"verifyFp=verify_", err)
    # decisions: which source a job fetched
    assert re.search(r"job \d+: fetching \S+\.mp4\.part from source video:", err)
    # without -v: none of it
    quiet = run_cli("save", "@" + DEMO_CREATOR, "--json")
    assert "tikget_tui.tiktok.http" not in quiet.err


def test_write_pages_keeps_every_page_and_api_answer_redacted(
    run_cli, cli_env: Path, tmp_path: Path,
) -> None:
    pages = tmp_path / "pages"
    result = run_cli("--write-pages", str(pages), "stories", "@" + DEMO_CREATOR)
    assert result.rc == 0, result
    kept = sorted(pages.iterdir())
    names = [p.name for p in kept]
    assert names[0].startswith("0001-") and any("api_story_item_list" in n for n in names)
    assert any(n.endswith("-@mika.travels.txt") for n in names)
    text = "".join(p.read_text(encoding="utf-8") for p in kept)
    assert "# request: GET http://127.0.0.1:" in text
    assert "# set-cookie: ttwid=REDACTED" in text
    assert not re.search(r"(?i)set-cookie: \w+=(?!REDACTED)", text)
    assert not re.search(r"signature=(?!REDACTED)", text)
    assert '"MaxCursor"' in text or "MaxCursor" in text  # the API answer itself is there


class _Broken(http.server.BaseHTTPRequestHandler):
    """A TikTok that changed: the profile page has no data this version understands."""

    def do_GET(self) -> None:
        body = (f'<html><script id="__NEW_DATA__">{{"tt_chain_token":"{SECRET}",'
                '"play":"https://v16.tiktokcdn.com/v?expire=1&signature=SIGSECRET"}'
                "</script></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", f"tt_chain_token={SECRET}; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broken_origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_that_does_not_parse_is_saved_redacted_and_named_in_the_error(
    run_cli, broken_origin: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIKGET_API_MIN_INTERVAL", "0")
    monkeypatch.setenv("TIKGET_MAX_RETRIES", "1")
    result = run_cli("stories", "@someone", "--service", broken_origin)
    assert result.rc == 1
    [line] = result.err.splitlines()  # still one line
    match = re.search(r"TikTok's answer is saved in (\S+\.txt); attach it to a bug report", line)
    assert match, line
    saved = Path(match.group(1))
    assert saved.parent == isolated_home / "cache" / "answers" and saved.is_file()
    text = saved.read_text(encoding="utf-8")
    assert "# error: TikTok's page for @someone carries no data" in text
    assert f"# request: GET {broken_origin}/@someone" in text
    assert "__NEW_DATA__" in text  # the answer itself, to see what changed
    assert SECRET not in text and "SIGSECRET" not in text
    assert "tt_chain_token=REDACTED" in text


async def test_the_app_log_file_gets_the_same_log(
    demo_server: DemoServer, demo_settings: Settings,
) -> None:
    path = start_app_log(demo_settings)
    assert path == log_file(demo_settings) == demo_settings.cache_dir / "tikget.log"
    async with TikTokClient(demo_settings) as client:
        await client.lookup_stories(DEMO_CREATOR)
    text = path.read_text(encoding="utf-8")
    assert "app started" in text and demo_server.origin in text
    assert re.search(r"GET http://127\.0\.0\.1:\d+/api/story/item_list/\?\S*verifyFp=REDACTED"
                     r"\S* -> 200, \d+ bytes", text)


def test_save_refuses_before_the_demo_service_starts_when_tikget_runs(
    run_cli, isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Point 7: the "already running" check comes first (no demo service, no look-up)."""
    from tikget_tui.store import InstanceLock

    started: list[object] = []
    monkeypatch.setattr("tikget_tui.demo.DemoServerThread.start",
                        lambda self: started.append(self) or "http://127.0.0.1:9")
    with InstanceLock(load().data_dir):
        for argv in (("save", "@" + DEMO_CREATOR, "--demo"), ("watch", "run", "--demo"),
                     ("audit", "--requeue", "--demo")):
            result = run_cli(*argv)
            assert result.rc == 1, argv
            assert "already running" in result.err and "starting the demo" not in result.err
    assert started == []


def test_verbose_logs_retries_and_their_waits(
    run_cli, cli_env: Path, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    demo_scenario.faults.server_errors = 1  # one 503 for the story list
    demo_scenario.faults.media.drop_after = 20_000  # the video's first body is cut short
    result = run_cli("-v", "save", "@" + DEMO_CREATOR)
    assert result.rc == 0, result
    assert re.search(r"/api/story/item_list/\S* -> 503", result.err)
    assert re.search(r"retrying in \d+\.\d s \(attempt 2 of \d+\): TikTok answered 503",
                     result.err)
    assert re.search(r"media: retry 1 of \d+ in \d+\.\d s", result.err)

"""`simkit app` end to end: the server starts, the page steps a run, takes a knob and shows an ensemble.

Drives the system's Chromium with Playwright (never `playwright install`); .ci/run installs Chromium.
Every wait is bounded, and the server is killed whatever happens.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from tests.conftest import BROWSER_ARGS, CHROMIUM, ROOT, WAER, kill_group

SIMKIT = Path(sys.executable).with_name("simkit")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"simkit app exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"simkit app did not answer on {url} within {seconds} s")


def test_a_bad_scenario_or_port_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["app", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["app", str(WAER), "--port", "0"])
    assert result.exit_code == 2 and "--port" in result.output


def _start_app(tmp_path, port: int) -> tuple[subprocess.Popen, IO[str]]:
    """`simkit app` on Waer in its own session, output to `server.log`; returns the process and the log."""
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(SIMKIT), "app", str(WAER), "--port", str(port), "--workers", "1"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    return process, log


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: `apt-get install -y chromium` (.ci/run does)")
def test_the_page_steps_a_run_takes_a_knob_and_shows_an_ensemble(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    server, log = _start_app(tmp_path, port)
    try:
        _wait_until_serving(url, server, 40)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)
            page.goto(url)
            date = page.locator(".simkit-date")
            expect(date).to_contain_text("not started")
            step = page.get_by_role("button", name="Step")
            for day in range(3):  # each click waits for its day: a redraw takes seconds on a busy machine
                step.click()
                expect(date).to_contain_text(f"(day {day})")
            expect(page.locator("img").first).to_be_visible()  # the panels (matplotlib, served as an image)
            page.get_by_text(re.compile(r"^regime \(\d+\)$")).click()
            knob = page.get_by_label("regime.siege_tightness", exact=True)
            knob.fill("0.5")
            knob.press("Enter")
            expect(page.get_by_text("set: regime.siege_tightness=0.5")).to_be_visible()
            expect(date).to_contain_text("not started")  # a knob restarts the run
            page.get_by_role("tab", name="Ensemble").click()
            runs = page.get_by_label("runs", exact=True)
            runs.fill("8")
            runs.press("Enter")
            page.get_by_role("button", name="Run ensemble").click()
            table = page.locator("table.simkit-shares")
            expect(table).to_be_visible(timeout=40_000)
            expect(table).to_contain_text("knobs share")
            page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
            browser.close()
        assert failed == [], f"requests that failed (offline assets?): {failed}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(server)
        log.close()


def test_stopping_the_app_with_sigterm_stops_its_server_and_frees_the_port(tmp_path):
    """SIGTERM to `simkit app` (as a service manager or `kill` sends it) takes the page's server with it."""
    import psutil

    port = _free_port()
    parent, log = _start_app(tmp_path, port)
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}/", parent, 60)
        children = psutil.Process(parent.pid).children(recursive=True)
        assert children, "simkit app runs its page in a server process"
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], f"left running after SIGTERM: {[p.pid for p in alive]}"
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # the port is free again for the next `simkit app`
    finally:  # whatever happened, nothing of this test stays running (the server shares the group)
        kill_group(parent)
        log.close()

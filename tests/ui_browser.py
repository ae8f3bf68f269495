"""`sslpilot ui` served on a free port and opened in Debian's Chromium (driven by Playwright), for the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env

ARTIFACTS = Path(os.environ.get("SSLPILOT_TEST_ARTIFACTS", ROOT / "tests" / "output"))  # screenshots kept here
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def page_loader(home_root, monkeypatch):
    """load(page, **query) -> an AppTest of ui/pages/<page>.py run against `home_root` (no queue daemon)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SSLPILOT_HOME", str(home_root))
    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")  # a confirmed launch queues; no daemon in tests

    def load(name: str, **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "ui" / "pages" / f"{name}.py"), default_timeout=180)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    return load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def browser_tab(home_root, path: str, height: int = 1100):
    """A Chromium tab on `path` of a fresh `sslpilot ui` over `home_root`; skips loudly without Chromium."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/dev.sh test installs it)")
    port = free_port()
    env = {**subprocess_env(), "SSLPILOT_HOME": str(home_root), "SSLPILOT_AUTOSTART": "0"}
    server = subprocess.Popen([sys.executable, "-m", "ui.cli", "ui", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1400, "height": height})
            deadline = time.time() + 90
            while True:
                try:
                    tab.goto(f"http://127.0.0.1:{port}/{path}", timeout=5000)
                    break
                except playwright.Error:
                    if time.time() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.5)
            yield tab
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)

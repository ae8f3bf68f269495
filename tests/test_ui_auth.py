"""Signing in to `sslpilot ui` in Debian's Chromium: local accounts (a wrong password refused, a viewer refused
a launch, a member's launch recorded as theirs, another user's conversation not opened, logout ends the
session) and OIDC through a real provider started for the test (oidc-provider-mock)."""

from __future__ import annotations

import re
import time

import pytest
from ui_browser import ARTIFACTS, browser_tab

from tools.access import Actor, acting_as
from tools.accounts import Accounts
from tools.home import Home
from tools.registry import Registry

ADMIN = Actor("root", "admin")


def sign_in(tab, name: str, password: str) -> None:
    tab.get_by_role("textbox", name="User name").fill(name)
    tab.get_by_role("textbox", name="Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()


def say(tab, text: str) -> None:
    box = tab.get_by_placeholder(re.compile("Ask about runs"))
    box.fill(text)
    box.press("Enter")


@pytest.fixture
def team_home(tmp_path):
    home = Home.resolve(tmp_path / "home")
    with acting_as(ADMIN):
        a = Accounts(home)
        a.add("root", "admin", "root-password")
        a.add("bob", "member", "bob-password")
        a.add("carol", "viewer", "carol-password")
    return home


def test_local_accounts_in_chromium(team_home):
    from playwright.sync_api import expect

    with browser_tab(team_home.root, "") as tab:
        expect(tab.get_by_text("sign in to continue")).to_be_visible(timeout=60_000)
        assert "Chat" not in tab.locator("[data-testid=stSidebarNav]").all_inner_texts()
        sign_in(tab, "bob", "not-bobs-password")
        expect(tab.get_by_text("wrong user name or password")).to_be_visible(timeout=30_000)

        sign_in(tab, "carol", "carol-password")
        expect(tab.get_by_text("signed in as carol (viewer)")).to_be_visible(timeout=60_000)
        say(tab, "pretrain simclr on digits for 5 steps")
        expect(tab.get_by_text("needs the member role; carol is a viewer").first).to_be_visible(timeout=120_000)
        tab.screenshot(path=str(ARTIFACTS / "auth-viewer-refused.png"), full_page=True)
        assert Registry(team_home).list() == []
        carols_thread = re.search(r"thread=(\w+)", tab.url).group(1)
        tab.get_by_role("button", name="Sign out").click()
        expect(tab.get_by_text("sign in to continue")).to_be_visible(timeout=30_000)

        sign_in(tab, "bob", "bob-password")
        expect(tab.get_by_text("signed in as bob (member)")).to_be_visible(timeout=60_000)
        tab.goto(tab.url.split("?")[0] + f"?thread={carols_thread}")  # carol's conversation, by its link
        sign_in(tab, "bob", "bob-password")  # a reload asks again (the session lives in the browser session)
        expect(tab.get_by_text("belongs to another user; this is a new one")).to_be_visible(timeout=60_000)
        assert f"thread={carols_thread}" not in tab.url
        assert "for 5 steps" not in tab.content()  # carol's message is not shown
        say(tab, "pretrain simclr on digits for 5 steps")
        expect(tab.get_by_role("button", name="Confirm")).to_be_visible(timeout=120_000)
        tab.get_by_role("button", name="Confirm").click()
        expect(tab.get_by_text(re.compile(r"Queued \*?\*?run 1|Queued run 1")).first).to_be_visible(timeout=120_000)
        runs = Registry(team_home).list()
        assert [(r.id, r.owner) for r in runs] == [("1", "bob")]


def test_oidc_sign_in_in_chromium(team_home, monkeypatch):
    import subprocess
    import sys

    from conftest import ROOT, subprocess_env
    from playwright.sync_api import expect

    mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is in the dev extra")
    expiry_s = 20  # the server refuses an identity older than this (its token's `iat`)
    monkeypatch.setenv("SSLPILOT_SESSION_HOURS", str(expiry_s / 3600))
    pytest.importorskip("authlib", reason="st.login needs Authlib")
    with mock.run_server_in_thread(user_claims=[mock.User(sub="dora", claims={"email": "dora@lab.org"}),
                                                mock.User(sub="bob-sso", claims={"email": "bob@lab.org"})]) as server:
        issuer = f"http://127.0.0.1:{server.server_port}"
        with acting_as(ADMIN):
            Accounts(team_home).add("bob@lab.org", "member", oidc=True)
        r = subprocess.run([sys.executable, "-m", "ui.cli", "auth", "oidc", "--metadata-url",
                            f"{issuer}/.well-known/openid-configuration", "--client-id", "sslpilot",
                            "--client-secret-stdin", "--redirect-uri", "http://127.0.0.1:{port}/oauth2callback"],
                           input="client-secret\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
                           env={**subprocess_env(), "SSLPILOT_HOME": str(team_home.root), "LOGNAME": "root"})
        assert r.returncode == 0, r.stderr
        secrets = team_home.root / "auth" / "secrets.toml"
        assert secrets.stat().st_mode & 0o777 == 0o600 and "client-secret" not in r.stdout + r.stderr
        with browser_tab(team_home.root, "") as tab:
            expect(tab.get_by_text("sign in to continue")).to_be_visible(timeout=60_000)
            # a forged identity cookie (not signed with the home's cookie secret) signs nobody in
            forged = '{"is_logged_in": true, "email": "root@lab.org", "iat": 9999999999}'
            tab.context.add_cookies([{"name": "_streamlit_user", "value": forged, "url": tab.url}])
            tab.reload()
            expect(tab.get_by_text("sign in to continue")).to_be_visible(timeout=60_000)
            tab.get_by_role("button", name="Sign in with your organisation (OIDC)").click()
            tab.get_by_role("button", name="dora").click()  # the provider's page: a predefined user
            expect(tab.get_by_text("signed in as dora@lab.org (viewer)")).to_be_visible(timeout=60_000)
            tab.screenshot(path=str(ARTIFACTS / "auth-oidc-viewer.png"), full_page=True)
            app_url = tab.url.split("?")[0]
            tab.get_by_role("button", name="Sign out").click()
            tab.wait_for_url(re.compile("end_session"), timeout=30_000)  # the provider's own logout page
            tab.goto(app_url)
            expect(tab.get_by_text("sign in to continue")).to_be_visible(timeout=60_000)
            tab.get_by_role("button", name="Sign in with your organisation (OIDC)").click()
            tab.get_by_role("button", name="bob-sso").click()
            expect(tab.get_by_text("signed in as bob@lab.org (member)")).to_be_visible(timeout=60_000)
            signed_in = time.time()
            tab.wait_for_timeout(max(0.0, expiry_s + 2 - (time.time() - signed_in)) * 1000)
            tab.goto(app_url)  # the same cookie, now older than the session may be
            expect(tab.get_by_text("the session expired; sign in again")).to_be_visible(timeout=60_000)
            tab.get_by_role("button", name="Sign in with your organisation (OIDC)").click()
            tab.get_by_role("button", name="bob-sso").click()  # a fresh identity replaces the stale one
            expect(tab.get_by_text("signed in as bob@lab.org (member)")).to_be_visible(timeout=60_000)

"""`sslpilot ui` listens on loopback unless told otherwise: a network-facing --host is refused while nobody
has to sign in (no accounts, no OIDC) with the fix in the message, unless --no-auth says the open port is
meant. With accounts or OIDC it serves, and the app asks for a login (tests/test_ui_auth.py)."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from ui.cli import app


class Served(Exception):
    pass


@pytest.fixture
def served(monkeypatch, tmp_path):
    """The streamlit command `sslpilot ui` would become (os.execve is caught, nothing is served)."""
    seen = {}

    def execve(path, cmd, env):
        seen["cmd"] = cmd
        raise Served

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("SSLPILOT_HOME", str(tmp_path / "home"))
    from ui.cli import common

    monkeypatch.setattr(common, "_invocation", {})  # the home an earlier in-process command resolved is not ours
    return seen


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "box.example.org"])
def test_a_network_facing_host_is_refused_without_no_auth(served, host):
    r = CliRunner().invoke(app, ["ui", "--host", host])
    assert r.exit_code == 2 and "cmd" not in served
    assert f"host: {host} would let anyone who can reach port 8501" in r.output
    assert "--no-auth" in r.output and "ssh -L 8501:127.0.0.1:8501" in r.output
    assert "sslpilot user add NAME --role admin" in r.output


@pytest.mark.parametrize("args,host", [([], "127.0.0.1"), (["--host", "localhost"], "localhost"),
                                       (["--host", "::1"], "::1"), (["--host", "0.0.0.0", "--no-auth"], "0.0.0.0")])
def test_loopback_or_an_explicit_no_auth_serves(served, args, host):
    r = CliRunner().invoke(app, ["ui", *args])
    assert isinstance(r.exception, Served), r.output
    cmd = served["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == host


def test_with_accounts_or_oidc_a_network_host_serves_behind_a_login(served, tmp_path):
    from tools.access import Actor, acting_as
    from tools.accounts import Accounts, write_private
    from tools.home import Home

    home = Home.resolve(tmp_path / "home")
    with acting_as(Actor("root", "admin")):
        Accounts(home).add("root", "admin", "root-password")
    r = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--home", str(home.root)])
    assert isinstance(r.exception, Served), r.output
    assert "--secrets.files" not in served["cmd"]
    secrets = home.root / "auth" / "secrets.toml"
    write_private(secrets, "[auth]\n")
    r = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--home", str(home.root)])
    assert isinstance(r.exception, Served)
    assert served["cmd"][served["cmd"].index("--secrets.files") + 1] == str(secrets)


def test_no_auth_turns_the_login_off(served, monkeypatch):
    seen = {}

    def execve(path, cmd, env):
        seen.update(env)
        raise Served

    monkeypatch.setattr(os, "execve", execve)
    CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--no-auth"])
    assert seen["SSLPILOT_UI_AUTH"] == "off"
    CliRunner().invoke(app, ["ui"])
    assert seen["SSLPILOT_UI_AUTH"] == ""


def test_the_terminal_chat_ends_on_exit_words_without_asking_the_agent(monkeypatch, tmp_path):
    """"quit" used to be read as a request ("Did you want to cancel run 2?"); it ends the chat, as Ctrl-D does."""
    import agent.session

    heard = []

    class Agent:
        def __init__(self, home):
            pass

        def stream(self, text, thread):
            heard.append(text)
            yield {"event": "answer", "text": "ok"}

        def unsaved(self, thread):  # asked as the chat closes: nothing held back by a full disk here
            heard.append("(closing)")

    monkeypatch.setattr(agent.session, "Agent", Agent)
    monkeypatch.setenv("SSLPILOT_HOME", str(tmp_path / "home"))
    from ui.cli import common

    monkeypatch.setattr(common, "_invocation", {})
    r = CliRunner().invoke(app, ["chat"], input="list my runs\nQuit.\ncancel run 2\n")
    assert r.exit_code == 0, r.output
    assert heard == ["list my runs", "(closing)"]

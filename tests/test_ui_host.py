"""`sslpilot ui` listens on loopback unless told otherwise: a network-facing --host is refused (there is no
login yet: issue 25) with the fix in the message, unless --no-auth says the open port is meant."""

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
    return seen


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "box.example.org"])
def test_a_network_facing_host_is_refused_without_no_auth(served, host):
    r = CliRunner().invoke(app, ["ui", "--host", host])
    assert r.exit_code == 2 and "cmd" not in served
    assert f"host: {host} would let anyone who can reach port 8501" in r.output
    assert "--no-auth" in r.output and "ssh -L 8501:127.0.0.1:8501" in r.output


@pytest.mark.parametrize("args,host", [([], "127.0.0.1"), (["--host", "localhost"], "localhost"),
                                       (["--host", "::1"], "::1"), (["--host", "0.0.0.0", "--no-auth"], "0.0.0.0")])
def test_loopback_or_an_explicit_no_auth_serves(served, args, host):
    r = CliRunner().invoke(app, ["ui", *args])
    assert isinstance(r.exception, Served), r.output
    cmd = served["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == host

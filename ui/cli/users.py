"""`sslpilot user add|ls|rm|passwd|role|limit` and `sslpilot whoami`: accounts on a shared home (admins only,
except the first account, which must be an admin)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()
NameArg = Annotated[str, typer.Argument(help="user name: a-z 0-9 . _ @ + - (an OIDC login is the e-mail)")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input "
                                             "(for scripts), instead of asking twice")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _admin():
    from tools.access import require

    h = the_home()
    require(h, "admin", "managing users")
    return h


def _row(u) -> dict:
    return {"name": u.name, "role": u.role, "login": "password" if u.password_hash else "oidc",
            "max_gpus": u.max_gpus, "max_queued": u.max_queued}


@app.command("add")
def user_add(name: NameArg, role: Annotated[str, typer.Option(help="viewer, member or admin")] = "member",
             oidc: Annotated[bool, typer.Option("--oidc", help="signs in through the OIDC provider: no password")]
             = False, password_stdin: PasswordStdin = False, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add an account. The first account of a home must be an admin."""
    from tools.accounts import Accounts

    accounts = Accounts(_admin())
    accounts.check_add(name, role)  # refused before a password is asked for
    u = accounts.add(name, role, None if oidc else _password(password_stdin), oidc=oidc)
    emit(_row(u), as_json, f"added {u.name} ({u.role})")


@app.command("ls")
def user_ls(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The accounts, their roles and limits."""
    from tools.accounts import Accounts

    users = [_row(u) for u in Accounts(the_home()).list()]
    emit({"users": users}, as_json, "\n".join(f"{u['name']:24s} {u['role']:7s} {u['login']:8s} gpus "
                                              f"{u['max_gpus'] or '-'} queued {u['max_queued'] or '-'}"
                                              for u in users) or "no accounts: the home is open to its OS users")


@app.command("rm")
def user_rm(name: NameArg, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Remove an account (its runs keep their owner; its sessions end)."""
    from tools.accounts import Accounts

    Accounts(_admin()).remove(name)
    emit({"removed": name}, as_json, f"removed {name}")


@app.command("passwd")
def user_passwd(name: NameArg, password_stdin: PasswordStdin = False, home: HomeOpt = None,
                as_json: JsonOpt = False) -> None:
    """Set a password (an admin for anyone; anyone for themselves). Open sessions of the account end."""
    from tools.access import current
    from tools.accounts import Accounts, check_name

    h = the_home()
    if current(h).name != check_name(name):
        _admin()  # before the password is asked for; Accounts checks again
    Accounts(h).set_password(name, _password(password_stdin))
    emit({"changed": name}, as_json, f"password of {name} changed")


@app.command("role")
def user_role(name: NameArg, role: Annotated[str, typer.Argument(help="viewer, member or admin")],
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Change a role (the last admin cannot be demoted)."""
    from tools.accounts import Accounts

    u = Accounts(_admin()).set_role(name, role)
    emit(_row(u), as_json, f"{u.name} is now a {u.role}")


@app.command("limit")
def user_limit(name: NameArg, gpus: Annotated[int | None, typer.Option(help="GPUs at once (0: the default)")] = None,
               queued: Annotated[int | None, typer.Option(help="runs waiting at once (0: the default)")] = None,
               home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Per-user queue limits; the defaults are SSLPILOT_USER_MAX_GPUS and SSLPILOT_USER_MAX_QUEUED."""
    from tools.accounts import Accounts

    u = Accounts(_admin()).set_limits(name, gpus, queued)
    emit(_row(u), as_json, f"{u.name}: GPUs {u.max_gpus or 'default'}, queued {u.max_queued or 'default'}")


@app.command("whoami")
def whoami(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Who the CLI acts as on this home, and with which role."""
    from tools.access import current

    a = current(the_home())
    emit({"name": a.name, "role": a.role, "how": a.how}, as_json, f"{a.name} ({a.role}, {a.how})")


auth_app = typer.Typer()


@auth_app.command("oidc")
def auth_oidc(metadata_url: Annotated[str, typer.Option(help="the provider's .well-known/openid-configuration URL")],
              client_id: Annotated[str, typer.Option(help="this app's client id at the provider")],
              client_secret_stdin: Annotated[bool, typer.Option("--client-secret-stdin", help="read the client "
                                                                "secret from standard input instead of asking")]
              = False,
              redirect_uri: Annotated[str, typer.Option(help="where the provider sends people back: the UI's "
                                                        "address + /oauth2callback ({port} is filled in)")]
              = "http://localhost:{port}/oauth2callback",
              home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Sign in to the UI through an OpenID Connect provider (Streamlit's st.login). Writes the home's
    auth/secrets.toml, readable by its owner only, with a cookie secret made for this home."""
    from ssl_runtime.errors import SSLPilotError
    from tools.accounts import cookie_secret, write_private

    h = _admin()
    if not metadata_url.startswith(("http://", "https://")) or not redirect_uri.endswith("/oauth2callback"):
        raise SSLPilotError("the metadata URL must be http(s) and the redirect URI must end in /oauth2callback",
                            field="--metadata-url" if not metadata_url.startswith("http") else "--redirect-uri")
    secret = sys.stdin.readline().rstrip("\n") if client_secret_stdin else typer.prompt("client secret",
                                                                                        hide_input=True)
    values = {"redirect_uri": redirect_uri, "cookie_secret": cookie_secret(h), "client_id": client_id,
              "client_secret": secret, "server_metadata_url": metadata_url}
    path = h.root / "auth" / "secrets.toml"
    write_private(path, "[auth]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    emit({"written": str(path), "redirect_uri": redirect_uri}, as_json,
         f"OIDC sign-in configured ({path}); restart `sslpilot ui`. Give people roles with "
         "`sslpilot user add EMAIL --oidc --role member` (others sign in as viewers).")


@auth_app.command("off")
def auth_off(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Stop offering OIDC sign-in (local accounts stay)."""
    h = _admin()
    (h.root / "auth" / "secrets.toml").unlink(missing_ok=True)
    emit({"oidc": False}, as_json, "OIDC sign-in removed")

"""Signing a browser in: the gate every page passes through (ui/app.py), and the actor it yields.

- No accounts and no OIDC (the default on 127.0.0.1): nobody is asked; the actor is the server's OS login.
- Local accounts (`sslpilot user add`): a name and password form. The session token lives in this browser
  session's state only (a reload asks again) and in the registry as a hash with its expiry, so it can be
  ended by logging out, by a password change or by removing the user.
- OIDC (`sslpilot auth oidc ...`): Streamlit's st.login. Its identity cookie is signed with the home's
  cookie secret; sslpilot also refuses an identity older than SSLPILOT_SESSION_HOURS (the token's `iat`).
"""

from __future__ import annotations

import time

import streamlit as st

from ssl_runtime import settings
from tools.access import Actor, local_actor
from tools.accounts import Accounts, AuthError
from tools.home import Home

TOKEN = "sslpilot_session"


def oidc_configured(home: Home) -> bool:
    return (home.root / "auth" / "secrets.toml").exists()


def auth_required(home: Home) -> bool:
    """A login is asked for when the home has accounts or OIDC, unless the server was started with --no-auth."""
    if settings.get("SSLPILOT_UI_AUTH") == "off":
        return False
    return Accounts(home).any() or oidc_configured(home)


def gate(home: Home) -> Actor:
    """The signed-in actor, or the login form and a stop."""
    if not auth_required(home):
        return local_actor(home)
    accounts = Accounts(home)
    token = st.session_state.get(TOKEN)
    if token:
        try:
            user = accounts.session_user(token)
            return Actor(user.name, user.role, "login")
        except AuthError as exc:
            st.session_state.pop(TOKEN, None)
            st.session_state["auth_message"] = exc.args[0].removeprefix("session: ")
    if oidc_configured(home) and st.user.is_logged_in:
        actor = _oidc_actor(accounts)
        if actor is not None:
            return actor
    _login_form(home, accounts)
    st.stop()
    raise AssertionError("unreachable")


def _oidc_actor(accounts: Accounts) -> Actor | None:
    issued = st.user.get("iat")
    if isinstance(issued, (int, float)) and time.time() - issued > settings.get_float("SSLPILOT_SESSION_HOURS") * 3600:
        st.session_state["auth_message"] = "the session expired; sign in again"
        return None  # the stale cookie is refused on every visit; signing in again replaces it
    name = str(st.user.get("email") or st.user.get("sub") or "").lower()
    account = accounts.get(name)
    return Actor(name, account.role if account else settings.get("SSLPILOT_OIDC_ROLE"), "oidc")


def _login_form(home: Home, accounts: Accounts) -> None:
    st.title("sslpilot")
    st.caption("This sslpilot is shared: sign in to continue.")
    message = st.session_state.pop("auth_message", None)
    if message:
        st.warning(message)
    if oidc_configured(home):
        st.button("Sign in with your organisation (OIDC)", type="primary", on_click=st.login)
    if any(u.password_hash for u in accounts.list()):
        with st.form("login"):
            name = st.text_input("User name", key="login_name")
            password = st.text_input("Password", type="password", key="login_password")
            if st.form_submit_button("Sign in"):
                try:
                    user = accounts.verify(name, password)
                except AuthError as exc:
                    st.error(exc.args[0].removeprefix("password: "))
                    return
                st.session_state[TOKEN] = accounts.open_session(user.name)
                st.rerun()


def sign_out(home: Home, actor: Actor) -> None:
    """The sidebar's button: ends the local session (its token stops working) or the OIDC one."""
    if actor.how == "login":
        Accounts(home).close_session(st.session_state.pop(TOKEN, None))
        st.rerun()
    elif actor.how == "oidc":
        st.logout()

"""Accounts on a real registry (SQLite, argon2): passwords, lockouts, sessions, odd names, concurrent admins."""

from __future__ import annotations

import threading
import time

import pytest

from ssl_runtime.errors import SSLPilotError
from tools.access import Actor, acting_as
from tools.accounts import Accounts, AuthError, cookie_secret
from tools.home import Home
from tools.records import LoginSession

ADMIN = Actor("root", "admin")


@pytest.fixture
def accounts(tmp_path):
    """A home with an admin and a member; the test acts as the admin (whatever this machine's login is)."""
    with acting_as(ADMIN):
        a = Accounts(Home.resolve(tmp_path / "home"))
        a.add("root", "admin", "root-password")
        a.add("bob", "member", "bob-password")
        yield a


def test_only_an_admin_edits_accounts(accounts):
    with acting_as(Actor("bob", "member")):
        for edit in (lambda: accounts.add("eve", "member", "eve-password"), lambda: accounts.remove("root"),
                     lambda: accounts.set_role("bob", "admin"), lambda: accounts.set_limits("bob", max_gpus=8),
                     lambda: accounts.set_password("root", "taken-over")):
            with pytest.raises(SSLPilotError, match="managing users needs the admin role; bob is a member"):
                edit()
        accounts.set_password("bob", "bob-own-new-password")  # one's own is allowed
    assert [(u.name, u.role, u.max_gpus) for u in accounts.list()] == [("bob", "member", None), ("root", "admin", None)]
    assert accounts.verify("root", "root-password").name == "root"


def test_passwords_are_hashed_and_checked(accounts):
    stored = accounts.get("bob").password_hash
    assert stored.startswith("$argon2id$") and "bob-password" not in stored
    assert accounts.verify("bob", "bob-password").name == "bob"
    assert accounts.verify("  BOB ", "bob-password").name == "bob"  # names are case-insensitive
    for name, pw in (("bob", "wrong-password"), ("nobody", "bob-password"), ("bob", "")):
        with pytest.raises(AuthError, match="wrong user name or password"):  # which part was wrong is not said
            accounts.verify(name, pw)


def test_repeated_wrong_passwords_lock_the_account_for_a_growing_delay(accounts):
    for _ in range(2):
        with pytest.raises(AuthError, match="wrong"):
            accounts.verify("bob", "guess")
    assert accounts.get("bob").locked_until == 0  # two typos cost nothing
    with pytest.raises(AuthError, match="wrong"):
        accounts.verify("bob", "guess")
    first = accounts.get("bob").locked_until - time.time()
    assert 0.5 < first <= 2.0
    with pytest.raises(AuthError, match="too many wrong passwords"):  # even the right password waits
        accounts.verify("bob", "bob-password")
    time.sleep(first + 0.1)
    with pytest.raises(AuthError, match="wrong"):
        accounts.verify("bob", "guess again")
    second = accounts.get("bob").locked_until - time.time()
    assert second > 1.5 * first  # the delay doubles
    accounts.set_password("bob", "new-bob-password")  # an admin reset clears the lock
    assert accounts.verify("bob", "new-bob-password").name == "bob"
    assert accounts.get("bob").failed_logins == 0


def test_sessions_expire_and_forged_or_replayed_tokens_are_refused(accounts):
    token = accounts.open_session("bob")
    assert accounts.session_user(token).name == "bob"
    with pytest.raises(AuthError, match="not valid"):
        accounts.session_user(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))  # forged
    with pytest.raises(AuthError, match="not signed in"):
        accounts.session_user("")
    accounts.close_session(token)  # logout
    with pytest.raises(AuthError, match="not valid"):  # the same token replayed after it
        accounts.session_user(token)
    short = accounts.open_session("bob", hours=2 / 3600)  # two seconds: far more than the check below takes
    assert accounts.session_user(short).name == "bob"
    time.sleep(2.3)
    with pytest.raises(AuthError, match="expired"):
        accounts.session_user(short)
    live = accounts.open_session("bob")
    accounts.set_password("bob", "changed-password")  # a password change ends open sessions
    with pytest.raises(AuthError, match="not valid"):
        accounts.session_user(live)
    gone = accounts.open_session("bob")
    accounts.remove("bob")
    with pytest.raises(AuthError):
        accounts.session_user(gone)


def test_only_token_hashes_are_stored(accounts):
    from sqlmodel import Session, select

    token = accounts.open_session("bob")
    with Session(accounts.registry.engine) as s:
        stored = [r.token_hash for r in s.exec(select(LoginSession))]
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


@pytest.mark.parametrize("name", ["Bad Name", "a/b", "../root", "", "x" * 65, "-dash", "semi;colon", "quote'"])
def test_odd_user_names_are_refused_and_nothing_is_stored(accounts, name):
    before = [u.name for u in accounts.list()]
    with pytest.raises(SSLPilotError, match="name: user name .* is not allowed"):
        accounts.add(name, "member", "some-password")
    assert [u.name for u in accounts.list()] == before


def test_bad_roles_passwords_and_duplicates_change_nothing(accounts):
    with pytest.raises(SSLPilotError, match="role: role 'owner' is not one of"):
        accounts.add("carol", "owner", "carol-password")
    with pytest.raises(SSLPilotError, match="password: the password is shorter"):
        accounts.add("carol", "member", "short")
    with pytest.raises(SSLPilotError, match="already exists"):
        accounts.add("BOB", "viewer", "other-password")
    assert accounts.get("bob").role == "member" and accounts.get("carol") is None
    with pytest.raises(SSLPilotError, match="would leave no admin"):
        accounts.remove("root")
    with pytest.raises(SSLPilotError, match="would leave no admin"):
        accounts.set_role("root", "member")
    assert accounts.get("root").role == "admin"


def test_two_admins_demoting_each_other_at_once_keep_one_admin(accounts):
    accounts.add("ann", "admin", "ann-password")
    results: dict[str, str] = {}
    start = threading.Barrier(2)

    def demote(name: str) -> None:
        start.wait()
        try:
            with acting_as(ADMIN):
                accounts.set_role(name, "member")
            results[name] = "done"
        except SSLPilotError as exc:
            results[name] = str(exc)

    threads = [threading.Thread(target=demote, args=(n,)) for n in ("root", "ann")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values())[0] == "done"
    assert "would leave no admin" in sorted(results.values())[1]
    assert [u.name for u in accounts.list() if u.role == "admin"] in (["root"], ["ann"])


def test_two_admins_adding_the_same_name_at_once_one_wins(accounts):
    results = []
    start = threading.Barrier(2)

    def add(pw: str) -> None:
        start.wait()
        try:
            with acting_as(ADMIN):
                accounts.add("dora", "member", pw)
            results.append("added")
        except SSLPilotError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=add, args=(pw,)) for pw in ("first-password", "second-password")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == "added" and "already exists" in sorted(results)[1]
    hits = [pw for pw in ("first-password", "second-password") if _ok(accounts, "dora", pw)]
    assert len(hits) == 1  # the winner's password, not a mix


def _ok(accounts, name, pw) -> bool:
    try:
        accounts.verify(name, pw)
        return True
    except AuthError:
        return False


def test_the_cookie_secret_is_made_once_and_private(tmp_path):
    home = Home.resolve(tmp_path / "home")
    secret = cookie_secret(home)
    path = home.root / "auth" / "cookie_secret"
    assert len(secret) == 64 and cookie_secret(home) == secret
    assert path.stat().st_mode & 0o777 == 0o600
    assert (home.root / "auth").stat().st_mode & 0o077 == 0

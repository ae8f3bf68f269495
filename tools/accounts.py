"""Accounts on a shared home: users, their roles and limits, password checks and browser sessions.

Passwords are hashed with argon2id (argon2-cffi); only hashes are stored. After three wrong passwords in a
row an account is locked for a doubling delay (2 s, 4 s, ... up to 5 min), so guessing is slow but a typo
costs nothing. A browser session is a random token whose SHA-256 is stored with its expiry; closing it or
removing the user ends it. Edits run in one transaction each, and the last admin cannot be removed or demoted,
even by two admins acting at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from ssl_runtime import settings
from ssl_runtime.errors import SSLPilotError
from tools.access import ROLES, current, require
from tools.home import Home
from tools.records import LoginSession, User, now
from tools.registry import Registry, _retry_locked

NAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,63}$")  # a login name or an OIDC e-mail, lower case
MIN_PASSWORD = 8
FREE_TRIES = 3
MAX_LOCK_S = 300.0
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")  # checked for unknown names, so timing says nothing


class AuthError(SSLPilotError):
    """A login refused: wrong password, locked account, expired or unknown session."""


def check_name(name: str) -> str:
    """The canonical (lower-case) name, or a refusal that says which characters are allowed."""
    canon = str(name).strip().lower()
    if not NAME.match(canon):
        raise SSLPilotError(f"user name {name!r} is not allowed", field="name",
                            fix="use 1-64 of a-z 0-9 . _ @ + - starting with a letter or digit (e.g. alice, "
                                "alice@lab.org)")
    return canon


def check_role(role: str) -> str:
    if role not in ROLES:
        raise SSLPilotError(f"role {role!r} is not one of {', '.join(ROLES)}", field="role",
                            fix="viewer reads; member launches and cancels their own runs; admin does anything")
    return role


def _check_password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD:
        raise SSLPilotError(f"the password is shorter than {MIN_PASSWORD} characters", field="password",
                            fix=f"choose one of at least {MIN_PASSWORD} characters")
    return password


class Accounts:
    """The accounts of one home (stored in its registry)."""

    def __init__(self, home: Home, registry: Registry | None = None):
        self.home = home
        self.registry = registry or Registry(home)

    # ---- reading ------------------------------------------------------------------------------------
    def any(self) -> bool:
        """Whether this home has accounts at all (then the UI asks for a login and the CLI maps logins)."""
        with Session(self.registry.engine) as s:
            return s.exec(select(User.name).limit(1)).first() is not None

    def get(self, name: str) -> User | None:
        with Session(self.registry.engine) as s:
            return s.get(User, str(name).strip().lower())

    def list(self) -> list[User]:
        with Session(self.registry.engine) as s:
            return list(s.exec(select(User).order_by(User.name)))

    # ---- editing (admins only, once the home has an account: tools/access.py) ---------------------------
    def _require_admin(self) -> None:
        if self.any():
            require(self.home, "admin", "managing users")

    def check_add(self, name: str, role: str) -> tuple[str, str]:
        """Whether `add` would be allowed (the CLI asks before prompting for a password)."""
        name, role = check_name(name), check_role(role)
        self._require_admin()
        if not self.any() and role != "admin":
            raise SSLPilotError("the first account must be an admin (else nobody could add the others)", field="role",
                                fix=f"sslpilot user add {name} --role admin")
        return name, role

    @_retry_locked
    def add(self, name: str, role: str = "member", password: str | None = None, *, oidc: bool = False) -> User:
        """A new account; `oidc` accounts have no password (they sign in through the organisation's provider)."""
        name, role = self.check_add(name, role)
        pw_hash = None if oidc else _hasher.hash(_check_password(password))
        with Session(self.registry.engine) as s:
            if s.get(User, name) is not None:
                raise SSLPilotError(f"user {name!r} already exists", field="name",
                                    fix=f"pick another name, or change it with `sslpilot user role {name} ROLE`")
            s.add(User(name=name, role=role, password_hash=pw_hash))
            try:
                s.commit()
            except IntegrityError:  # another admin added the same name a moment ago
                raise SSLPilotError(f"user {name!r} already exists", field="name") from None
            return s.get(User, name)

    @_retry_locked
    def remove(self, name: str) -> None:
        name = check_name(name)
        self._require_admin()
        with Session(self.registry.engine) as s:
            self._lock_admins(s)
            user = s.get(User, name)
            if user is None:
                raise SSLPilotError(f"no user {name!r}", field="name", fix="see `sslpilot user ls`")
            s.delete(user)
            s.flush()
            self._keep_an_admin(s, f"removing {name}")
            for sess in s.exec(select(LoginSession).where(LoginSession.user_name == name)):
                sess.closed = True
                s.add(sess)
            s.commit()

    @_retry_locked
    def set_role(self, name: str, role: str) -> User:
        name, role = check_name(name), check_role(role)
        self._require_admin()
        with Session(self.registry.engine) as s:
            self._lock_admins(s)
            user = self._existing(s, name)
            user.role, user.updated_at = role, now()
            s.add(user)
            s.flush()
            self._keep_an_admin(s, f"making {name} a {role}")
            s.commit()
            s.refresh(user)
            return user

    @_retry_locked
    def set_password(self, name: str, password: str) -> None:
        """Anyone's for an admin, one's own for anyone. A new password ends the user's open sessions (a stolen
        session does not outlive the change)."""
        name = check_name(name)
        if current(self.home).name != name:
            self._require_admin()
        pw_hash = _hasher.hash(_check_password(password))
        with Session(self.registry.engine) as s:
            user = self._existing(s, name)
            user.password_hash, user.failed_logins, user.locked_until, user.updated_at = pw_hash, 0, 0.0, now()
            s.add(user)
            for sess in s.exec(select(LoginSession).where(LoginSession.user_name == name)):
                sess.closed = True
                s.add(sess)
            s.commit()

    @_retry_locked
    def set_limits(self, name: str, max_gpus: int | None = None, max_queued: int | None = None) -> User:
        """Per-user queue limits; 0 clears one back to the home's default."""
        name = check_name(name)
        self._require_admin()
        for field, v in (("gpus", max_gpus), ("queued", max_queued)):
            if v is not None and v < 0:
                raise SSLPilotError(f"--{field} {v} is negative", field=field, fix="give 0 (default) or more")
        with Session(self.registry.engine) as s:
            user = self._existing(s, name)
            if max_gpus is not None:
                user.max_gpus = max_gpus or None
            if max_queued is not None:
                user.max_queued = max_queued or None
            user.updated_at = now()
            s.add(user)
            s.commit()
            s.refresh(user)
            return user

    @staticmethod
    def _existing(s: Session, name: str) -> User:
        user = s.get(User, name)
        if user is None:
            raise SSLPilotError(f"no user {name!r}", field="name", fix="see `sslpilot user ls`")
        return user

    @staticmethod
    def _lock_admins(s: Session) -> None:
        """Lock the admin rows (PostgreSQL: FOR UPDATE; SQLite locks the whole file on the first write), so two
        admins demoting each other at once cannot both see the other one still there."""
        list(s.exec(select(User).where(User.role == "admin").with_for_update()))

    @staticmethod
    def _keep_an_admin(s: Session, doing: str) -> None:
        users = s.exec(select(func.count()).select_from(User)).one()
        admins = s.exec(select(func.count()).select_from(User).where(User.role == "admin")).one()
        if users and not admins:
            s.rollback()
            raise SSLPilotError(f"{doing} would leave no admin", field="role",
                                fix="make someone else an admin first (`sslpilot user role NAME admin`)")

    # ---- signing in ---------------------------------------------------------------------------------
    @_retry_locked
    def verify(self, name: str, password: str) -> User:
        """The user when the password is right; otherwise one refusal that does not say which part was wrong."""
        canon = str(name).strip().lower()
        with Session(self.registry.engine) as s:
            user = s.get(User, canon) if NAME.match(canon) else None
            if user is not None and user.locked_until > now():
                wait = user.locked_until - now()
                raise AuthError(f"too many wrong passwords for {canon}; try again in {wait:.0f} s", field="password")
            try:
                _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
                ok = user is not None and user.password_hash is not None
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                if user is not None:
                    user.failed_logins += 1
                    if user.failed_logins >= FREE_TRIES:
                        user.locked_until = now() + min(2.0 ** (user.failed_logins - FREE_TRIES + 1), MAX_LOCK_S)
                    s.add(user)
                    s.commit()
                raise AuthError("wrong user name or password", field="password")
            rehash = _hasher.check_needs_rehash(user.password_hash)
            if user.failed_logins or rehash:
                user.failed_logins, user.locked_until = 0, 0.0
                if rehash:  # argon2's parameters were raised since: store the stronger hash
                    user.password_hash = _hasher.hash(password)
                s.add(user)
                s.commit()
                s.refresh(user)
            return user

    @_retry_locked
    def open_session(self, name: str, hours: float | None = None) -> str:
        """A new random token for a signed-in browser; it stops working after `hours` (SSLPILOT_SESSION_HOURS)."""
        hours = settings.get_float("SSLPILOT_SESSION_HOURS") if hours is None else hours
        token = secrets.token_urlsafe(32)
        with Session(self.registry.engine) as s:
            s.add(LoginSession(token_hash=_digest(token), user_name=check_name(name),
                               expires_at=now() + hours * 3600))
            s.commit()
        return token

    def session_user(self, token: str | None) -> User:
        """The user of a live session; an unknown (forged), closed (replayed after logout) or expired token is
        refused."""
        if not token:
            raise AuthError("not signed in", field="session")
        with Session(self.registry.engine) as s:
            sess = s.get(LoginSession, _digest(token))
            if sess is None or sess.closed:
                raise AuthError("this session is not valid; sign in again", field="session")
            if sess.expires_at <= now():
                raise AuthError("the session expired; sign in again", field="session")
            user = s.get(User, sess.user_name)
            if user is None:
                raise AuthError("the account of this session was removed", field="session")
            return user

    @_retry_locked
    def close_session(self, token: str | None) -> None:
        if not token:
            return
        with Session(self.registry.engine) as s:
            sess = s.get(LoginSession, _digest(token))
            if sess is not None:
                sess.closed = True
                s.add(sess)
                s.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_secret(home: Home) -> str:
    """The secret that signs Streamlit's login cookie (st.login): made once per home, readable by its owner only,
    never printed or logged."""
    path = home.root / "auth" / "cookie_secret"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    if not path.exists():
        write_private(path, secrets.token_hex(32))
    return path.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Create `path` readable and writable by its owner only (before the secret is in it)."""
    import os

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its mode on open: make it private too
    with os.fdopen(fd, "w") as f:
        f.write(text)

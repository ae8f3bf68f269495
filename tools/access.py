"""Who is acting, and whether they may: the one place roles are checked.

Roles: a viewer reads runs, diagnoses and knowledge; a member also launches, schedules, probes, imports and
ingests, and cancels or resumes their own runs; an admin does anything to anyone's runs, backends and users.

Every front end sets the actor for what it does and the tools check it, so the chat (offline or LLM
planner), the CLI and the UI are refused the same way:
- the UI signs a browser in (ui/auth.py) and runs each turn `with acting_as(actor)`;
- the CLI is the operating-system login: with no accounts in the home it is an admin, as before accounts
  existed; with accounts, it is the account of the same name (a viewer when there is none). On a shared home
  the database file is the boundary: whoever can write it can do anything, so the login there is a record of
  who did what, not a lock;
- the queue daemon acts as `SYSTEM` (retries, early stops, scheduled launches on behalf of their owner).
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from ssl_runtime.errors import SSLPilotError
from tools.home import Home
from tools.records import Conversation, Run, User

ROLES = ("viewer", "member", "admin")  # each may do what the ones before it may


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # viewer | member | admin
    how: str = "login"  # login (browser), oidc, os (the CLI's login), open (no accounts), system

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


SYSTEM = Actor("sslpilot", "admin", "system")
_actor: ContextVar[Actor | None] = ContextVar("sslpilot_actor", default=None)


class AccessDenied(SSLPilotError):
    """The actor's role does not allow the action; nothing was changed."""


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def os_login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"


def local_actor(home: Home) -> Actor:
    """The CLI's actor: the OS login, an admin while the home has no accounts (tools/accounts.py)."""
    from sqlmodel import Session, select

    from tools.registry import Registry

    login = os_login().lower()
    with Session(Registry(home).engine) as s:
        if s.exec(select(User.name).limit(1)).first() is None:
            return Actor(login, "admin", "open")
        user = s.get(User, login)
    return Actor(login, user.role if user else "viewer", "os")


def current(home: Home) -> Actor:
    """Whoever is acting now: the one a front end set, else this process's login."""
    return _actor.get() or local_actor(home)


def require(home: Home, role: str, doing: str) -> Actor:
    """The actor, when their role is at least `role`; else a refusal naming the role needed."""
    actor = current(home)
    if not actor.can(role):
        raise AccessDenied(f"{doing} needs the {role} role; {actor.name} is a {actor.role}", field="role",
                           fix=f"ask an admin: `sslpilot user role {actor.name} {role}`")
    return actor


def may_change(actor: Actor, owner: str | None) -> bool:
    """A member may change their own runs; an admin anyone's (runs from before accounts have no owner)."""
    return actor.role == "admin" or (actor.can("member") and owner == actor.name)


def require_owner(home: Home, run: Run, doing: str) -> Actor:
    """The actor, when they may change the run (may_change); else a refusal naming whose run it is."""
    actor = require(home, "member", doing)
    if not may_change(actor, run.owner):
        whose = f"{run.owner}'s" if run.owner else "an unowned"
        raise AccessDenied(f"run {run.id} is {whose} run; {doing} on it needs the admin role ({actor.name} is a "
                           f"{actor.role})", field="run_id", fix="ask its owner or an admin")
    return actor


def claim_thread(home: Home, thread_id: str, actor: Actor) -> None:
    """The first message makes a conversation its sender's; another user is refused it (admins too: a
    conversation is private). Conversations from before accounts (no row) belong to whoever speaks first."""
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session

    from tools.registry import Registry

    with Session(Registry(home).engine) as s:
        conv = s.get(Conversation, thread_id)
        if conv is None:
            s.add(Conversation(thread_id=thread_id, owner=actor.name))
            try:
                s.commit()
            except IntegrityError:  # two first messages at once: the row that won decides
                s.rollback()
                conv = s.get(Conversation, thread_id)
        if conv is not None and conv.owner != actor.name:
            raise AccessDenied(f"conversation {thread_id} belongs to another user", field="thread",
                               fix="start a new conversation")


def thread_owner(home: Home, thread_id: str) -> str | None:
    from sqlmodel import Session

    from tools.registry import Registry

    with Session(Registry(home).engine) as s:
        conv = s.get(Conversation, thread_id)
        return conv.owner if conv else None


def owner_of(events: list[dict]) -> str | None:
    """Who owns a run, from the last `owner` event of its folder's events (record_owner); None: no owner."""
    return next((e.get("user") for e in reversed(events) if e.get("type") == "owner"), None)


def record_owner(folder, actor: Actor) -> None:
    """Write who owns a run into its folder (the source of truth; the registry's `owner` column follows it)."""
    folder.event("owner", f"owned by {actor.name}", user=actor.name)

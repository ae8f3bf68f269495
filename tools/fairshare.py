"""Fair shares of a shared box: per-user limits and the order the queue starts runs in.

The order (what Slurm users expect of fair-share): among the users with runs waiting, the one who holds the
fewest devices right now goes first; among equals, the one who used the fewest device-hours recently (decayed
with a half-life, SSLPILOT_FAIRSHARE_HALF_LIFE_H, 7 days by default); then first come, first served. Within
one user's runs, their priority and then age decide. A run held back by its owner's own GPU limit does not
hold up anyone else's; a run that waits for devices holds up the runs after it (so a 4-GPU run is not starved
by a stream of 1-GPU runs). With one user (or none: a home without accounts) this is the old
priority-then-FIFO queue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from ssl_runtime import settings
from ssl_runtime.errors import SSLPilotError
from tools.gpus import Request, gpus_of
from tools.home import Home
from tools.records import Run, now


@dataclass(frozen=True)
class Limits:
    max_gpus: int | None  # None: no limit
    max_queued: int | None


def limits_of(home: Home, user: str | None, registry=None) -> Limits:
    """The user's own limits, else the home's defaults (SSLPILOT_USER_MAX_GPUS / _QUEUED; 0 = none)."""
    from tools.accounts import Accounts

    account = Accounts(home, registry).get(user) if user else None
    gpus = (account.max_gpus if account else None) or settings.get_int("SSLPILOT_USER_MAX_GPUS") or None
    queued = (account.max_queued if account else None) or settings.get_int("SSLPILOT_USER_MAX_QUEUED") or None
    return Limits(gpus, queued)


def check_user_limits(home: Home, user: str, gpus_asked: int = 0) -> None:
    """At enqueue: refuse a run that would pass the user's queued-runs limit or can never fit their GPU limit."""
    from tools.registry import Registry

    lim = limits_of(home, user)
    if lim.max_queued is not None:
        waiting = sum(1 for r in Registry(home).queued() if r.owner == user)
        if waiting >= lim.max_queued:
            raise SSLPilotError(f"{user} already has {waiting} run(s) waiting, the limit of {lim.max_queued}",
                                field="queue", fix="wait for one to start, or cancel one (`sslpilot runs --status "
                                "queued`); an admin can raise it: `sslpilot user limit NAME --queued N`")
    if lim.max_gpus is not None and gpus_asked > lim.max_gpus:
        raise SSLPilotError(f"the run asks for {gpus_asked} GPUs; {user}'s limit is {lim.max_gpus}",
                            field="train.num_gpus", fix=f"ask for at most {lim.max_gpus}, or ask an admin to raise it")


def devices_of(device: str | None) -> int:
    """Devices for the fair order: GPUs, or 1 for a CPU slot (so a CPU-only box is shared fairly too)."""
    return gpus_of(device) or (1 if device else 0)


def gpus_asked(run: Run, have_gpus: bool) -> int:
    req = Request.from_config(json.loads(run.config_json or "{}"))
    return 0 if req.wants_cpu or not have_gpus else req.num_gpus


def usage_since(at: float | None = None) -> float:
    """Older device time weighs under 0.4% (8 half-lives): the fair order does not read it."""
    return (now() if at is None else at) - 8 * settings.get_float("SSLPILOT_FAIRSHARE_HALF_LIFE_H") * 3600


def recent_usage(uses: Iterable[tuple], at: float | None = None, half_life_h: float | None = None) -> dict[str, float]:
    """Device-hours per owner from (owner, device, started_at, ended_at[, earlier_use_json]) rows
    (Registry.device_use), each hour weighted by 2^(-age / half-life): the integral of the decay over every interval
    a run held its devices, its spells before a resume included. A row without a device (rebuilt from its folder)
    counts the ended spells its status events record."""
    at = now() if at is None else at
    h = (half_life_h or settings.get_float("SSLPILOT_FAIRSHARE_HALF_LIFE_H")) * 3600
    out: dict[str, float] = {}
    for owner, device, started, ended, *earlier in uses:
        if started is None:
            continue
        ended_spells = [(a, b, gpus or 1) for a, b, gpus in json.loads((earlier or [None])[0] or "[]")]
        if device:  # the spell the row knows, up to now if it runs, and the ones before it (a resume reset started_at)
            spells = [(started, ended, devices_of(device))] + [sp for sp in ended_spells if sp[1] <= started]
        else:  # no assignment on the row (rebuilt from its folder, or sent back to the queue): its events' spells
            spells = ended_spells
        for spell_start, spell_end, devices in spells:
            end = min(spell_end or at, at)
            if end > spell_start:
                weight = h / math.log(2) * (2 ** (-(at - end) / h) - 2 ** (-(at - spell_start) / h)) / 3600
                out[owner or ""] = out.get(owner or "", 0.0) + devices * weight
    return out


@dataclass
class FairQueue:
    """One dispatch pass's view: who holds what, who used what, and each user's waiting runs in their order."""

    queued: list[Run]
    running: list[Run]
    usage: dict[str, float]

    def __post_init__(self) -> None:
        self.held: dict[str, int] = {}
        self.held_gpus: dict[str, int] = {}
        for r in self.running:
            self.held[r.owner or ""] = self.held.get(r.owner or "", 0) + devices_of(r.device)
            self.held_gpus[r.owner or ""] = self.held_gpus.get(r.owner or "", 0) + gpus_of(r.device)
        self.per_user: dict[str, list[Run]] = {}
        for r in sorted(self.queued, key=lambda r: (-r.priority, r.created_at)):
            self.per_user.setdefault(r.owner or "", []).append(r)

    def next(self) -> Run | None:
        """The head of the queue of the user whose turn it is."""
        heads = [(self.held.get(u, 0), self.usage.get(u, 0.0), rs[0].created_at, u)
                 for u, rs in self.per_user.items() if rs]
        if not heads:
            return None
        return self.per_user[min(heads)[3]][0]

    def started(self, run: Run, device: str | None) -> None:
        """`run` was given `device` (its assignment, e.g. "cuda:0,1"): its owner now holds that too."""
        u = run.owner or ""
        self.per_user[u].pop(0)
        self.held[u] = self.held.get(u, 0) + devices_of(device)
        self.held_gpus[u] = self.held_gpus.get(u, 0) + gpus_of(device)

    def held_back(self, run: Run) -> list[Run]:
        """A user passed over for their limit: all their waiting runs wait for the same reason."""
        return self.per_user.pop(run.owner or "", [])


def limit_reason(held: int, limit: int) -> str:
    return f"waiting: you already use {held} of your {limit} GPU{'s' if limit != 1 else ''}"


def reason_for(run: Run, viewer: str | None) -> str | None:
    """A queued run's wait reason as its owner reads it ("you already use ..."), or as anyone else does."""
    text = run.wait_reason
    if not text or viewer is None or viewer == run.owner or not run.owner:
        return text
    return text.replace("you already use", f"{run.owner} already uses").replace("your ", "their ")

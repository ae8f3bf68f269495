"""A run's device spells, read from its status events: each stretch from a `running` status to the next status that
is not `running`, with the devices it held. `tools/usage.py` sums them for the device time used; the registry keeps
the ended ones for the fair order (`Run.earlier_use_json`), since a resume resets the row's started_at."""

from __future__ import annotations

from dataclasses import dataclass

from tools.gpus import gpus_of


@dataclass
class Spell:
    start: float
    end: float
    gpus: int  # 0: a CPU slot


def spells_of(events: list[dict], until: float | None = None) -> list[Spell]:
    """The spells in these events; a spell still running ends at `until`, or is left out when `until` is None."""
    spells: list[Spell] = []
    start, gpus = None, 0
    for e in events:
        if e.get("type") != "status" or not isinstance(e.get("time"), (int, float)):
            continue  # a hand-edited or foreign event without a time cannot bound a spell
        if e.get("status") == "running":
            if start is None:
                start, gpus = e["time"], 0
            gpus = _gpus(e, gpus)
        elif start is not None:
            spells.append(Spell(start, e["time"], gpus))
            start = None
    if start is not None and until is not None:
        spells.append(Spell(start, max(start, until), gpus))
    return spells


def _gpus(event: dict, before: int) -> int:
    """The trainer's event says how many ranks ran on CUDA; the queue's says which GPUs it assigned."""
    device = str(event.get("device") or "")
    if "world_size" in event:
        return int(event["world_size"]) if device.startswith("cuda") else 0
    return gpus_of(device) or before

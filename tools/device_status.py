"""What this machine's devices hold now, as the queue sees them: each GPU (its name and memory, the runs on it, free
or not) and the CPU slots, with the runs still waiting. The answer to "which GPUs are free?", `sslpilot gpus` and
the Settings page: an `nvidia-smi` that knows which run holds which device.

The device list is the queue daemon's own (its heartbeat carries its inventory, read with its settings); with no
daemon up it is read here, with this process's settings. Free, busy and taken outside sslpilot are the allocator's
own reading (tools/gpus.Allocator.state, which decides where a run goes), over the workers tools/queue.Dispatcher.busy
counts.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from tools.gpus import Allocator, device_keys
from tools.home import Home
from tools.registry import Registry


def device_status(home: Home, allocator: Allocator | None = None) -> dict:
    reg = Registry(home)
    inventory, source = _inventory(reg, allocator)
    holders: dict[str, list[dict]] = {}
    for run in reg.with_workers():  # a finished run may still be probing on its device
        for key in device_keys(run.device):
            holders.setdefault(key, []).append({"run_id": run.id, "method": run.method, "owner": run.owner or "",
                                                "status": run.status})
    gpus = []
    for g in inventory.gpus:  # busy and free as the allocator decides them when it places a run
        runs = holders.get(str(g.index), [])
        gpus.append({**asdict(g), "runs": runs, "state": inventory.state(g, len(runs))})
    waiting = [r for r in reg.queued() if not r.backend]  # a cluster's queue, not this one, starts the others
    return {"gpus": gpus, "runs_per_gpu": inventory.runs_per_gpu, "cpu_slots": inventory.cpu_slots,
            "cpu_runs": holders.get("cpu", []), "queued": [r.id for r in waiting], "source": source}


def _inventory(reg: Registry, allocator: Allocator | None) -> tuple[Allocator, str]:
    """The running daemon's allocator (from the inventory its heartbeat carries) when it has beaten lately, else
    this process's."""
    if allocator is None and reg.scheduler_alive(within_s=30.0):
        state = reg.scheduler_state()
        slots = json.loads(state.slots_json or "{}") if state else {}
        if "gpus" in slots:
            return Allocator.from_inventory(slots), "queue daemon"
    return allocator or Allocator(), "this process"

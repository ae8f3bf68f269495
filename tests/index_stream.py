"""Run as `python -m torch.distributed.run --nproc_per_node N tests/index_stream.py CACHE OUT STEPS`: every
process builds its step batches from the dataset cache; process 0 writes the global stream (per step, the
ids and crop boxes of all processes in rank order) to OUT as JSON."""

import json
import sys

import torch
import torch.distributed as dist

from ssl_runtime.data.cache import DatasetCache
from ssl_runtime.data.loader import CropSpec, StepBatches
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.data.store import CachedStore


def main(cache_path: str, out: str, steps: int) -> None:
    distributed = int(__import__("os").environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    store = CachedStore(DatasetCache(cache_path))
    order = EpochOrder(len(store) - 8, 16, seed=3, rank=rank, world=world)
    batches = StepBatches(store, torch.arange(8, len(store)), order,
                          [CropSpec(24, (0.08, 1.0)), CropSpec(12, (0.05, 0.4))], seed=3)
    mine = [{"ids": b["ids"].tolist(), "corners": [c.tolist() for c in b["corners"]],
             "pixels": int(b["canvas"].sum())} for b in map(batches, range(steps))]
    gathered = [None] * world
    if distributed:
        dist.all_gather_object(gathered, mine)
        dist.destroy_process_group()
    else:
        gathered = [mine]
    if rank == 0:
        stream = [{"ids": sum((g[s]["ids"] for g in gathered), []),
                   "corners": [sum((g[s]["corners"][v] for g in gathered), []) for v in range(2)],
                   "pixels": sum(g[s]["pixels"] for g in gathered)} for s in range(steps)]
        with open(out, "w") as f:
            json.dump(stream, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))

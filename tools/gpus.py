"""GPU inventory and allocation: which devices a queued run may take now.

GPUs come from nvidia-smi (index, name, memory), else torch. `SSLPILOT_GPUS` restricts the set
(like CUDA_VISIBLE_DEVICES: "0,2"; "" for none). Each GPU runs one run at a time by default
(`SSLPILOT_RUNS_PER_GPU`), a GPU with less free memory than `SSLPILOT_MIN_FREE_MB` is treated as
taken by someone else, and with no GPU runs go to `SSLPILOT_CPU_SLOTS` CPU slots (default 1).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass

from ssl_runtime import settings
from ssl_runtime.errors import ConfigError


@dataclass(frozen=True)
class GPU:
    index: int
    name: str = "GPU"
    total_mb: int = 0
    free_mb: int = 0


def detect_gpus() -> list[GPU]:
    gpus = _nvidia_smi() or _torch_gpus()
    restrict = settings.get_if_set("SSLPILOT_GPUS")
    if restrict is not None:
        wanted = [int(x) for x in restrict.split(",") if x.strip()]
        known = {g.index: g for g in gpus}
        gpus = [known.get(i, GPU(i, "GPU (declared)")) for i in wanted]
    return gpus


def _nvidia_smi() -> list[GPU]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,name,memory.total,memory.free",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4 and parts[0].isdigit():
            gpus.append(GPU(int(parts[0]), parts[1], int(float(parts[2])), int(float(parts[3]))))
    return gpus


def _torch_gpus() -> list[GPU]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        out.append(GPU(i, torch.cuda.get_device_name(i), total // 2**20, free // 2**20))
    return out


def gpus_of(device: str | None) -> int:
    """GPUs an assignment holds ("cuda:0,1" -> 2); 0 on the CPU or a cluster."""
    return len(device_keys(device)) if device and device.startswith("cuda:") else 0


def device_keys(device: str | None) -> list[str]:
    """The allocator's keys for an assignment: "cuda:0,1" -> ["0", "1"], "cpu" -> ["cpu"]; none for a cluster job."""
    if not device or not (device == "cpu" or device.startswith("cuda:")):
        return []
    return ["cpu"] if device == "cpu" else device.removeprefix("cuda:").split(",")


@dataclass
class Request:
    """What a run needs: `num_gpus` devices, optionally specific ones ("cuda:1"), or the CPU."""

    num_gpus: int = 1
    device: str = "auto"

    @classmethod
    def from_config(cls, config: dict) -> Request:
        train = config.get("train", {})
        return cls(int(train.get("num_gpus", 1)), str(train.get("device", "auto")))

    @property
    def wants_cpu(self) -> bool:
        return self.device == "cpu"

    @property
    def pinned_gpu(self) -> int | None:
        if self.device.startswith("cuda:"):
            return int(self.device.split(":")[1])
        return None


class Allocator:
    def __init__(self, gpus: list[GPU] | None = None, cpu_slots: int | None = None, runs_per_gpu: int | None = None,
                 min_free_mb: int | None = None):
        self.gpus = detect_gpus() if gpus is None else gpus
        self.cpu_slots = cpu_slots if cpu_slots is not None else settings.get_int("SSLPILOT_CPU_SLOTS")
        self.runs_per_gpu = runs_per_gpu or settings.get_int("SSLPILOT_RUNS_PER_GPU")
        self.min_free_mb = min_free_mb if min_free_mb is not None else settings.get_int("SSLPILOT_MIN_FREE_MB")

    def check(self, req: Request) -> None:
        """Refuse at submit time what can never run here."""
        if req.wants_cpu:
            return
        n = len(self.gpus)
        if n == 0:
            if req.num_gpus > 1 or req.pinned_gpu is not None:
                raise ConfigError(f"the run asks for {'GPU ' + str(req.pinned_gpu) if req.pinned_gpu is not None else str(req.num_gpus) + ' GPUs'} "
                                  "but this machine has none", field="train.device" if req.pinned_gpu is not None
                                  else "train.num_gpus", fix="use train.device=cpu (or auto) and train.num_gpus=1")
            return
        if req.num_gpus > n:
            raise ConfigError(f"the run asks for {req.num_gpus} GPUs but this machine has {n}",
                              field="train.num_gpus", fix=f"use at most {n}")
        if req.pinned_gpu is not None and req.pinned_gpu not in {g.index for g in self.gpus}:
            raise ConfigError(f"there is no GPU {req.pinned_gpu} (GPUs: {[g.index for g in self.gpus]})",
                              field="train.device", fix="pick one of those or use auto")

    def assign(self, req: Request, busy: dict[str, int]) -> list[str] | None:
        """Devices for the run ("cpu" or GPU indices as strings), or None when it must wait.

        `busy` counts the runs currently on each device key ("cpu", "0", "1", ...).
        """
        if req.wants_cpu or not self.gpus:
            return ["cpu"] if busy.get("cpu", 0) < self.cpu_slots else None
        free = [str(g.index) for g in self.gpus if self.state(g, busy.get(str(g.index), 0)) == "free"]
        if req.pinned_gpu is not None:
            return [str(req.pinned_gpu)] if str(req.pinned_gpu) in free else None
        return free[: req.num_gpus] if len(free) >= req.num_gpus else None

    def state(self, gpu: GPU, held: int) -> str:
        """"free" while the GPU holds fewer than runs_per_gpu runs and has min_free_mb free; else "busy", or "taken
        outside sslpilot" when no run of ours holds it but its memory is in use (someone else's process)."""
        if held >= self.runs_per_gpu:
            return "busy"
        if self.min_free_mb and gpu.total_mb and gpu.free_mb < self.min_free_mb:
            return "busy" if held else "taken outside sslpilot"
        return "free"

    @classmethod
    def from_inventory(cls, inventory: dict) -> Allocator:
        """The allocator an inventory describes (the queue daemon's, from its heartbeat)."""
        return cls([GPU(**g) for g in inventory["gpus"]], inventory["cpu_slots"], inventory["runs_per_gpu"],
                   inventory.get("min_free_mb") or 0)

    def inventory(self) -> dict:
        return {"gpus": [asdict(g) for g in self.gpus], "cpu_slots": self.cpu_slots,
                "runs_per_gpu": self.runs_per_gpu, "min_free_mb": self.min_free_mb}

"""The training loop. It owns one run folder and writes everything about the run into it.

The hot path stays on the device: the dataset is resident (uint8), views are made in batched
kernels, and the only host syncs are at log, health and checkpoint steps. A non-finite loss is
tracked on the device and noticed at the next of those steps; the run then stops as `diverged`
with the last good checkpoint kept.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.backbones import load_hints, resolve_name
from ssl_runtime.catalogue import VISION_METHODS
from ssl_runtime.checkpoint import layout_of, load_weights, resume_checkpoint, save_checkpoint
from ssl_runtime.config import DEFAULT_BATCH_SIZE, RunConfig
from ssl_runtime.configure import load_run_config
from ssl_runtime.data.order import EpochOrder
from ssl_runtime.device import autocast, pick_device, resolve_precision, seed_everything
from ssl_runtime.disk_wait import when_space
from ssl_runtime.errors import DataError
from ssl_runtime.health import WeightDrift
from ssl_runtime.optim import build_optimizer, build_schedule
from ssl_runtime.run_folder import RunFolder, write_json_atomic
from ssl_runtime.schedule import warmup_of
from ssl_runtime.sinks import MetricSinks
from ssl_runtime.stop_rules import StopRules
from ssl_runtime.tasks import Task, build_task

ProgressFn = Callable[[dict], None]


class _StopFlag:
    """SIGTERM/SIGINT (a cancel), and SIGUSR1/SIGUSR2 (the preemption and time-limit warnings Slurm and
    submitit send), ask for a checkpoint and a clean stop at the next step boundary."""

    def __init__(self):
        self.requested: str | None = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
            try:
                signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. a test runner thread): no signals to catch
                pass

    def _handle(self, signum, frame) -> None:
        self.requested = signal.Signals(signum).name


def prepare(cfg: RunConfig, folder: RunFolder | None = None) -> Task:
    """Device, process group, seeds, then the task (data, method, views) for this config."""
    device = pick_device(cfg.train.device)
    dist_utils.init_from_env(device.type)
    if cfg.train.batch_size and cfg.train.batch_size % dist_utils.world_size():
        raise DataError(f"batch size {cfg.train.batch_size} does not split over {dist_utils.world_size()} processes",
                        field="train.batch_size")
    seed_everything(cfg.train.seed, cfg.train.deterministic)
    return build_task(cfg, folder, device, resolve_precision(cfg.train.precision, device))


def auto_checkpoint_every(total_steps: int, health_every: int) -> int:
    """About a tenth of the run, at most 500 steps, on a multiple of health_every: a kept checkpoint then has
    the health row of its own step without an extra health pass."""
    every = min(500, max(1, round(total_steps / 10)))
    return max(health_every, every // health_every * health_every)


def resolved_settings(cfg: RunConfig, p: Task, opt: torch.optim.Optimizer, peak_lr: float,
                      device: torch.device) -> dict:
    """The settings a config left to `auto` (or unset), as this run fixed them at its start: what "what learning
    rate did run 4 use?" must answer, where config.yaml says only `lr: null`. Read off what was built (the optimiser
    itself, its first parameter group being the decayed one), not worked out again beside it."""
    stats = p.stats()
    out = {"optim.lr": peak_lr, "optim.name": type(opt).__name__.lower(),
           "optim.weight_decay": opt.param_groups[0]["weight_decay"],
           "optim.warmup_steps": warmup_of(cfg.optim.warmup_steps, p.total_steps), "train.batch_size": p.batch_size,
           "train.steps": p.total_steps, "train.epochs": round(p.total_steps / p.steps_per_epoch, 3),
           "train.precision": p.precision, "train.device": str(device)}
    if "image_size" in stats:
        out["data.image_size"] = stats["image_size"]
        if cfg.method in VISION_METHODS:
            out["backbone.name"] = resolve_name(cfg.backbone, cfg.method, stats["image_size"])
    resolved_args = getattr(p.method, "resolved_args", None)  # the language models and CLIP are no SSLMethods
    return out | cfg.from_epochs | (resolved_args() if resolved_args else {})


def train(run_dir: str | Path, resume: bool = False, progress: ProgressFn | None = None) -> dict:
    """Train the run in `run_dir` (its config.yaml) to the end; returns summary.json's content."""
    t_enter = time.perf_counter()
    phases = {"process_start_s": round(time.time() - psutil.Process().create_time(), 3)}  # interpreter + imports
    folder = RunFolder(run_dir)
    cfg = load_run_config(folder.config)
    weights = folder.last_checkpoint if resume else cfg.train.init_from
    if weights:  # settings left to auto take the layout of the weights this run starts from
        layout = layout_of(Path(weights), cfg.method)
        cfg.method_args.update({k: v for k, v in layout.items() if cfg.method_args.get(k) is None})
    p = prepare(cfg, folder)
    phases.update({k: round(v, 3) for k, v in getattr(p, "phases", {}).items()})
    phases["prepare_s"] = round(time.perf_counter() - t_enter, 3)
    is_main = dist_utils.rank() == 0
    method, device = p.method, p.device
    opt, peak_lr = build_optimizer(method, cfg.optim, method.base_lr, method.weight_decay, p.batch_size)
    sched = build_schedule(opt, cfg.optim, p.total_steps)
    resolved = resolved_settings(cfg, p, opt, peak_lr, device)
    scaler = torch.amp.GradScaler(device.type) if p.precision == "fp16" else None
    start, trained_before = 0, 0.0
    if not resume and is_main and folder.read_metrics():
        folder.truncate_metrics(0)  # a fresh restart of a run that had started: its old rows are void
        folder.event("restart", "started again from step 0")
    if resume:
        start, trained_before, passed = resume_checkpoint(folder, method_name=cfg.method, model=method,
                                                          optimizer=opt, scheduler=sched, scaler=scaler,
                                                          map_location=device)
        if is_main:
            dropped = folder.truncate_metrics(start)
            over = f" ({'; '.join(passed)}; step_{start}.pt read instead)" if passed else ""
            folder.event("resume", f"resumed from step {start}{over}", step=start, dropped_metric_rows=dropped,
                         passed_over=passed)
    elif cfg.train.init_from:  # continued pretraining: another run's weights, this run's optimiser and schedule
        from_step, fresh = load_weights(Path(cfg.train.init_from), method_name=cfg.method, model=method,
                                        map_location=device)
        if is_main:
            restart = f"; started fresh (their shape changed): {', '.join(fresh)}" if fresh else ""
            folder.event("init_from", f"weights from {cfg.train.init_from} (its step {from_step}){restart}",
                         path=cfg.train.init_from, step=from_step, fresh=fresh)
    model = method
    distributed = dist_utils.is_distributed()
    if distributed:
        model = torch.nn.parallel.DistributedDataParallel(method, device_ids=[device.index] if device.type == "cuda"
                                                          else None)
    embedding_dim = p.embedding_dim
    batch_note = None
    if cfg.train.batch_size is None and p.batch_size < DEFAULT_BATCH_SIZE:
        batch_note = (f"batch size {p.batch_size} chosen to fit the {p.n_train} training items (the default "
                      f"{DEFAULT_BATCH_SIZE} would leave too few steps per epoch); set train.batch_size to choose yourself")
    order = EpochOrder(p.n_train, p.batch_size, cfg.train.seed, p.index_device or device)
    stop = _StopFlag()
    stop.install()
    spell_began = time.time()  # a cancel asked for after this ends the run `cancelled` (read once, on stopping)
    if is_main:
        folder.set_status("running", device=str(device), precision=p.precision, total_steps=p.total_steps,
                          world_size=dist_utils.world_size(), start_step=start, batch_size=p.batch_size,
                          embedding_dim=embedding_dim, health_samples=p.health_samples,
                          steps_per_epoch=p.steps_per_epoch, data=p.stats(),
                          resolved=resolved)
        if start == 0 and batch_note:
            folder.event("info", batch_note, kind="batch_size_auto", batch_size=p.batch_size, n_train=p.n_train)
    sinks = MetricSinks(folder, cfg.train.tensorboard, cfg.train.mlflow_uri, cfg.train.mlflow_experiment,
                        cfg.name or f"run {folder.run_id}", cfg.model_dump(mode="json"),
                        purge_step=start + 1 if start else None) if is_main else None
    batches = p.batches(order, start)  # a streaming task's loader workers start on the first batches now,
    # while the rest of the set-up below goes on
    if is_main:
        preprocess = p.preprocess()
        if preprocess:  # a kept checkpoint can be measured before the run exports its encoder
            try:
                folder.checkpoints.mkdir(parents=True, exist_ok=True)
                write_json_atomic(folder.checkpoint_preprocess, preprocess)
            except OSError as exc:  # full disk, read-only folder: training goes on; checkpoints wait for the export
                folder.event("warning", f"checkpoints/preprocess.json not written: {exc}", kind="checkpoint_failed")
        if start == 0:
            initial = p.initial_metrics()
            if initial:
                folder.log_metrics({"step": 0, "epoch": 0, **initial})
                sinks.log({"step": 0, **initial})
    params = method.trainable_parameters()
    # from the weights this process starts with: after a resume that is not the init, so it is not logged then
    drift = WeightDrift(params) if start == 0 and is_main else None
    first_bad = torch.full((), -1, dtype=torch.long, device=device)
    t_start = t_last = time.perf_counter()
    # the time limit counts what a resumed run trained before (kept in its checkpoint)
    deadline = t_start + 60 * cfg.train.max_minutes - trained_before if cfg.train.max_minutes else None
    last_logged_step, status, message = start, "succeeded", "finished"
    rules = StopRules(folder, cfg.monitor.stop_when, p.steps_per_epoch, p.total_steps, cfg.train.log_every,
                      cfg.train.health_every) if is_main else None
    stop_step, rule_hit, stopped_by = (rules.stop_step if rules else None), None, None
    last_good_ckpt = start
    method.train()

    def checkpoint(step: int) -> None:
        nonlocal last_good_ckpt
        if is_main:
            try:
                save_checkpoint(folder.last_checkpoint, method_name=cfg.method, step=step, model=method,
                                optimizer=opt, scheduler=sched, scaler=scaler, keep_copy=True,
                                keep_last=cfg.train.keep_checkpoints, every=checkpoint_every,
                                trained_s=trained_before + time.perf_counter() - t_start)
                last_good_ckpt = step
            except OSError as exc:  # full disk, read-only folder: keep training, keep the old checkpoint
                with contextlib.suppress(OSError):  # on a full disk even this line may not fit
                    folder.event("warning", f"checkpoint at step {step} not written: {exc}",
                                 kind="checkpoint_failed")

    checkpoint_every = cfg.train.checkpoint_every or auto_checkpoint_every(p.total_steps, cfg.train.health_every)
    step = start
    for step in range(start + 1, p.total_steps + 1):
        inputs = next(batches)
        if step == start + 1:  # the first step starts: its batch is in hand (a host clock; no device sync)
            phases["data_ready_s"] = round(time.perf_counter() - t_enter, 3)
        with autocast(device, p.precision):
            out = model(inputs, step - 1)
        loss = out["loss"]
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
        else:
            loss.backward()
        log_now = step % cfg.train.log_every == 0 or step == p.total_steps
        grad_norm = None
        if cfg.train.grad_clip is not None:
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.train.grad_clip)
        elif log_now:
            grad_norm = torch.nn.utils.get_total_norm([q.grad for q in params if q.grad is not None])
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        sched.step()
        method.after_step(step - 1)
        bad = ~torch.isfinite(loss.detach())
        first_bad = torch.where(bad & (first_bad < 0), step, first_bad)  # no host sync, no allocation per step

        health_now = step % cfg.train.health_every == 0 or step == 1 or step == p.total_steps
        if distributed:  # every rank must stop at the same step: the flags are OR-ed at logging steps only
            stopping = log_now and dist_utils.any_across_ranks(stop.requested is not None or rule_hit is not None,
                                                               device)
            if stopping and stop.requested is None and rule_hit is None:
                stop.requested = "a stop on another rank"
        else:
            stopping = stop.requested is not None
        if deadline is None or step >= p.total_steps:  # the time limit: a host clock, no device sync
            out_of_time = False
        elif distributed:  # the ranks agree at logging steps, like a stop
            out_of_time = log_now and dist_utils.any_across_ranks(time.perf_counter() >= deadline, device)
        else:
            out_of_time = time.perf_counter() >= deadline
        ckpt_now = step % checkpoint_every == 0 or stopping or out_of_time
        if not (log_now or health_now or ckpt_now or step == stop_step):
            continue
        # --- sync point: everything below may read device values ---
        bad_step, what = int(first_bad), "loss"
        if "first_step_s" not in phases:  # from entering train() to the end of the first step (its health included)
            phases["first_step_s"] = round(time.perf_counter() - t_enter, 3)
        if bad_step < 0 and not _all_finite(params):
            # the loss was finite but the update was not: never log or checkpoint these weights
            bad_step, what = step, "weights"
        if bad_step >= 0:
            status, message = "diverged", f"non-finite {what} (NaN or Inf) at step {bad_step}"
            if is_main:
                folder.event("error", message, kind="non_finite_loss", step=bad_step,
                             last_good_checkpoint=last_good_ckpt)
            break
        row: dict = {"step": step, "epoch": (step - 1) // p.steps_per_epoch}
        if log_now:
            now = time.perf_counter()
            terms = {k: dist_utils.mean_across_ranks(v.detach().float()) for k, v in out.items()}
            values = torch.stack([*terms.values(), grad_norm.float()]).tolist()
            row.update(zip(terms.keys(), values[:-1], strict=True))
            row.update(lr=sched.get_last_lr()[0], grad_norm=values[-1],
                       samples_per_s=(step - last_logged_step) * p.batch_size / max(now - t_last, 1e-9))
            t_last, last_logged_step = now, step
        if health_now and is_main:
            h = p.health()
            if drift is not None:
                h["health/weight_drift"] = drift.measure()
            row.update(zip(h.keys(), torch.stack([v.float() for v in h.values()]).tolist(), strict=True))
        if is_main and len(row) > 2:
            when_space(folder, f"the metrics of step {step}", folder.log_metrics, row)
            sinks.log(row)
            if progress:  # the worker prints it to stdout.log, on the same disk
                when_space(folder, "the run's log", progress, {**row, "total_steps": p.total_steps})
        if ckpt_now:
            checkpoint(step)
        if rules is not None and rule_hit is None:  # a stop rule, read at this logging step (a file's stamp)
            rules.refresh()
            stop_step = rules.stop_step
            clock = {"step": step, "epoch": step / p.steps_per_epoch,
                     "minutes": (trained_before + time.perf_counter() - t_start) / 60}
            rule_hit = rules.first_met(row, clock)
        if rule_hit is not None and (stopping or not distributed):  # the ranks stop together at a logging step
            rule, value = rule_hit
            message = f"stopped at step {step} of {p.total_steps}: {rules.describe(rule, value)} (stop rule {rule})"
            stopped_by = {"rule": str(rule), "value": value, "step": step}
            folder.event("stop_rule", message, **stopped_by)
            break
        if stopping:  # a cancel's SIGTERM ends it cancelled; any other signal (preemption, a kill) interrupted
            cancelled = folder.cancel_requested_since(spell_began)
            status = "cancelled" if cancelled else "interrupted"
            message = f"{'cancelled by request: ' if cancelled else ''}stopped by {stop.requested} at step {step}"
            break
        if out_of_time:
            message = (f"stopped at its time limit of {cfg.train.max_minutes:g} min at step {step} of "
                       f"{p.total_steps}")
            if is_main:
                folder.event("time_limit", message, step=step, max_minutes=cfg.train.max_minutes)
            break

    batches.close()  # stops loader workers early when the run ended before its last step
    wall = time.perf_counter() - t_start
    phases["training_s"] = round(wall, 3)
    t_export = time.perf_counter()
    if status == "succeeded" and is_main:
        if last_good_ckpt != step:
            checkpoint(step)
        when_space(folder, "the encoder", p.export, folder)  # the whole run's worth: wait for space
    phases["export_s"] = round(time.perf_counter() - t_export, 3)
    summary = {
        "run_id": folder.run_id, "status": status, "message": message, "method": cfg.method,
        "steps": step if status != "diverged" else last_good_ckpt, "total_steps": p.total_steps,
        "epochs": p.total_steps / p.steps_per_epoch, "wall_time_s": round(wall, 3),
        "samples_per_s": round((step - start) * p.batch_size / max(wall, 1e-9), 1), "batch_size": p.batch_size,
        "device": str(device), "precision": p.precision, "peak_lr": peak_lr,
        "embedding_dim": embedding_dim, "health_samples": p.health_samples,
        "data": p.stats(), "last_checkpoint_step": last_good_ckpt, "phases": phases,
        "resolved": resolved,
    }
    if batch_note:
        summary["batch_size_note"] = batch_note
    if stopped_by:
        summary["stopped_by"] = stopped_by
    if status == "succeeded" and is_main:
        summary["load"] = load_hints(folder.encoder)
    summary["best"], summary["final"] = _best_and_final(folder)
    if is_main:
        sinks.close(status)
        when_space(folder, "the run's summary", folder.write_summary, summary)
        folder.set_status(status, message)
    return summary


def _all_finite(params: list[torch.Tensor]) -> bool:
    return bool(torch.stack([torch.isfinite(q).all() for q in params]).all())


def _best_and_final(folder: RunFolder) -> tuple[dict, dict]:
    rows = folder.read_metrics()
    final: dict = {}
    for r in rows:
        final.update({k: v for k, v in r.items() if k not in ("step", "epoch")})
    losses = [r["loss"] for r in rows if isinstance(r.get("loss"), float)]
    best = {"loss": min(losses)} if losses else {}
    return best, final

"""`sslpilot serve | scheduled | gpus`: the queue daemon, scheduled launches and what holds each device."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command()
def serve(home: HomeOpt = None, tick: Annotated[float, typer.Option(help="seconds between queue passes")] = 1.0,
          monitor: Annotated[float | None, typer.Option(help="diagnose running runs every N seconds (0 = off; "
                                                        "default SSLPILOT_MONITOR_S, 30)")] = None,
          stop_collapsed: Annotated[bool, typer.Option(help="stop every run that collapses, diverges or stops "
                                                       "learning, as if it set monitor.on_failure=stop")]
          = False,
          detach: Annotated[bool, typer.Option("--detach", help="run in the background")] = False) -> None:
    """Run the scheduler daemon: the queue, the GPU allocator, scheduled launches, the optional monitor."""
    from tools.scheduler import Scheduler, spawn_daemon

    h = the_home()
    if detach:
        typer.echo(f"scheduler started (pid {spawn_daemon(h)}), log: {h.root / 'scheduler.log'}")
        return
    if monitor is None:
        from ssl_runtime import settings

        monitor = settings.get_float("SSLPILOT_MONITOR_S")
    sched = Scheduler(h, tick_s=tick, monitor_s=monitor, stop_collapsed=stop_collapsed, warm=True)
    typer.echo(f"scheduler for {h.root}: {sched.allocator.inventory()}", err=True)
    sched.serve()


@app.command()
def scheduled(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List scheduled launches."""
    from tools.scheduler import list_scheduled

    jobs = list_scheduled(the_home())
    emit({"jobs": jobs}, as_json, "\n".join(f"{j['job_id']}  {j['name']}  next {j['next_run_time']}  ({j['trigger']})"
                                             for j in jobs) or "no scheduled launches")


@app.command("gpus")
def gpus_cmd(gpu: Annotated[int | None, typer.Argument(help="one GPU's index")] = None, home: HomeOpt = None,
             as_json: JsonOpt = False) -> None:
    """Which GPUs are free, which runs hold the others, and what waits in the queue (the CPU slots with no GPU)."""
    from agent.answers import device_text
    from tools.device_status import device_status

    out = {**device_status(the_home()), "asked_gpu": gpu}
    emit(out, as_json, device_text(out))

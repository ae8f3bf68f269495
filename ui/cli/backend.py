"""`sslpilot backend add | ls | test`: cluster backends, where runs go besides this machine's queue."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command("add")
def backend_add(name: Annotated[str, typer.Argument(help="a name to launch with: --backend NAME")],
                kind: Annotated[str, typer.Option(help="slurm or ray")] = "slurm",
                partition: Annotated[str | None, typer.Option()] = None,
                account: Annotated[str | None, typer.Option()] = None,
                qos: Annotated[str | None, typer.Option()] = None,
                time_min: Annotated[int | None, typer.Option("--time-min", help="job time limit, minutes")] = None,
                constraint: Annotated[str | None, typer.Option()] = None,
                sbatch: Annotated[list[str] | None, typer.Option("--sbatch", help="extra sbatch option key=value")]
                = None,
                setup: Annotated[list[str] | None, typer.Option("--setup", help="shell line run before the worker")]
                = None,
                address: Annotated[str | None, typer.Option(help="Ray: the head's dashboard, http://HEAD:8265")] = None,
                max_failures: Annotated[int | None, typer.Option(help="Ray: resumes after lost nodes")] = None,
                cpus_per_proc: Annotated[float | None, typer.Option(help="Ray: CPUs reserved per rank")] = None,
                env: Annotated[list[str] | None, typer.Option("--env", help="Ray: KEY=VALUE for the job")] = None,
                python: Annotated[str | None, typer.Option(help="the Python with sslpilot on the nodes")] = None,
                home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add or replace a backend in <home>/backends.yaml (checked with `sslpilot backend test NAME`)."""
    from tools import backends

    extra = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in (sbatch or []))
    env_vars = dict(kv.split("=", 1) for kv in (env or []) if "=" in kv)
    spec = backends.add(the_home(), name, kind, partition=partition, account=account, qos=qos,
                        time_min=time_min, constraint=constraint, extra=extra or None, setup=setup or None,
                        address=address, max_failures=max_failures, cpus_per_proc=cpus_per_proc,
                        env=env_vars or None, python=python)
    emit({"name": name, **spec}, as_json, f"backend {name}: {spec}")


@app.command("ls")
def backend_ls(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The configured backends (local is always there)."""
    from tools import backends

    all_ = {"local": {"kind": "local"}, **backends.configured(the_home())}
    emit({"backends": all_}, as_json, "\n".join(f"{n}: {spec}" for n, spec in all_.items()))


@app.command("test")
def backend_test(name: Annotated[str, typer.Argument(help="backend name")], home: HomeOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Check a backend: Slurm's commands, partition and scheduler answer (nothing is submitted); Ray's address
    answers and every node sees the home (a short check job)."""
    from tools import backends

    backend = backends.get(the_home(), name)
    said = backend.check()
    emit({"name": name, "ok": True, "checks": said}, as_json, f"{name}: ok ({'; '.join(said)})")

"""`sslpilot diagnose | recommend | forecast | quality | rank`: why a run looks the way it does, what to try next,
whether longer training is worth it, whether an encoder is any good without labels, and which run or checkpoint
is best."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.answers import diagnosis_text, forecast_text, quality_text, ranking_text, recommendation_text
from ssl_runtime.catalogue import RANKED_ACROSS_TITLES
from ui.cli.common import HomeOpt, JsonOpt, echo_markdown, emit, the_home

app = typer.Typer()

RANK_HELP = ("Which run or checkpoint is best without labels: runs by view retrieval and cluster consistency of their "
             "encoders (a run still training: its newest kept checkpoint), checkpoints by view retrieval, LiDAR or "
             "RankMe where neither can be measured; runs of one method, or of "
             f"{RANKED_ACROSS_TITLES} together, each method's leader named.")


@app.command()
def diagnose(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Why a run looks the way it does: verdict, evidence from its own metrics, likely causes, citations."""
    from tools.diagnosis import diagnose_run

    d = diagnose_run(the_home(), run)
    if as_json:
        emit(d, True)
        return
    echo_markdown(diagnosis_text(d, next_step=f"For a concrete change: `sslpilot recommend {d['run_id']}`."))


@app.command()
def recommend(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None,
              launch: Annotated[bool, typer.Option("--launch", help="queue the follow-up run now")] = False,
              category: Annotated[str | None, typer.Option(help="only a data, model or retrieval change")] = None,
              avoid: Annotated[list[str] | None, typer.Option(help="a setting the change must leave alone, e.g. "
                                                              "optim.lr (repeatable)")] = None,
              as_json: JsonOpt = False) -> None:
    """What to try next: a data, model or retrieval change as a config diff (--launch queues it)."""
    from tools.diagnosis import recommend_run
    from tools.tool_table import RecommendArgs

    h = the_home()
    asked = RecommendArgs(run_id=run, category=category, avoid=avoid or [])  # a bad kind or key names the field
    rec = recommend_run(h, run, category=asked.category, avoid=tuple(asked.avoid))
    if launch:
        from tools.followup import launch_follow_up

        rec["follow_up"] = launch_follow_up(h, run, rec)
    if as_json:
        emit(rec, True)
        return
    text = recommendation_text(rec, launch_with=f"`sslpilot recommend {rec['run_id']} --launch`")
    if rec.get("follow_up"):
        text += f"\nFollow-up: {rec['follow_up']}"
    echo_markdown(text)


@app.command()
def forecast(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False,
             probe: Annotated[bool, typer.Option(help="forecast the linear probe of the run's kept checkpoints "
                                                      "(labelled data; each checkpoint probed once)")] = False) -> None:
    """Is more pretraining worth it? The run's quality metric forecast at 2x and 4x its steps, with an 80% band."""
    from tools.diagnosis import forecast_run

    f = forecast_run(the_home(), run, probe=probe)
    if as_json:
        emit(f, True)
        return
    echo_markdown(forecast_text(f))


@app.command()
def quality(run: Annotated[str, typer.Argument(help="run id")], home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Is the encoder any good? good or weak (a probe that decides), failing, usable (no failure found; no labels, or a
    probe too small to tell) or unknown, from the probe where labels exist, else LiDAR and the run's peers."""
    from tools.diagnosis import judge_run

    q = judge_run(the_home(), run)
    if as_json:
        emit(q, True)
        return
    echo_markdown(quality_text(q))


@app.command(help=RANK_HELP)
def rank(runs: Annotated[list[str] | None, typer.Argument(help="run ids (two or more)")] = None,
         sweep: Annotated[str | None, typer.Option("--sweep", help="every run of this sweep (experiment)")] = None,
         checkpoints: Annotated[str | None, typer.Option("--checkpoints", help="a run whose kept checkpoints to rank")]
         = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    from tools.ranking import rank_checkpoints, rank_runs

    h = the_home()
    r = rank_checkpoints(h, checkpoints) if checkpoints else rank_runs(h, runs, sweep=sweep)
    if as_json:
        emit(r, True)
        return
    echo_markdown(ranking_text(r))

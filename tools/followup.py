"""Follow-ups: the parent's config plus a recommended change, linked to the parent and the recommendation.

Retrieval changes (`eval.*` only) need no retraining: they re-run the probe of the same encoder.
"""

from __future__ import annotations

import json

from ssl_runtime.errors import SSLPilotError
from tools.diagnosis import follow_up_config
from tools.home import Home
from tools.registry import Registry, run_id_of


def launch_follow_up(home: Home, parent_ref: str, rec: dict) -> dict:
    from tools.runs import enqueue
    from tools.scheduler import start_scheduler_if_needed

    if not rec.get("launchable", True) or not rec.get("change"):
        raise SSLPilotError("this recommendation needs a change by hand before anything can be launched",
                            field="recommendation", fix=rec.get("rationale", ""))
    reg = Registry(home)
    parent = reg.get(run_id_of(parent_ref))
    change = rec["change"]
    if all(k.startswith("eval.") for k in change):
        from tools.runs import probe

        result = probe(home, parent.id, eval_overrides={k.removeprefix("eval."): v for k, v in change.items()})
        return {"kind": "re-probe", "run_id": parent.id, "probe/acc": result["probe/acc"], "knn/acc": result["knn/acc"],
                "knn/recall@5": result["knn/recall@5"], "eval": result["eval"]}
    tree = follow_up_config(json.loads(parent.config_json), change)
    run = enqueue(home, tree, parent_id=parent.id, recommendation=rec, tags=["follow-up"])
    start_scheduler_if_needed(home)
    return {"kind": "run", "run_id": run.id, "status": run.status, "parent_id": parent.id}

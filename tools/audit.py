"""`sslpilot audit CHECKPOINT... --data IMAGES`: measure encoders trained anywhere, as a registry run.

Each checkpoint is loaded (ssl_runtime/encoders.py), embeds the held-out split of IMAGES, and gets the health
metrics (spread, RankMe, uniformity, alpha-ReQ, and LiDAR over augmented views), kNN and a linear probe
(ssl_runtime/audit.py). Several checkpoints of one run give a trajectory, one metrics row each, in step order. The
last gets the random-init baseline. The result is an ordinary run (source `audit`), which the diagnosis and the
agent read like any other.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ssl_runtime.catalogue import BUILTIN_DATASETS, check_method
from ssl_runtime.errors import DataError, SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home
from tools.records import Run
from tools.registry import Registry


def audit(home: Home, checkpoints: list[str], data: str, *, arch: str | None = None, method: str | None = None,
          name: str | None = None, image_size: int | None = None, allow_pickle: bool = False,
          max_images: int = 2000, device: str = "cpu") -> Run:
    import torch

    from ssl_runtime.audit import measure
    from ssl_runtime.config import DataConfig
    from ssl_runtime.data import capped, eval_images, open_store, split_ids
    from ssl_runtime.device import pick_device
    from ssl_runtime.encoders import load_encoder
    from tools.access import current, record_owner, require

    require(home, "member", "auditing checkpoints")
    if not checkpoints:
        raise SSLPilotError("no checkpoint given", field="checkpoint", fix="sslpilot audit CKPT... --data IMAGES")
    if method is not None:
        check_method(method)
    encoders = [(str(Path(c).expanduser()), load_encoder(c, arch, allow_pickle)) for c in checkpoints]
    size = image_size or encoders[0][1].image_size or 224
    builtin = data in BUILTIN_DATASETS
    data_cfg = DataConfig(name=data) if builtin else DataConfig(path=str(Path(data).expanduser()))
    if not builtin and not Path(data).expanduser().exists():
        raise DataError(f"{data!r} does not exist", field="data", fix="give a folder of held-out images")
    store = open_store(data_cfg, size, run_dir=home.runs)
    train_ids, val_ids = split_ids(store, data_cfg, seed=0)
    share = len(train_ids) / (len(train_ids) + len(val_ids))
    train_ids = capped(train_ids, round(max_images * share), 0)
    val_ids = capped(val_ids, max_images - len(train_ids), 1)
    ids = torch.cat([train_ids, val_ids])
    images = eval_images(store, ids, size)
    labels = store.labels[ids] if store.labels is not None else None
    rows = torch.arange(len(ids))
    train_rows, val_rows = rows[: len(train_ids)], rows[len(train_ids):]
    dev = pick_device(device)

    order = sorted(range(len(encoders)), key=lambda i: (encoders[i][1].step is None, encoders[i][1].step or 0, i))
    results = []
    for n, i in enumerate(order):
        path, enc = encoders[i]
        scores = measure(enc, images, labels, train_rows, val_rows, dev, 512, baseline=n == len(order) - 1)
        step = enc.step if enc.step is not None else n
        results.append((path, enc, step, scores))

    from tools.runs import new_folder_path

    folder = RunFolder(new_folder_path(home)).create()
    last_path, last_enc, last_step, last = results[-1]
    config = {"name": name or f"audit of {Path(last_path).name}", "method": method or "",
              "data": {"name": data} if builtin else {"path": str(Path(data).expanduser().resolve())},
              "audit": {"checkpoints": [r[0] for r in results], "arch": last_enc.arch, "image_size": size}}
    try:
        folder.config.write_text(yaml.safe_dump(config, sort_keys=False))
        folder.event("audit", f"audited {len(results)} checkpoint(s): {last_enc.arch}", format="audit",
                     checkpoints=[r[0] for r in results], arch=last_enc.arch)
        record_owner(folder, current(home))
        for _, _, step, scores in results:
            folder.log_metrics({"step": step, **{k: v for k, v in scores.items()
                                                 if isinstance(v, float) and "/" in k}})
        if labels is not None:
            from ssl_runtime.run_folder import write_json_atomic

            write_json_atomic(folder.probe, {"run_id": folder.run_id, "checkpoint": last_path,
                                             "num_train": len(train_rows), "num_val": len(val_rows),
                                             "feature_dim": last["embedding_dim"],
                                             **{k: v for k, v in last.items() if k.startswith(("probe/", "knn/"))},
                                             "baseline": last.get("baseline", {})})
        else:
            folder.event("info", "the images have no labels: kNN and the linear probe were skipped (use class "
                         "subfolders to get them); the health metrics need none", kind="no_labels")
        folder.set_status("succeeded", f"audited {len(results)} checkpoint(s)")
        folder.write_summary({"status": "succeeded", "source": "audit", "method": method or "",
                              "embedding_dim": last["embedding_dim"], "health_samples": last["health_samples"],
                              "total_steps": last_step, "audit": config["audit"]})
        run = Registry(home).register_folder(folder, tags=["audit"], notes=f"audit of {len(results)} checkpoint(s)")
    except BaseException:
        import shutil

        shutil.rmtree(folder.path, ignore_errors=True)
        raise
    from tools.diagnosis import diagnose_on_arrival

    return diagnose_on_arrival(home, [run])[0]

"""Read-only views of runs for dashboards: tables, metric series, embeddings, log tails, config diffs.

The UI reads these; nothing here launches, cancels or writes anything but the registry's index.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ssl_runtime.catalogue import TEXT_METHODS
from ssl_runtime.config import flatten_dotted as flatten  # noqa: F401 - ui.cards imports it here
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from tools.home import Home
from tools.registry import Registry, run_id_of


def metric_rows(home: Home, run_id: str) -> list[dict]:
    """The full metric series of a run, from its folder (the source of truth)."""
    run = Registry(home).get(run_id_of(run_id))
    return RunFolder(run.run_dir).read_metrics()


def log_tail(home: Home, run_id: str, lines: int = 40) -> str:
    """The run's last output lines, as the chat shows them (tools/run_settings.run_output)."""
    from tools.run_settings import run_output

    run = Registry(home).get(run_id_of(run_id))
    return "\n".join(run_output({"run_dir": run.run_dir}, lines)["lines"])


def kept_checkpoint_steps(home: Home, run_id: str) -> list[int]:
    """The steps of a run's kept checkpoints (train.keep_checkpoints), oldest first: what a checkpoint ranking
    would choose between."""
    run = Registry(home).get(run_id_of(run_id))
    return [step for step, _ in RunFolder(run.run_dir).kept_checkpoints()]


def config_diff(configs: dict[str, dict]) -> dict[str, dict]:
    """Dotted keys whose values differ between runs: {key: {run_id: value}}."""
    flat = {rid: flatten(c) for rid, c in configs.items()}
    keys = sorted({k for c in flat.values() for k in c})
    return {k: {rid: c.get(k) for rid, c in flat.items()} for k in keys
            if len({json.dumps(c.get(k), sort_keys=True) for c in flat.values()}) > 1}


def sweep_grid(home: Home, name: str) -> tuple[str, dict[str, list], dict]:
    """A sweep as it was launched: its first run (the base a repeat starts from), the values it varied
    ({key: values, in the order its runs first used them}) and that first run's config, flattened."""
    runs = Registry(home).sweep(name, "like_sweep")
    configs = {r.id: json.loads(r.config_json or "{}") for r in runs}
    varied = {k: list(dict.fromkeys(v[r.id] for r in runs)) for k, v in config_diff(configs).items() if k != "name"}
    return runs[0].id, varied, flatten(configs[runs[0].id])


def embedding_view(home: Home, run_id: str, max_points: int = 600) -> dict:
    """Held-out embeddings of a finished run: singular-value spectrum and a 2-D PCA with labels.

    Uses the exported encoder and the run's own validation split, like the probe does: images for vision
    runs, the image tower for clip, mean-pooled sentence embeddings of the labelled texts (or the corpus)
    for mlm/clm.
    """
    import torch
    from sklearn.decomposition import PCA

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import measured_sample
    from ssl_runtime.data.images import split_indices
    from ssl_runtime.health import singular_spectrum

    run = Registry(home).get(run_id_of(run_id))
    folder = RunFolder(run.run_dir)
    if not (folder.encoder / "preprocess.json").exists():
        raise SSLPilotError(f"run {run.id} has no exported encoder yet", field="run",
                            fix="wait until it succeeds; the view uses the final encoder")
    cfg = load_run_config(folder.config)
    cpu = torch.device("cpu")
    if cfg.method in TEXT_METHODS:
        from itertools import islice

        from ssl_runtime.data.text import TextSource, labelled_texts
        from ssl_runtime.probe_text import text_features

        labelled = labelled_texts(cfg.data)
        texts, labels, names = labelled if labelled else (list(islice(TextSource(cfg.data).documents(), 2000)),
                                                          None, [])
        _, val_idx = split_indices(len(texts), cfg.data.val_fraction, cfg.train.seed)
        idx = measured_sample(val_idx if len(val_idx) else torch.arange(len(texts)), max_points, cfg.train.seed).tolist()
        feats = text_features(folder.encoder, [texts[i] for i in idx], cpu,
                              max_length=cfg.method_args.get("block_size", 128))
        labels = [labels[i] for i in idx] if labels else None
    else:
        from ssl_runtime.probe import extract_features, load_encoder

        if cfg.method == "clip":
            from ssl_runtime.data import default_image_size
            from ssl_runtime.data.captions import load_caption_pairs

            data, encoder_dir = load_caption_pairs(cfg.data, default_image_size(cfg.data)).images, folder.encoder / "image"
            _, val_idx = split_indices(len(data), cfg.data.val_fraction, cfg.train.seed)
            idx = measured_sample(val_idx if len(val_idx) else torch.arange(len(data)), max_points, cfg.train.seed)
            images, all_labels, names = data.images[idx], data.labels, data.class_names
        else:
            from ssl_runtime.data import eval_images, open_store, split_ids

            encoder_dir = folder.encoder
            size = json.loads((encoder_dir / "preprocess.json").read_text())["image_size"]
            store = open_store(cfg.data, size, run_dir=folder.path)  # the dataset cache the run trained on
            train_ids, val_ids = split_ids(store, cfg.data, cfg.train.seed)
            idx = measured_sample(val_ids if len(val_ids) else train_ids, max_points, cfg.train.seed)  # every class
            images, all_labels, names = eval_images(store, idx, size), store.labels, store.class_names
        encoder, pre = load_encoder(encoder_dir, pooling=cfg.eval.pooling)
        with torch.no_grad():
            feats = extract_features(encoder, images, pre, cpu)
        labels = all_labels[idx].tolist() if all_labels is not None else None
    z = torch.nn.functional.normalize(feats.float(), dim=1)
    spectrum = singular_spectrum(z)
    xy = PCA(n_components=2, random_state=0).fit_transform(z.numpy()) if len(z) >= 2 else z[:, :2].numpy()
    if labels is not None and names:
        labels = [names[i] if 0 <= i < len(names) else str(i) for i in labels]
    return {"run_id": run.id, "dim": int(feats.shape[1]), "n": int(len(z)),
            "singular_values": [float(s) for s in spectrum],
            "pca": [[float(a), float(b)] for a, b in xy], "labels": labels}


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def encoder_stamp(home: Home, run_id: str) -> float:
    """Changes when a run's encoder is re-exported (a cache key for embedding views)."""
    return _mtime(RunFolder(Registry(home).get(run_id_of(run_id)).run_dir).encoder / "preprocess.json")


def metrics_stamp(home: Home, run_id: str) -> float:
    """Changes when a run logs new rows (a cache key for its forecast, a second's work of refits)."""
    return _mtime(RunFolder(Registry(home).get(run_id_of(run_id)).run_dir).metrics)


def probe_lead(probes: dict[str, dict]) -> dict | None:
    """Which of several runs' linear probes leads, by how much, and whether that is more than the probe can resolve:
    the standard error of the leader's lead over the runner-up, paired where both probes scored the same rows (their
    per-row records: ssl_runtime/probe.row_record), else unpaired from the two accuracies and their row counts. None
    with fewer than two probes."""
    from ssl_runtime.probe import paired_se, rows_correct

    scored = {rid: p for rid, p in probes.items() if isinstance(p.get("probe/acc"), float | int) and p.get("num_val")}
    if len(scored) < 2:
        return None
    best, second = sorted(scored, key=lambda rid: -scored[rid]["probe/acc"])[:2]
    a, b = scored[best], scored[second]
    ra, rb = a.get("probe/rows") or {}, b.get("probe/rows") or {}
    paired = bool(ra) and ra.get("id") == rb.get("id")
    if paired:
        se = paired_se(rows_correct(ra), rows_correct(rb))
    else:
        pa, pb = a["probe/acc"], b["probe/acc"]
        se = math.sqrt(pa * (1 - pa) / a["num_val"] + pb * (1 - pb) / b["num_val"])
    lead = a["probe/acc"] - b["probe/acc"]
    return {"best": best, "second": second, "best_acc": a["probe/acc"], "second_acc": b["probe/acc"], "lead": lead,
            "se": se, "paired": paired, "rows": a["num_val"], "resolved": lead > 2 * se,
            "sampled": any((p.get("sample") or {}).get("images", 0) < (p.get("sample") or {}).get("available", 0)
                           for p in (a, b))}

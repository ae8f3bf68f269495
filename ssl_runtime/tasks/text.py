"""Text (mlm, clm): a tokenizer trained on the corpus or loaded with the model, the corpus streamed once
into packed fixed-length blocks on disk (run folder's data/), blocks read by index each step.

Health on fixed held-out blocks: mean-pooled sentence embeddings (health/std, health/rank,
health/uniformity) and the held-out loss and perplexity (val/loss, val/perplexity). For mlm the held-out
masking is drawn once with a fixed seed, so the numbers are comparable across steps and runs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.config import RunConfig
from ssl_runtime.data import measured_sample
from ssl_runtime.data.images import split_indices
from ssl_runtime.data.text import TextSource
from ssl_runtime.device import to_device
from ssl_runtime.health import eval_mode, rankme, std_of_l2_normalized, uniformity
from ssl_runtime.methods import method_class
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.tasks.base import Task, plan_steps
from ssl_runtime.text import TokenBlocks, build_lm, load_tokenizer, pack_blocks, train_tokenizer

CONTINUED_LR = 5e-5  # per 256 blocks: continued pretraining moves a trained model gently (BERT/GPT-2 fine-tuning)


class TextTask(Task):
    index_device = torch.device("cpu")  # blocks live on disk; indices address the memory map

    def __init__(self, cfg: RunConfig, folder: RunFolder | None, device: torch.device, precision: str):
        self.cfg, self.device, self.precision = cfg, device, precision
        args = method_class(cfg.method).Args.model_validate(cfg.method_args)
        self.args = args
        # without a run folder (a task built to measure, not to train) the tokenizer and blocks go to a scratch folder
        # that goes with the task (it leaked one per task before)
        self._scratch = tempfile.TemporaryDirectory(prefix="sslpilot-text-") if folder is None else None
        work = folder.path / "data" if folder is not None else Path(self._scratch.name)
        source = TextSource(cfg.data)
        pretrained = cfg.backbone.pretrained
        tokens = work / "tokens.bin"
        if dist_utils.rank() == 0:  # one process trains the tokenizer and packs the corpus; the others read them
            kind = "wordpiece" if cfg.method == "mlm" else "bpe"
            self.tokenizer = self._tokenizer(source, work, pretrained, kind, args.vocab_size)
            if not (tokens.exists() and tokens.with_suffix(".json").exists()):
                pack_blocks(source.documents(), self.tokenizer, args.block_size, tokens,
                            add_special=cfg.method == "mlm")
            if folder is not None and source.skipped:
                folder.event("warning", f"skipped {len(source.skipped)} text files or lines", kind="skipped_text",
                             count=len(source.skipped), files=source.skipped[:20])
        dist_utils.barrier()
        if dist_utils.rank() != 0:
            self.tokenizer = load_tokenizer(pretrained or work / "tokenizer")
        if cfg.method == "mlm" and self.tokenizer.mask_token is None:
            from ssl_runtime.errors import ConfigError

            raise ConfigError("the tokenizer has no mask token, so it cannot do masked-LM", field="backbone.pretrained",
                              fix="use an encoder's tokenizer (BERT-style) for mlm, or method clm")
        self.blocks = TokenBlocks(tokens, self.tokenizer)
        self.meta = json.loads(tokens.with_suffix(".json").read_text())
        train_idx, val_idx = split_indices(len(self.blocks), cfg.data.val_fraction, cfg.train.seed)
        if len(val_idx) == 0:
            val_idx = train_idx[: max(1, len(train_idx) // 10)]
        self.train_idx = train_idx
        self.n_train = len(train_idx)
        self.batch_size, self.total_steps, self.steps_per_epoch = plan_steps(cfg, self.n_train, "training blocks")
        model = build_lm(cfg.method, self.tokenizer, args.block_size, args.hidden_size, args.num_layers,
                         args.num_heads, pretrained, args.dropout)
        self.method = method_class(cfg.method)(model, args).to(device)
        if pretrained:
            self.method.base_lr = CONTINUED_LR
        if cfg.train.compile:
            self.method.model.compile()
        self.collator = None
        if cfg.method == "mlm":
            from transformers import DataCollatorForLanguageModeling

            self.collator = DataCollatorForLanguageModeling(self.tokenizer, mlm=True,
                                                            mlm_probability=args.mlm_probability)
        self.special_ids = torch.tensor(sorted(set(self.tokenizer.all_special_ids)))
        held_out = self.blocks.get(measured_sample(val_idx, cfg.train.health_samples, cfg.train.seed))
        self.health_inputs, self.health_labels = self._inputs(held_out, seed=12345)
        self.health_inputs, self.health_labels = self.health_inputs.to(device), self.health_labels.to(device)
        self.health_clean = held_out.to(device)
        self.health_samples = len(held_out)
        self.embedding_dim = int(model.config.hidden_size if hasattr(model.config, "hidden_size")
                                 else model.config.n_embd)

    @staticmethod
    def _tokenizer(source: TextSource, work: Path, pretrained: str | None, kind: str, vocab_size: int):
        """The pretrained model's own tokenizer; else the run's saved one (resume); else one trained now."""
        if pretrained:
            return load_tokenizer(pretrained)
        if (work / "tokenizer" / "tokenizer.json").exists():
            return load_tokenizer(work / "tokenizer")
        tokenizer = train_tokenizer(source.documents, kind, vocab_size)
        tokenizer.save_pretrained(work / "tokenizer")
        return tokenizer

    def _inputs(self, ids: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, labels): mlm masks with transformers' collator (80/10/10), clm predicts the inputs."""
        if self.collator is None:
            return ids, ids.clone()
        self.collator.generator = torch.Generator().manual_seed(seed)
        special = torch.isin(ids, self.special_ids)
        return self.collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special)

    def batch(self, idx: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        ids = self.blocks.get(self.train_idx[idx])
        inputs, labels = self._inputs(ids, seed=self.cfg.train.seed * 1_000_003 + step)  # resumable masking
        return {"input_ids": to_device(inputs, self.device), "labels": to_device(labels, self.device)}

    @torch.no_grad()
    def health(self) -> dict[str, torch.Tensor]:
        m = self.method
        with eval_mode(m):
            losses, embeds = [], []
            for start in range(0, self.health_samples, 64):
                sl = slice(start, start + 64)
                out = m.model(input_ids=self.health_inputs[sl], labels=self.health_labels[sl],
                              output_hidden_states=True)
                losses.append(out.loss.float() * (self.health_labels[sl] != -100).sum())
                embeds.append(m.project(self.health_clean[sl]).float())
            z = torch.cat(embeds)
            loss = torch.stack(losses).sum() / (self.health_labels != -100).sum().clamp_min(1)
        return {"health/std": std_of_l2_normalized(z), "health/rank": rankme(z), "health/uniformity": uniformity(z),
                "val/loss": loss, "val/perplexity": loss.exp()}

    def initial_metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.health().items()}

    def export(self, folder: RunFolder) -> None:
        out = folder.encoder
        out.mkdir(parents=True, exist_ok=True)
        self.method.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        (out / "preprocess.json").write_text(json.dumps({"method": self.cfg.method, "modality": "text",
                                                         "block_size": self.args.block_size}, indent=1))

    def stats(self) -> dict:
        return {"source": self.cfg.data.path or self.cfg.data.name, "tokens": self.meta["tokens"],
                "blocks": self.meta["blocks"], "block_size": self.meta["block_size"],
                "vocab_size": len(self.tokenizer)}

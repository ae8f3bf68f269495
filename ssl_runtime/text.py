"""Tokenizers and language models for mlm/clm/clip, and packing a corpus into fixed-length blocks.

From scratch: a tokenizer trained on the corpus with the `tokenizers` library (WordPiece for encoders,
byte-level BPE for decoders) and a small BERT/GPT-2 from config. Continued pretraining: model and
tokenizer from `backbone.pretrained` with from_pretrained (a local path, or a hub id when online).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from ssl_runtime.errors import ConfigError, DataError

SPECIAL_BERT = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(docs: Callable[[], Iterable[str]], kind: str, vocab_size: int):
    """A fast tokenizer trained on the corpus (`docs()` streams it; it is read twice): kind 'wordpiece'
    (BERT-style, for encoders) or 'bpe' (GPT-2 byte-level, for decoders). Same corpus, same tokenizer.

    WordPiece: `tokenizers`' WordPieceTrainer learns its vocabulary with BPE statistics but breaks frequency
    ties in hash order, so two trainings on one corpus differ. We run the same BPE statistics with a sorted
    alphabet (deterministic) and give each learned piece its word-initial and '##' continuation form.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "wordpiece":
        normalizer = normalizers.BertNormalizer(lowercase=True)
        alphabet = sorted({c for d in docs() for c in normalizer.normalize_str(d) if not c.isspace()})
        bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
        bpe.normalizer, bpe.pre_tokenizer = normalizer, pre_tokenizers.BertPreTokenizer()
        bpe.train_from_iterator(docs(), trainer=trainers.BpeTrainer(
            vocab_size=max(len(alphabet) + 1, (vocab_size - len(SPECIAL_BERT)) // 2), special_tokens=[],
            initial_alphabet=alphabet, show_progress=False))
        pieces = [t for t, _ in sorted(bpe.get_vocab().items(), key=lambda kv: kv[1])]
        vocab = {t: i for i, t in enumerate(SPECIAL_BERT + pieces + ["##" + t for t in pieces])}
        tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
        return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                       cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs(), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token="<|endoftext|>", pad_token="<|endoftext|>")


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load a tokenizer from {str(path)!r}: {str(exc).splitlines()[0]}",
                          field="backbone.pretrained", fix="give a folder saved with save_pretrained") from None


def build_lm(kind: str, tokenizer, block_size: int, hidden: int, layers: int, heads: int,
             pretrained: str | None = None, dropout: float = 0.1):
    """kind: 'mlm' (BERT with an MLM head), 'clm' (GPT-2 with an LM head) or 'encoder' (plain BERT)."""
    from transformers import (
        AutoModel,
        AutoModelForCausalLM,
        AutoModelForMaskedLM,
        BertConfig,
        BertForMaskedLM,
        BertModel,
        GPT2Config,
        GPT2LMHeadModel,
    )

    if pretrained:
        auto = {"mlm": AutoModelForMaskedLM, "clm": AutoModelForCausalLM, "encoder": AutoModel}[kind]
        try:
            model = auto.from_pretrained(str(pretrained))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load {str(pretrained)!r} as a {kind} model: {str(exc).splitlines()[0]}",
                              field="backbone.pretrained") from None
        n_embed = model.get_input_embeddings().num_embeddings
        if len(tokenizer) > n_embed:
            raise ConfigError(f"the tokenizer has {len(tokenizer)} tokens but the model only {n_embed} embeddings",
                              field="backbone.pretrained",
                              fix="use the tokenizer saved with that model (same folder or hub id)")
        return model
    if hidden % heads:
        raise ConfigError(f"hidden_size {hidden} is not divisible by num_heads {heads}", field="method_args.num_heads")
    if kind == "clm":
        return GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=block_size, n_embd=hidden,
                                          n_layer=layers, n_head=heads, bos_token_id=tokenizer.bos_token_id,
                                          eos_token_id=tokenizer.eos_token_id, resid_pdrop=dropout,
                                          embd_pdrop=dropout, attn_pdrop=dropout))
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=4 * hidden, max_position_embeddings=block_size,
                        pad_token_id=tokenizer.pad_token_id, hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout)
    return BertForMaskedLM(config) if kind == "mlm" else BertModel(config, add_pooling_layer=False)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Sentence embedding: the mean of token states over real (non-padding) tokens."""
    if attention_mask is None:
        return hidden.mean(1)
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0)


def pack_blocks(docs: Iterator[str], tokenizer, block_size: int, out: Path, add_special: bool) -> int:
    """Tokenise documents one by one and append them, separated, to a flat token file (int32), the way
    GPT-2 and BERT pretraining pack text: no padding, no document left out. Returns the number of blocks.

    For encoders each block is [CLS] ... [SEP] around block_size - 2 tokens of running text.
    """
    sep = tokenizer.sep_token_id if add_special else tokenizer.eos_token_id
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    n = 0
    with tmp.open("wb") as f:
        for doc in docs:
            ids = tokenizer(doc, add_special_tokens=False)["input_ids"]
            if not ids:
                continue
            arr = np.asarray([*ids, sep] if sep is not None else ids, dtype=np.int32)
            f.write(arr.tobytes())
            n += len(arr)
    tmp.replace(out)
    body = block_size - 2 if add_special else block_size
    blocks = n // body
    (out.with_suffix(".json")).write_text(json.dumps({"tokens": n, "block_size": block_size, "body": body,
                                                      "blocks": blocks, "add_special": add_special}))
    return blocks


class TokenBlocks:
    """Fixed-length blocks read from the packed token file (memory-mapped: only the rows asked for are read)."""

    def __init__(self, path: Path, tokenizer):
        meta = json.loads(path.with_suffix(".json").read_text())
        self.block_size, self.body, self.add_special = meta["block_size"], meta["body"], meta["add_special"]
        self.n = meta["blocks"]
        self.tokens = np.memmap(path, dtype=np.int32, mode="r", shape=(self.n * self.body,)).reshape(self.n,
                                                                                                     self.body)
        self.cls, self.sep = tokenizer.cls_token_id, tokenizer.sep_token_id
        if self.n == 0:
            raise DataError(f"the corpus has {meta['tokens']} tokens, less than one block of {self.body}",
                            field="method_args.block_size", fix="lower block_size or add text")

    def __len__(self) -> int:
        return self.n

    def get(self, idx: torch.Tensor) -> torch.Tensor:
        rows = torch.from_numpy(np.asarray(self.tokens[idx.cpu().numpy()])).long()
        if not self.add_special:
            return rows
        b = rows.shape[0]
        return torch.cat([torch.full((b, 1), self.cls), rows, torch.full((b, 1), self.sep)], dim=1)
